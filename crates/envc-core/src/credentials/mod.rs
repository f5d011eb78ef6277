//! Credentials: what looks like one, and a [`Redactor`] that masks every credential envc
//! has seen in any text it is about to show.
//!
//! Validation rejects a plaintext credential; the redactor guarantees more: once a value is
//! known to be a credential (found in any project file, even one that does not parse), no
//! output shows it. The CLI passes everything it prints through one redactor.

use std::sync::OnceLock;

use regex::Regex;

/// A credential shape recognisable from the value alone, with what to call it. Shapes are
/// also masked in any text envc prints, wherever it came from.
struct Shape {
    /// Text every match contains: a value without any is not compared with the pattern, and
    /// a pattern no value called for is never compiled (compiling all of them cost a fresh
    /// `check` 12 M instructions).
    hints: &'static [&'static str],
    pattern: &'static str,
    what: &'static str,
    compiled: OnceLock<Regex>,
}

impl Shape {
    const fn new(
        hints: &'static [&'static str],
        pattern: &'static str,
        what: &'static str,
    ) -> Shape {
        Shape {
            hints,
            pattern,
            what,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled pattern, when `text` holds one of the shape's hints. `present` is the
    /// ASCII characters of `text` ([`AsciiSet::of`]): a hint with a character `text` lacks
    /// is not searched for (most values lack `_`, `:` or capitals, and searching every value
    /// of a project for all 17 hints cost a `check` 1 M instructions).
    fn for_text(&self, text: &str, present: AsciiSet) -> Option<&Regex> {
        let holds = |hint: &&str| present.has_all(hint) && text.contains(*hint);
        self.hints.iter().any(holds).then(|| {
            self.compiled
                .get_or_init(|| Regex::new(self.pattern).expect("credential shape compiles"))
        })
    }
}

/// A set of ASCII characters.
#[derive(Clone, Copy)]
struct AsciiSet(u128);

impl AsciiSet {
    fn of(text: &str) -> AsciiSet {
        AsciiSet(
            text.bytes()
                .filter(u8::is_ascii)
                .fold(0, |set, b| set | 1 << b),
        )
    }

    /// Whether every character of `hint` (ASCII) is in the set.
    fn has_all(self, hint: &str) -> bool {
        let wanted = AsciiSet::of(hint).0;
        self.0 & wanted == wanted
    }
}

static SHAPES: [Shape; 11] = [
    // Userinfo with a password, the user empty or not: `redis://:pw@host`.
    Shape::new(
        &["://"],
        r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@",
        "a URL with a password",
    ),
    Shape::new(
        &["AKIA", "ASIA"],
        r"(?-u:\b)((?:AKIA|ASIA)[0-9A-Z]{16})(?-u:\b)",
        "an AWS access key id",
    ),
    Shape::new(
        &["PRIVATE KEY"],
        r"(-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*(?:-----END [A-Z ]*PRIVATE KEY-----)?)",
        "a private key",
    ),
    Shape::new(
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        r"(?-u:\b)((?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}))",
        "a GitHub token",
    ),
    Shape::new(
        &["glpat-"],
        r"(?-u:\b)(glpat-[A-Za-z0-9_-]{20,})",
        "a GitLab token",
    ),
    Shape::new(
        &["xox", "xapp-"],
        r"(?-u:\b)((?:xox[abeprs]|xapp)-[A-Za-z0-9-]{10,})",
        "a Slack token",
    ),
    Shape::new(
        &["k_live_", "k_test_"],
        r"(?-u:\b)((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})",
        "a Stripe secret key",
    ),
    Shape::new(
        &["AIza"],
        r"(?-u:\b)(AIza[0-9A-Za-z_-]{35})",
        "a Google API key",
    ),
    Shape::new(&["npm_"], r"(?-u:\b)(npm_[A-Za-z0-9]{36})", "an npm token"),
    Shape::new(
        &["SG."],
        r"(?-u:\b)(SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,})",
        "a SendGrid key",
    ),
    Shape::new(
        &["eyJ"],
        r"(?-u:\b)(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*)",
        "a JSON Web Token",
    ),
];

/// Words that make a key name a credential's when its value is random enough.
const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api-key",
    "api_key",
    "key",
    "credential",
    "auth",
    "signature",
    "salt",
];

/// Endings of key names that always hold credentials (compared without case).
const KEY_ENDINGS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api-key",
    "api_key",
    "privatekey",
    "private-key",
    "private_key",
    "accesskey",
    "access-key",
    "access_key",
    "credential",
    "credentials",
];

/// Model keys whose values name a secret rather than hold one.
const SECRET_NAMES: &[&str] = &["config-secret"];

/// Where a value was written: the key it is the value of, and whether it is inside a
/// `secret` reference (whose values name a secret, not hold one).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub key: &'a str,
    pub in_secret_reference: bool,
}

/// What `text` looks like, when it looks like a credential.
pub fn looks_like_credential(context: Context<'_>, text: &str) -> Option<&'static str> {
    if let Some(what) = shape_of(text) {
        return Some(what);
    }
    if text.is_empty()
        || context.in_secret_reference
        || SECRET_NAMES.contains(&context.key)
        || text.starts_with("arn:")
        || text.starts_with("{{resolve:")
        || text.contains("${")
    {
        return None;
    }
    let key = context.key.to_ascii_lowercase();
    if KEY_ENDINGS.iter().any(|ending| key.ends_with(ending)) {
        return Some("a password or token");
    }
    if looks_like_aws_secret_key(text) {
        return Some("an AWS secret access key");
    }
    // Most values are short: the length `is_high_entropy` needs is looked at first.
    if text.len() >= MIN_RANDOM_LEN
        && CREDENTIAL_WORDS.iter().any(|word| key.contains(word))
        && is_high_entropy(text)
    {
        return Some("a key or token");
    }
    None
}

/// [`looks_like_credential`] for a value a template writes under property `key`: by its
/// shape, or a password, token or secret by the property's name (`Password`,
/// `AuthToken`). Not by a name that merely holds a word like `key` with a random-looking
/// value: CloudFormation's names (`KmsKeyId`, `TagKeyValue`) hold such words, and their
/// values are ids.
pub fn written_in_template(key: &str, text: &str) -> Option<&'static str> {
    let context = Context {
        key,
        in_secret_reference: false,
    };
    let found = looks_like_credential(context, text)?;
    let by_name = found == "a key or token";
    (!by_name).then_some(found)
}

/// Whether `path` is a project kind's settings schema, whose defaults are values too.
pub fn is_kind_schema(path: &std::path::Path) -> bool {
    path.to_string_lossy().ends_with(".schema.json")
}

/// The string defaults under `value` (a schema, or part of one) that look like credentials,
/// `key` being the property `value` is the schema of. Schemas are bounded before they are
/// read (`envc::kind::definition`); the depth bound is for text that was not.
fn schema_defaults(value: &serde_json::Value, key: &str, depth: usize, found: &mut Vec<String>) {
    use serde_json::Value;
    if depth > 64 {
        return;
    }
    match value {
        Value::Object(object) => {
            for (name, inner) in object {
                match (name.as_str(), inner) {
                    ("properties", Value::Object(properties)) => {
                        for (property, schema) in properties {
                            schema_defaults(schema, property, depth + 1, found);
                        }
                    }
                    ("default" | "const" | "examples" | "enum", default) => {
                        default_strings(default, key, depth + 1, found)
                    }
                    (_, inner) => schema_defaults(inner, key, depth + 1, found),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                schema_defaults(item, key, depth + 1, found);
            }
        }
        _ => {}
    }
}

/// The strings of a default value that look like credentials, each under its own key.
fn default_strings(value: &serde_json::Value, key: &str, depth: usize, found: &mut Vec<String>) {
    use serde_json::Value;
    if depth > 64 {
        return;
    }
    match value {
        Value::String(text) => {
            let context = Context {
                key,
                in_secret_reference: false,
            };
            if looks_like_credential(context, text).is_some() {
                found.push(text.clone());
            }
        }
        Value::Array(items) => {
            for item in items {
                default_strings(item, key, depth + 1, found);
            }
        }
        Value::Object(object) => {
            for (name, inner) in object {
                default_strings(inner, name, depth + 1, found);
            }
        }
        _ => {}
    }
}

/// What `text` looks like when it has a credential's own shape (a token's prefix, an access
/// key id), whatever it is the value of: how a key (a variable's or tag's name) is judged.
pub fn shape_of(text: &str) -> Option<&'static str> {
    let present = AsciiSet::of(text);
    SHAPES
        .iter()
        .find(|shape| {
            shape
                .for_text(text, present)
                .is_some_and(|regex| regex.is_match(text))
        })
        .map(|shape| shape.what)
}

/// 40 characters of base64 with upper and lower case letters and digits: the shape of an
/// AWS secret access key (a git commit id is hex, and has no upper case).
fn looks_like_aws_secret_key(text: &str) -> bool {
    text.len() == 40
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && text.bytes().any(|b| b.is_ascii_uppercase())
        && text.bytes().any(|b| b.is_ascii_lowercase())
        && text.bytes().any(|b| b.is_ascii_digit())
}

/// The fewest characters a random key or token is taken to have.
const MIN_RANDOM_LEN: usize = 16;

/// At least 16 characters, no spaces, two of upper case, lower case and digits, and at
/// least 3.5 bits of entropy per character: a random string rather than a word, a name or
/// a path.
fn is_high_entropy(text: &str) -> bool {
    if text.len() < MIN_RANDOM_LEN || text.contains(char::is_whitespace) {
        return false;
    }
    let classes = [
        text.bytes().any(|b| b.is_ascii_uppercase()),
        text.bytes().any(|b| b.is_ascii_lowercase()),
        text.bytes().any(|b| b.is_ascii_digit()),
    ];
    if classes.iter().filter(|c| **c).count() < 2 {
        return false;
    }
    let mut counts = [0u32; 256];
    for b in text.bytes() {
        counts[b as usize] += 1;
    }
    let n = text.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
}

/// `text`, a value AWS reports at property `key` (drift's expected and actual values), with
/// what looks like a credential in it hidden: the value itself, or inside its JSON, a
/// mapping's value by its key and a `{"Name": …, "Value": …}` pair (a container's variable)
/// by its name.
pub fn hide_in_reported(key: &str, text: &str) -> String {
    const HIDDEN: &str = "(hidden: it looks like a credential)";
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut json @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) => {
            if hide_in_json(key, &mut json) {
                json.to_string()
            } else {
                text.to_string()
            }
        }
        _ => match looks_like_credential(
            Context {
                key,
                in_secret_reference: false,
            },
            text,
        ) {
            Some(_) => HIDDEN.to_string(),
            None => text.to_string(),
        },
    }
}

/// Hides the credentials in `json` (the value at `key`); whether it hid any.
fn hide_in_json(key: &str, json: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match json {
        Value::String(text) => {
            let found = looks_like_credential(
                Context {
                    key,
                    in_secret_reference: false,
                },
                text,
            );
            if found.is_some() {
                *text = "****".to_string();
            }
            found.is_some()
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |hid, item| hide_in_json(key, item) | hid),
        Value::Object(map) => {
            // A name-value pair: the value is judged by the name.
            let name = ["Name", "name"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .map(str::to_string);
            let mut hid = false;
            for (field, value) in map.iter_mut() {
                let judged_by = match (&name, field.as_str()) {
                    (Some(name), "Value" | "value") => name.as_str(),
                    _ => field.as_str(),
                };
                hid |= hide_in_json(judged_by, value);
            }
            hid
        }
        _ => false,
    }
}

mod redactor;

pub use redactor::Redactor;

#[cfg(test)]
mod tests;

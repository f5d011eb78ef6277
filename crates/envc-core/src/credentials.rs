//! Credentials: what looks like one, and a [`Redactor`] that masks every credential envc
//! has seen in any text it is about to show.
//!
//! Validation rejects a plaintext credential; the redactor guarantees more: once a value is
//! known to be a credential (found in any project file, even one that does not parse), no
//! output shows it. The CLI passes everything it prints through one redactor.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::parse::lexer::{self, Lexer, Token};
use crate::source::SourceMap;

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

fn shape_of(text: &str) -> Option<&'static str> {
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

/// Masks credentials in text about to be shown: every value it was told is one, and every
/// credential shape. Masks keep the byte length, so spans into masked text stay valid.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// Texts to mask, longest first (a value, and the forms it takes in JSON and GitHub
    /// annotations); `true` for a short one, masked only between the quotes around it.
    known: Vec<(String, bool)>,
    /// Keys whose values are composed into a credential through `${…}` (the `pw` of
    /// `"postgres://app:${tags.pw}@db"`): their values are credentials wherever written.
    composed_keys: Vec<String>,
}

/// Values this short are masked only where they stand quoted: a one-letter password must
/// not mask every `a` in a report.
const SHORT: usize = 4;

impl Redactor {
    /// Remembers `value` as a credential: it, and how JSON and GitHub annotations write it.
    pub fn learn(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json[1..json.len() - 1].to_string();
        let github = value
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        for form in [value.to_string(), json, github] {
            let known = if form.len() < SHORT {
                (format!("\"{form}\""), true)
            } else {
                (form, false)
            };
            if !self.known.contains(&known) {
                self.known.push(known);
            }
        }
        self.known.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    }

    /// Learns every credential written in the project's KDL files of `sources`, whether
    /// they parsed or not, and in its kinds' schema defaults.
    pub fn learn_sources(&mut self, sources: &SourceMap) {
        let texts: Vec<&str> = sources
            .files()
            .filter(|(_, file)| file.path.extension().is_some_and(|e| e == "kdl"))
            .map(|(_, file)| file.text.as_str())
            .collect();
        self.learn_kdl_texts(&texts);
        for (_, file) in sources.files() {
            if is_kind_schema(&file.path) {
                self.learn_json_schema(&file.text);
            }
        }
    }

    /// Learns every credential written in KDL texts that belong together (a project's
    /// files): those written as they are, and the values of keys that `${…}` references
    /// compose into a credential in any of the texts.
    pub fn learn_kdl_texts(&mut self, texts: &[&str]) {
        // Each text is scanned once (the scan is most of the cost).
        let scanned: Vec<Vec<ScannedValue>> =
            texts.iter().map(|t| KdlScanner::new(t).collect()).collect();
        for values in &scanned {
            for (raw, value) in credentials_in(values) {
                self.learn(raw);
                self.learn(&value);
            }
            for key in composed_keys(values) {
                if !self.composed_keys.contains(&key) {
                    self.composed_keys.push(key);
                }
            }
        }
        if self.composed_keys.is_empty() {
            return;
        }
        for token in scanned.iter().flatten() {
            if self.composed_keys.iter().any(|k| k == token.key) {
                self.learn(token.raw);
                self.learn(&unescape(token.raw));
            }
        }
    }

    /// Learns every credential written in one KDL text.
    pub fn learn_kdl(&mut self, text: &str) {
        for (raw, value) in scan_kdl(text) {
            self.learn(raw);
            self.learn(&value);
        }
    }

    /// Learns the credentials a JSON Schema (a project kind's) holds as defaults: a string
    /// `default` of a property whose name is a credential's, or shaped like one, at any
    /// depth. Text that is not JSON teaches nothing (the kind is refused anyway).
    pub fn learn_json_schema(&mut self, text: &str) {
        let Ok(schema) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        let mut found = Vec::new();
        schema_defaults(&schema, "", 0, &mut found);
        for value in found {
            self.learn(&value);
        }
    }

    /// `text` with every credential masked by `*`s of the same byte length.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for (known, quoted) in &self.known {
            for (at, _) in text.match_indices(known.as_str()) {
                let end = at + known.len();
                if *quoted {
                    ranges.push((at + 1, end - 1));
                } else if stands_alone(text, at, end) {
                    ranges.push((at, end));
                }
            }
        }
        let present = AsciiSet::of(text);
        for regex in SHAPES
            .iter()
            .filter_map(|shape| shape.for_text(text, present))
        {
            for found in regex.captures_iter(text) {
                if let Some(secret) = found.get(1) {
                    ranges.push((secret.start(), secret.end()));
                }
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut bytes = text.as_bytes().to_vec();
        for (start, end) in ranges {
            for b in &mut bytes[start..end] {
                // Continuation bytes of a masked character become `*` too: the text stays
                // UTF-8 and the same length.
                *b = b'*';
            }
        }
        Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Whether `text[start..end]` is not part of a longer word.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let first = bytes[start];
    let last = bytes[end - 1];
    let before_ok = start == 0 || !word(first) || !word(bytes[start - 1]);
    let after_ok = end == bytes.len() || !word(last) || !word(bytes[end]);
    before_ok && after_ok
}

/// The credentials in KDL text, found without parsing it (the file may not parse): each as
/// written between its quotes and as its value. Values are classified by the key they are
/// given to, as validation classifies merged values.
fn scan_kdl(text: &str) -> Vec<(&str, String)> {
    credentials_in(&KdlScanner::new(text).collect::<Vec<_>>())
}

/// [`scan_kdl`] of a text's scanned values.
fn credentials_in<'a>(values: &[ScannedValue<'a>]) -> Vec<(&'a str, String)> {
    let mut found = Vec::new();
    for token in values {
        let context = Context {
            key: token.key,
            in_secret_reference: token.in_secret,
        };
        let value = if token.is_raw {
            token.raw.to_string()
        } else {
            unescape(token.raw)
        };
        if looks_like_credential(context, &value).is_some() {
            found.push((token.raw, value));
        }
    }
    found
}

/// The last key of each `${path}` that a credential-looking value of a text (its scanned
/// `values`) holds: the values written under those keys are parts of a credential.
fn composed_keys(values: &[ScannedValue]) -> Vec<String> {
    let mut keys = Vec::new();
    for token in values {
        if !token.raw.contains('$') && !token.raw.contains('\\') {
            continue; // no `${`, even once unescaped
        }
        let value = unescape(token.raw);
        if !value.contains("${") {
            continue;
        }
        let context = Context {
            key: token.key,
            in_secret_reference: token.in_secret,
        };
        if looks_like_credential(context, &value).is_none() {
            continue;
        }
        let mut rest = value.as_str();
        while let Some(open) = rest.find("${") {
            let escaped = open > 0 && rest[..open].ends_with('$');
            let after = &rest[open + 2..];
            let Some(close) = after.find('}') else { break };
            if !escaped {
                let path = &after[..close];
                let last = path.rsplit('.').next().unwrap_or(path).trim_matches('"');
                if !last.is_empty() {
                    keys.push(last.to_string());
                }
            }
            rest = &after[close + 1..];
        }
    }
    keys
}

fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

struct ScannedValue<'a> {
    key: &'a str,
    raw: &'a str,
    is_raw: bool,
    in_secret: bool,
}

/// A forgiving walk over the shared lexer's tokens of KDL text: node names, property keys
/// and string values, with the blocks they are in. It never fails, and ends with the text.
struct KdlScanner<'a> {
    tokens: std::iter::Peekable<Lexer<'a>>,
    /// The node name of each open block.
    blocks: Vec<&'a str>,
    node: &'a str,
    at_node_start: bool,
    /// A `\` was seen: the next line break does not end the node.
    continued: bool,
}

impl<'a> KdlScanner<'a> {
    fn new(text: &'a str) -> Self {
        KdlScanner {
            tokens: Lexer::new(text).peekable(),
            blocks: Vec::new(),
            node: "",
            at_node_start: true,
            continued: false,
        }
    }

    /// Whether the next token (past spaces) is `=`: the atom just read is a property's key.
    fn before_equals(&mut self) -> bool {
        while self.tokens.next_if(|(_, t)| *t == Token::Space).is_some() {}
        matches!(self.tokens.peek(), Some((_, Token::Equals)))
    }
}

impl<'a> Iterator for KdlScanner<'a> {
    type Item = ScannedValue<'a>;

    fn next(&mut self) -> Option<ScannedValue<'a>> {
        let mut key: Option<&'a str> = None;
        while let Some((_, token)) = self.tokens.next() {
            match token {
                Token::Newline if self.continued => self.continued = false,
                Token::Newline | Token::Semicolon => {
                    self.at_node_start = true;
                    key = None;
                }
                Token::Continuation => self.continued = true,
                Token::Open => {
                    self.blocks.push(self.node);
                    self.at_node_start = true;
                }
                Token::Close => {
                    self.blocks.pop();
                    self.at_node_start = true;
                }
                Token::Atom(atom) => {
                    let string = lexer::string_body(atom);
                    let word = string.map_or(atom, |(body, _)| body);
                    if self.at_node_start {
                        self.node = word;
                        self.at_node_start = false;
                    } else if self.before_equals() {
                        key = Some(word);
                    } else if string.is_some() || is_bare_string(atom) {
                        return Some(ScannedValue {
                            key: key.unwrap_or(self.node),
                            raw: word,
                            is_raw: string.is_some_and(|(_, raw)| raw),
                            in_secret: self.node == "secret" || self.blocks.contains(&"secret"),
                        });
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// A bare identifier given as a value (not a number or a keyword like `#true`).
fn is_bare_string(atom: &str) -> bool {
    !atom.starts_with(|c: char| c == '#' || c.is_ascii_digit() || "-+.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn for_text<'a>(shape: &'a Shape, text: &str) -> Option<&'a Regex> {
        shape.for_text(text, AsciiSet::of(text))
    }

    #[test]
    fn every_shape_compiles_and_only_for_text_with_its_hint() {
        for shape in &SHAPES {
            assert!(
                for_text(shape, "plain words, high throughput").is_none(),
                "{}",
                shape.what
            );
            for hint in shape.hints {
                assert!(hint.is_ascii(), "{hint}: `AsciiSet` holds ASCII hints only");
                assert!(for_text(shape, hint).is_some(), "{}", shape.what);
                let among_others = format!("é {hint}é x");
                assert!(for_text(shape, &among_others).is_some(), "{among_others}");
                let short_of_one = &hint[..hint.len() - 1];
                if !shape.hints.iter().any(|h| short_of_one.contains(h)) {
                    assert!(for_text(shape, short_of_one).is_none(), "{short_of_one}");
                }
            }
        }
    }

    fn plain(key: &str) -> Context<'_> {
        Context {
            key,
            in_secret_reference: false,
        }
    }

    #[test]
    fn recognises_credentials_without_flagging_references() {
        let flagged = [
            ("DATABASE_URL", "postgres://app:hunter2@db:5432/app"),
            ("CACHE_URL", "redis://:hunter2@cache:6379"),
            ("x", "AKIAABCDEFGHIJKLMNOP"),
            ("note", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ("DB_PASSWORD", "s3cret"),
            ("x", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            ("x", "xoxb-1234567890-abcdefghij"),
            ("x", "sk_live_abcdefghijklmnop1234"),
            ("x", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
            ("signing-key-id", "q8Zp3LkT9vX2mW7rN4bY"),
        ];
        for (key, value) in flagged {
            assert!(
                looks_like_credential(plain(key), value).is_some(),
                "{key} {value}"
            );
        }
        let harmless = [
            ("domain", "api.example.com"),
            ("DATABASE_URL", "postgres://db:5432/app"),
            ("config-secret", "balancer-prod-config"),
            ("image-tag", "3f786850e387550fdab836ed7e6dc881de23001b"),
            ("key", "DATABASE_URL"),
            ("health-check", "/health"),
            ("api-key-name", "balancer-prod-api-key"),
        ];
        for (key, value) in harmless {
            assert!(
                looks_like_credential(plain(key), value).is_none(),
                "{key} {value}"
            );
        }
        let reference = Context {
            key: "from",
            in_secret_reference: true,
        };
        assert!(looks_like_credential(reference, "balancer-prod-config").is_none());
    }

    #[test]
    fn masks_known_values_and_shapes_keeping_length() {
        let mut redactor = Redactor::default();
        redactor.learn("hunter2");
        redactor.learn("a");
        let text =
            "password \"hunter2\" and hunter22 and \"a\" a url redis://:pw@h AKIAABCDEFGHIJKLMNOP";
        let masked = redactor.mask(text);
        assert_eq!(masked.len(), text.len());
        assert_eq!(
            masked,
            "password \"*******\" and hunter22 and \"*\" a url redis://:**@h ********************"
        );
    }

    #[test]
    fn finds_credentials_in_text_that_does_not_parse() {
        let text = "network {\n  cidr 10.0.0\n}\nservice \"api\" {\n  env { DB_PASSWORD \"p\\\"w\" }\n  secret \"DATABASE_URL\" from=\"x-config\" key=\"DATABASE_URL\"\n  token=#\"raw-tok\"#\n  url \"redis://:pw@h\" {\n";
        let found: Vec<String> = scan_kdl(text).into_iter().map(|(_, v)| v).collect();
        assert_eq!(found, vec!["p\"w", "raw-tok", "redis://:pw@h"]);
    }
}

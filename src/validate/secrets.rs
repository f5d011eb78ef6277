//! No plaintext credentials: a literal that looks like a password, token or key is an error,
//! and its text is never repeated in the diagnostic.

use std::sync::LazyLock;

use regex::Regex;

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{ResolvedEnv, Table, Value};

/// Credential shapes recognisable from the value alone.
static VALUE_PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",
            "a URL with a password",
        ),
        (
            r"(?-u:\b)(AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)",
            "an AWS access key id",
        ),
        (r"-----BEGIN [A-Z ]*PRIVATE KEY-----", "a private key"),
        (
            r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,}(?-u:\b)",
            "a GitHub token",
        ),
        (r"(?-u:\b)xox[abprs]-[A-Za-z0-9-]{10,}", "a Slack token"),
        (
            r"(?-u:\b)[rs]k_live_[A-Za-z0-9]{16,}",
            "a Stripe secret key",
        ),
        (
            r"(?-u:\b)eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.",
            "a JSON Web Token",
        ),
    ]
    .into_iter()
    .map(|(pattern, what)| {
        (
            Regex::new(pattern).expect("credential pattern compiles"),
            what,
        )
    })
    .collect()
});

/// Text every credential shape above contains: values without any of it are not compared
/// with the patterns (nor are the patterns compiled, in a run that never meets one).
const VALUE_HINTS: &[&str] = &[
    "://",
    "AKIA",
    "ASIA",
    "PRIVATE KEY",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "xox",
    "k_live_",
    "eyJ",
];

/// Endings of key names that hold credentials (compared without case).
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

fn names_a_credential(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    KEY_ENDINGS.iter().any(|ending| key.ends_with(ending))
}

/// Model keys whose values name a secret rather than hold one.
const SECRET_NAMES: &[&str] = &["config-secret"];

pub fn check_plaintext(env: &ResolvedEnv, out: &mut Vec<Diagnostic>) {
    walk(&env.root, "", false, &env.name, out);
}

fn walk(table: &Table, path: &str, under_secret: bool, env: &str, out: &mut Vec<Diagnostic>) {
    for (key, entry) in &table.entries {
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let is_ref_table = under_secret || key == "secret";
        match &entry.value {
            Value::Table(t) => walk(t, &child, is_ref_table, env, out),
            Value::Scalar(scalar) => {
                let Some(text) = scalar.value.as_str() else {
                    continue;
                };
                if let Some(what) = looks_like_credential(key, text, under_secret) {
                    let mut diagnostic = Diagnostic::error(
                        Code::PlaintextSecret,
                        format!("`{child}` looks like {what} written in plain text"),
                    )
                    .at(scalar.origin.span, "plaintext credential (value hidden)")
                    .redacting(scalar.origin.span)
                    .help(format!(
                        "store it in Secrets Manager and reference it, like `secret \"{}\" from=\"<secret-name>\" key=\"<json-key>\"`; then rotate it, since it was committed",
                        key.to_uppercase().replace('-', "_")
                    ));
                    if &*scalar.origin.env != env {
                        diagnostic = diagnostic.note(format!("inherited by environment `{env}`"));
                    }
                    out.push(diagnostic);
                }
            }
            Value::List(list) => {
                for item in &list.items {
                    let Some(text) = item.value.as_str() else {
                        continue;
                    };
                    if let Some(what) = looks_like_credential("", text, false) {
                        out.push(
                            Diagnostic::error(
                                Code::PlaintextSecret,
                                format!("`{child}` holds {what} written in plain text"),
                            )
                            .at(item.origin.span, "plaintext credential (value hidden)")
                            .redacting(item.origin.span)
                            .help("store it in Secrets Manager and reference it with `secret`"),
                        );
                    }
                }
            }
        }
    }
}

/// What the value looks like, when it looks like a credential.
fn looks_like_credential(key: &str, text: &str, under_secret: bool) -> Option<&'static str> {
    if VALUE_HINTS.iter().any(|hint| text.contains(hint)) {
        if let Some((_, what)) = VALUE_PATTERNS.iter().find(|(re, _)| re.is_match(text)) {
            return Some(what);
        }
    }
    let names_a_credential =
        names_a_credential(key) && !SECRET_NAMES.contains(&key) && !under_secret;
    if names_a_credential
        && !text.is_empty()
        && !text.starts_with("arn:")
        && !text.starts_with("{{resolve:")
    {
        return Some("a password or token");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_credentials_without_flagging_references() {
        assert!(
            looks_like_credential("DATABASE_URL", "postgres://app:hunter2@db:5432/app", false)
                .is_some()
        );
        assert!(looks_like_credential("x", "AKIAABCDEFGHIJKLMNOP", false).is_some());
        assert!(looks_like_credential("DB_PASSWORD", "s3cret", false).is_some());
        assert!(looks_like_credential("from", "balancer-prod-config", true).is_none());
        assert!(looks_like_credential("config-secret", "balancer-prod-config", false).is_none());
        assert!(looks_like_credential("DATABASE_URL", "postgres://db:5432/app", false).is_none());
        assert!(looks_like_credential("domain", "api.example.com", false).is_none());
    }
}

//! No plaintext credentials: a literal that looks like a password, token or key is an error,
//! and its text is never repeated in the diagnostic.

use crate::credentials::{looks_like_credential, shape_of, Context};
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{ResolvedEnv, Table, Value};

pub fn check_plaintext(env: &ResolvedEnv, out: &mut Vec<Diagnostic>) {
    walk(&env.root, "", false, &env.name, out);
}

/// Whether `key` could have a credential's shape at all: every shape is 15 characters or
/// more, or holds a capital, `_`, `.` or `:`. Most keys (`cidr`, `visibility-timeout`) are
/// neither, and are not compared with the shapes.
fn could_be_a_shape(key: &str) -> bool {
    key.len() >= 15
        || key
            .bytes()
            .any(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
}

/// A key (a variable's or a tag's name) that is a credential: it is written out as
/// plainly as a value, so it is refused the same way, and never named.
fn key_credential(path: &str, what: &str, at: crate::source::Span) -> Diagnostic {
    let within = if path.is_empty() {
        "the environment".to_string()
    } else {
        format!("`{path}`")
    };
    Diagnostic::error(
        Code::PlaintextSecret,
        format!("a key in {within} looks like {what} written in plain text"),
    )
    .at(at, "plaintext credential (key hidden)")
    .help("a name is rendered into the template as written: keep the credential in Secrets Manager, reference it with `secret`, and rotate it, since it was committed")
}

fn walk(table: &Table, path: &str, under_secret: bool, env: &str, out: &mut Vec<Diagnostic>) {
    for (key, entry) in &table.entries {
        // Made only where needed: most values are neither tables nor credentials.
        let child = || {
            if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            }
        };
        let is_ref_table = under_secret || key == "secret";
        if let Some(what) = could_be_a_shape(key).then(|| shape_of(key)).flatten() {
            out.push(key_credential(path, what, entry.key_span));
        }
        match &entry.value {
            Value::Table(t) => walk(t, &child(), is_ref_table, env, out),
            Value::Scalar(scalar) => {
                let Some(text) = scalar.value.as_str() else {
                    continue;
                };
                let context = Context {
                    key,
                    in_secret_reference: under_secret,
                };
                if let Some(what) = looks_like_credential(context, text) {
                    let mut diagnostic = Diagnostic::error(
                        Code::PlaintextSecret,
                        format!("`{}` looks like {what} written in plain text", child()),
                    )
                    .at(scalar.origin.span, "plaintext credential (value hidden)")
                    .help(format!(
                        "store it in Secrets Manager and reference it, like `secret \"{}\" from=\"<secret-name>\" key=\"<json-key>\"`; then rotate it, since it was committed",
                        key.to_uppercase().replace('-', "_")
                    ));
                    if &*scalar.origin.env != env {
                        diagnostic = diagnostic.inherited_by(env);
                    }
                    out.push(diagnostic);
                }
            }
            Value::List(list) => {
                for item in &list.items {
                    let Some(text) = item.value.as_str() else {
                        continue;
                    };
                    let context = Context {
                        key: "",
                        in_secret_reference: false,
                    };
                    if let Some(what) = looks_like_credential(context, text) {
                        out.push(
                            Diagnostic::error(
                                Code::PlaintextSecret,
                                format!("`{}` holds {what} written in plain text", child()),
                            )
                            .at(item.origin.span, "plaintext credential (value hidden)")
                            .help("store it in Secrets Manager and reference it with `secret`"),
                        );
                    }
                }
            }
        }
    }
}

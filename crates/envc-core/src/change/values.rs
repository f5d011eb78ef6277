//! Template values as a reviewer reads them: one line each, credentials masked, and the
//! leaves where two values differ.

use crate::render::yaml::Yaml;

/// Longest value shown in full; longer ones are cut with `…`.
const MAX_SHOWN: usize = 160;

/// Property names whose values are secrets however they look.
const SECRET_NAMES: &[&str] = &[
    "password",
    "secretstring",
    "authtoken",
    "privatekey",
    "secretaccesskey",
    "token",
];

/// `value` on one line, like `!Ref Subnet`, `[a, b]`, `{Key: v}`.
pub fn one_line(value: &Yaml) -> String {
    one_line_at("", value)
}

/// [`one_line`] of the value of `key`: a text that looks like a credential for its key (or,
/// in a `{Name: …, Value: …}` pair, for its name) is shown as `****`.
fn one_line_at(key: &str, value: &Yaml) -> String {
    let mut out = String::new();
    write(key, value, &mut out);
    if out.chars().count() > MAX_SHOWN {
        let cut: String = out.chars().take(MAX_SHOWN - 1).collect();
        return format!("{cut}…");
    }
    out
}

fn write(key: &str, value: &Yaml, out: &mut String) {
    match value {
        Yaml::Null => out.push_str("null"),
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Number(n) => out.push_str(&n.to_string()),
        Yaml::String(s) => {
            let context = crate::credentials::Context {
                key,
                in_secret_reference: false,
            };
            match crate::credentials::looks_like_credential(context, s) {
                Some(_) => out.push_str("****"),
                None => out.push_str(s),
            }
        }
        Yaml::Sequence(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(key, item, out);
            }
            out.push(']');
        }
        Yaml::Mapping(map) => {
            // A container's variable, `{Name: DB_PASSWORD, Value: …}`: its value is judged by
            // its name.
            let name = map.get("Name").and_then(Yaml::as_str);
            out.push('{');
            for (i, (entry, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write("", entry, out);
                out.push_str(": ");
                let judged_by = match (entry.as_str(), name) {
                    (Some("Value"), Some(name)) => name,
                    (Some(entry), _) => entry,
                    (None, _) => "",
                };
                write(judged_by, item, out);
            }
            out.push('}');
        }
        Yaml::Tagged(tag, inner) => {
            out.push_str(tag);
            out.push(' ');
            write(key, inner, out);
        }
    }
}

/// Whether the value at `path` is a secret by its name (`MasterUserPassword`).
pub fn is_secret_path(path: &str) -> bool {
    let leaf = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    SECRET_NAMES.iter().any(|name| leaf.ends_with(name))
}

/// A value as shown in a change: masked when its name says it is a secret.
pub fn shown(path: &str, value: &Yaml) -> String {
    if is_secret_path(path) {
        "(secret, not shown)".to_string()
    } else {
        let leaf = path.rsplit(['.', '[']).next().unwrap_or(path);
        one_line_at(leaf, value)
    }
}

/// The paths below `path` where `before` and `after` differ, with both values (`None` where
/// one side lacks it). Mappings are compared key by key and sequences of the same length
/// item by item; anything else is one difference.
pub fn differences<'v, 'a>(
    path: &str,
    before: Option<&'v Yaml<'a>>,
    after: Option<&'v Yaml<'a>>,
    out: &mut Vec<(String, Option<&'v Yaml<'a>>, Option<&'v Yaml<'a>>)>,
) {
    if before == after {
        return;
    }
    match (before, after) {
        (Some(Yaml::Mapping(old)), Some(Yaml::Mapping(new))) => {
            let mut keys: Vec<&str> = old.keys().filter_map(Yaml::as_str).collect();
            for key in new.keys().filter_map(Yaml::as_str) {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            for key in keys {
                let child = join(path, key);
                differences(&child, old.get(key), new.get(key), out);
            }
        }
        (Some(Yaml::Sequence(old)), Some(Yaml::Sequence(new))) if old.len() == new.len() => {
            for (i, (o, n)) in old.iter().zip(new).enumerate() {
                differences(&format!("{path}[{i}]"), Some(o), Some(n), out);
            }
        }
        _ => out.push((path.to_string(), before, after)),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The value at a dotted path (`Budget.BudgetName`) below `node`.
pub fn at<'v, 'a>(node: Option<&'v Yaml<'a>>, path: &str) -> Option<&'v Yaml<'a>> {
    path.split('.').try_fold(node?, |node, part| node.get(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::yaml::parse_again;

    #[test]
    fn differences_go_down_to_the_leaves_that_differ() {
        let old = parse_again("A: {B: 1, C: [x, y]}\nD: 1").unwrap();
        let new = parse_again("A: {B: 2, C: [x, z]}\nD: 1\nE: !Ref X").unwrap();
        let mut out = Vec::new();
        differences("", Some(&old), Some(&new), &mut out);
        let shown: Vec<String> = out
            .iter()
            .map(|(p, b, a)| {
                format!(
                    "{p}: {} -> {}",
                    b.map(one_line).unwrap_or_default(),
                    a.map(one_line).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(shown, ["A.B: 1 -> 2", "A.C[1]: y -> z", "E:  -> !Ref X"]);
    }

    #[test]
    fn secrets_are_known_by_their_names() {
        assert!(is_secret_path("MasterUserPassword"));
        assert!(is_secret_path("Environment[0].AuthToken"));
        assert!(!is_secret_path("MasterUserSecret.SecretArn"));
        assert_eq!(
            shown("MasterUserPassword", &Yaml::str("hunter22")),
            "(secret, not shown)"
        );
    }

    /// A variable's value is judged by its name, and a property's by its own: a committed
    /// password read back from the base's golden files is not shown.
    #[test]
    fn credentials_inside_values_are_masked() {
        let text = "E:\n  - Name: DB_PASSWORD\n    Value: Tr0ub4dor-and-3-horses\n  - Name: MODE\n    Value: fast\n";
        let tree = parse_again(text).unwrap();
        let variables = shown("Environment", tree.get("E").unwrap());
        assert!(!variables.contains("Tr0ub4dor"), "{variables}");
        assert!(variables.contains("fast"), "{variables}");
        assert_eq!(
            shown("SigningKey", &Yaml::str("k8s-x9QzLm2vN4pR7tW1yB3c")),
            "****"
        );
    }
}

//! No credential written into a template: a property value that looks like one (by its
//! shape, or a password or token by its property's name) is refused where the template wrote
//! it, as a setting holding one is, since the golden files and the stack would hold it in
//! plain text. A value read at deploy time (`{{resolve:…}}`, `!Ref`, `!Sub`) is none.

use super::Locator;
use crate::credentials::written_in_template;
use crate::diagnostic::{Code, Diagnostic};
use crate::render::yaml::{Mapping, Yaml};

/// Checks every resource's properties and every output's value.
pub(super) fn check_credentials(
    resources: Option<&Mapping>,
    outputs: Option<&Mapping>,
    at: &Locator,
    out: &mut Vec<Diagnostic>,
) {
    for (_, resource) in resources.into_iter().flatten() {
        if let Some(properties) = resource.get("Properties") {
            walk("", properties, at, out);
        }
    }
    for (_, output) in outputs.into_iter().flatten() {
        if let Some(value) = output.get("Value") {
            walk("Value", value, at, out);
        }
    }
}

/// The plain strings of `value` (the value of `key`); a name-value pair's value is judged by
/// its name, as a container's variable is.
fn walk(key: &str, value: &Yaml, at: &Locator, out: &mut Vec<Diagnostic>) {
    match value {
        Yaml::String(text) => {
            if let Some(what) = written_in_template(key, text) {
                out.push(
                    Diagnostic::error(
                        Code::PlaintextSecret,
                        format!("the template writes {what} in plain text"),
                    )
                    .at(at.at(text), "plaintext credential (value hidden)")
                    .hiding(text)
                    .help("keep it in Secrets Manager and read it at deploy time, like `{{resolve:secretsmanager:NAME:SecretString:KEY}}`; then rotate it, since it was committed"),
                );
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|item| walk(key, item, at, out)),
        Yaml::Mapping(map) => {
            // A name-value pair (`{Name: …, Value: …}`, a tag's or attribute's `{Key: …,
            // Value: …}`): the name is no credential's key, and the value is judged by it.
            let name = ["Name", "Key"]
                .iter()
                .find_map(|k| map.get(k).and_then(Yaml::as_str));
            for (entry, item) in map.iter() {
                let judged_by = match (entry.as_str(), name) {
                    (Some("Value"), Some(name)) => name,
                    (Some("Name" | "Key"), Some(_)) => "",
                    (Some(entry), _) => entry,
                    (None, _) => "",
                };
                walk(judged_by, item, at, out);
            }
        }
        // `!Sub`, `!Join`, `!Ref` and the like: read at deploy time, or built of parts.
        Yaml::Tagged(..) | Yaml::Null | Yaml::Bool(_) | Yaml::Number(_) => {}
    }
}

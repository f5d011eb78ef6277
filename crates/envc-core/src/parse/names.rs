//! The names a project gives its parts, and the environments it has on disk: environment
//! and project names become parts of AWS names, so they keep to what every AWS name takes.

use std::path::Path;

/// The longest environment name: with a project name of 32 and a stack name, it stays in
/// a CloudFormation stack name's 128 characters, and every name the built-ins derive from it
/// fits AWS's limits (those that would not are shortened with a hash; see `fit`).
pub const MAX_ENV_NAME: usize = 40;

/// The names of the environment files on disk (`env/NAME.kdl`), sorted: what a command that
/// names environments offers when one is unknown.
pub fn env_names_on_disk(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("env"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            Some(name.strip_suffix(".kdl")?.to_string())
        })
        .collect();
    names.sort();
    names
}

/// The longest project name.
pub const MAX_PROJECT_NAME: usize = 32;

/// Environment names become part of CloudFormation stack names.
pub fn is_env_name(name: &str) -> bool {
    is_name_part(name, MAX_ENV_NAME)
}

/// Project names start every stack name.
pub fn is_project_name(name: &str) -> bool {
    is_name_part(name, MAX_PROJECT_NAME)
}

/// A part of the names envc gives AWS resources, joined to the others by `-`: lowercase
/// letters and digits with single hyphens between them, starting with a letter. A hyphen at
/// the end, or two in a row, would put two in a row in every name made of it, which AWS
/// refuses for RDS identifiers (and a hyphen at the end for load balancers).
fn is_name_part(name: &str, longest: usize) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name.len() <= longest
}

//! The built-in stack kinds' templates, compiled into the binary.

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../../builtin/", $name))),)*]
    };
}

/// The name prefix that always means the built-in template, even where the project
/// overrides it (`builtin/service.yaml.j2`).
pub const PREFIX: &str = "builtin/";

/// (template name, text) of every built-in template.
pub const TEMPLATES: &[(&str, &str)] = builtin![
    "_macros.j2",
    "network.yaml.j2",
    "cluster.yaml.j2",
    "registry.yaml.j2",
    "dns.yaml.j2",
    "artifacts.yaml.j2",
    "config-secret.yaml.j2",
    "database.yaml.j2",
    "queues.yaml.j2",
    "service.yaml.j2",
    "worker.yaml.j2",
    "waf.yaml.j2",
    "migration.yaml.j2",
    "monitoring.yaml.j2",
    "ci-role.yaml.j2",
];

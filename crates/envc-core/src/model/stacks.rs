//! The typed model of `stacks.kdl`: the project, its default region and tags, and its stacks.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "envc stacks")]
pub struct StacksConfig {
    /// Project name: the first part of every stack and export name.
    #[schemars(pattern(r"^[a-z](-?[a-z0-9])*$"), length(max = 32))]
    pub project: String,
    /// Default region for environments that set none.
    pub region: Option<String>,
    /// Tags on every stack of every environment.
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "dictionary"))]
    pub tags: IndexMap<String, String>,
    /// Whether the project commits its renders under `golden/` (the default). A project
    /// with stacks and no `golden/` folder fails `check` unless this says `#false`.
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub golden: bool,
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "keyed"))]
    pub stack: IndexMap<String, Stack>,
}

fn yes() -> bool {
    true
}

/// One CloudFormation stack per environment.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Stack {
    /// A built-in stack kind, or one of the project's (`kinds/<name>.yaml.j2` with
    /// `kinds/<name>.schema.json` for its settings).
    pub kind: Option<Kind>,
    /// A project template under `templates/`, instead of a kind.
    pub template: Option<String>,
    /// Stacks whose outputs this one imports; they deploy first.
    #[serde(default)]
    pub needs: Vec<String>,
    /// For `service` and `worker` stacks: which one of the environment's.
    pub service: Option<String>,
    pub worker: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StackKind {
    Network,
    Cluster,
    Database,
    Queues,
    Service,
    Worker,
    Registry,
    Dns,
    ConfigSecret,
    Artifacts,
    Waf,
    Migration,
    Monitoring,
    CiRole,
}

/// What a stack renders: a built-in kind, or a kind of the project's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Builtin(StackKind),
    /// `kinds/<name>.yaml.j2`, its settings described by `kinds/<name>.schema.json`.
    Project(String),
}

impl Kind {
    pub fn name(&self) -> String {
        match self {
            Kind::Builtin(kind) => kind.name(),
            Kind::Project(name) => name.clone(),
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(
            match serde_json::from_value::<StackKind>(serde_json::Value::String(name.clone())) {
                Ok(builtin) => Kind::Builtin(builtin),
                Err(_) => Kind::Project(name),
            },
        )
    }
}

impl JsonSchema for Kind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Kind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A built-in kind (network, cluster, database, queues, service, worker, registry, dns, config-secret, artifacts, waf, migration, monitoring, ci-role) or a project kind under `kinds/`.",
            "type": "string",
            "pattern": "^[a-z][a-z0-9-]{0,63}$"
        })
    }
}

impl StackKind {
    /// The kind's name as written in `stacks.kdl` (its serde name; a test holds them equal).
    pub fn as_str(self) -> &'static str {
        match self {
            StackKind::Network => "network",
            StackKind::Cluster => "cluster",
            StackKind::Database => "database",
            StackKind::Queues => "queues",
            StackKind::Service => "service",
            StackKind::Worker => "worker",
            StackKind::Registry => "registry",
            StackKind::Dns => "dns",
            StackKind::ConfigSecret => "config-secret",
            StackKind::Artifacts => "artifacts",
            StackKind::Waf => "waf",
            StackKind::Migration => "migration",
            StackKind::Monitoring => "monitoring",
            StackKind::CiRole => "ci-role",
        }
    }

    pub fn name(self) -> String {
        self.as_str().to_owned()
    }

    /// The built-in template of the kind.
    pub fn template_name(self) -> String {
        [self.as_str(), ".yaml.j2"].concat()
    }
}

impl Stack {
    /// Its built-in kind, if it has one.
    pub fn builtin(&self) -> Option<StackKind> {
        match &self.kind {
            Some(Kind::Builtin(kind)) => Some(*kind),
            _ => None,
        }
    }

    /// Its project kind's name, if it has one.
    pub fn project_kind(&self) -> Option<&str> {
        match &self.kind {
            Some(Kind::Project(name)) => Some(name),
            _ => None,
        }
    }

    /// The template this stack renders: its kind's built-in (or the project's override of
    /// it), or a project template.
    pub fn template_name(&self) -> Option<String> {
        match (&self.kind, &self.template) {
            (Some(Kind::Builtin(kind)), _) => Some(kind.template_name()),
            (Some(Kind::Project(name)), _) => Some(format!("kinds/{name}.yaml.j2")),
            (None, Some(template)) => Some(template.clone()),
            (None, None) => None,
        }
    }
}

impl StacksConfig {
    /// `present` stacks in dependency waves: each wave needs only stacks of earlier waves.
    /// Needs on stacks not present are ignored. Assumes no cycles (validation rejects them).
    pub fn waves<'a>(&'a self, present: &[&'a str]) -> Vec<Vec<&'a str>> {
        let mut placed: Vec<&str> = Vec::new();
        let mut waves = Vec::new();
        while placed.len() < present.len() {
            let wave: Vec<&str> = present
                .iter()
                .copied()
                .filter(|name| !placed.contains(name))
                .filter(|name| {
                    self.stack[*name]
                        .needs
                        .iter()
                        .all(|n| !present.contains(&n.as_str()) || placed.contains(&n.as_str()))
                })
                .collect();
            if wave.is_empty() {
                break;
            }
            placed.extend(&wave);
            waves.push(wave);
        }
        waves
    }

    /// Every stack `name` needs, directly or through others.
    pub fn needs_closure(&self, name: &str) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        let mut todo: Vec<&str> = self
            .stack
            .get(name)
            .map(|s| s.needs.iter().map(String::as_str).collect())
            .unwrap_or_default();
        while let Some(next) = todo.pop() {
            if found.contains(&next) || next == name {
                continue;
            }
            found.push(next);
            if let Some(stack) = self.stack.get(next) {
                todo.extend(stack.needs.iter().map(String::as_str));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` says each kind's serde name: every name the schema lists reads back as a
    /// kind that says it.
    #[test]
    fn each_kind_says_its_serde_name() {
        let schema = serde_json::to_value(schemars::schema_for!(StackKind)).unwrap();
        let names = schema["enum"].as_array().expect("the kinds' names");
        assert_eq!(names.len(), 14);
        for name in names {
            let kind: StackKind = serde_json::from_value(name.clone()).unwrap();
            assert_eq!(kind.as_str(), name.as_str().unwrap());
        }
    }
}

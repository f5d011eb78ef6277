//! The typed model of `stacks.kdl`: the project, its default region and tags, and its stacks.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "envc stacks")]
pub struct StacksConfig {
    /// Project name: the first part of every stack and export name.
    #[schemars(pattern(r"^[a-z][a-z0-9-]{0,31}$"))]
    pub project: String,
    /// Default region for environments that set none.
    pub region: Option<String>,
    /// Tags on every stack of every environment.
    #[serde(default)]
    pub tags: IndexMap<String, String>,
    /// Whether the project commits its renders under `golden/` (the default). A project
    /// with stacks and no `golden/` folder fails `check` unless this says `#false`.
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub golden: bool,
    #[serde(default)]
    pub stack: IndexMap<String, Stack>,
}

fn yes() -> bool {
    true
}

/// One CloudFormation stack per environment.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Stack {
    /// A built-in stack kind.
    pub kind: Option<StackKind>,
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

impl StackKind {
    /// The built-in template of the kind.
    pub fn template_name(self) -> String {
        let kebab = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        format!("{kebab}.yaml.j2")
    }
}

impl Stack {
    /// The template this stack renders: its kind's built-in (or the project's override of
    /// it), or a project template.
    pub fn template_name(&self) -> Option<String> {
        match (&self.kind, &self.template) {
            (Some(kind), _) => Some(kind.template_name()),
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

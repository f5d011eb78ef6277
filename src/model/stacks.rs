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
    #[serde(default)]
    pub stack: IndexMap<String, Stack>,
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

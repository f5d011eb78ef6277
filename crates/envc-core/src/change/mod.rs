//! Change: what a change to the project does in AWS. Compares two renderings of every
//! environment (the golden files at a base, usually a git ref, and the project as rendered
//! now) stack by stack and resource by resource, and predicts for each changed resource
//! whether CloudFormation updates it in place, may replace it, or will replace it.
//!
//! The prediction is offline and follows the resource provider schemas: a changed
//! create-only property replaces the resource, a conditional one may, and a create-only
//! property that refers to a replaced resource (`Ref`, `GetAtt`, `Sub`, or an import of an
//! output that does) is replaced with it, however unchanged its text. It reads only the two
//! sets of texts it is given and changes nothing.

pub mod baseline;
pub mod comment;
mod compare;
mod iam;
mod values;

use std::collections::BTreeMap;

pub use baseline::{BaseRef, Baseline};
pub use compare::compare;

/// The rendered texts of a project: environment → stack → template text.
pub type Texts<'a> = BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>;

/// What one environment's change does.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvChange {
    pub env: String,
    /// The environment is new (no golden files at the base) or gone (none now).
    pub status: Status,
    pub stacks: Vec<StackChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Added,
    Changed,
    Deleted,
}

/// What changes in one stack.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StackChange {
    pub stack: String,
    pub status: Status,
    pub resources: Vec<ResourceChange>,
    /// Outputs, parameters or other template sections changed (not resources).
    pub other_sections: Vec<String>,
}

/// What happens to one resource.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResourceChange {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub action: Action,
    /// Whether it holds data that a replacement or deletion loses (a database, bucket, …).
    pub stateful: bool,
    pub properties: Vec<PropertyChange>,
    /// Why it is replaced, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Permissions it grants that it did not grant before (IAM roles and policies, resource
    /// policies): `action on resource` or `principal: action`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<Grant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Add,
    Update,
    MayReplace,
    Replace,
    Delete,
}

impl Action {
    /// Replaced or deleted, or may be: what a reviewer must see first.
    pub fn is_risky(self) -> bool {
        matches!(self, Action::MayReplace | Action::Replace | Action::Delete)
    }

    pub fn verb(self) -> &'static str {
        match self {
            Action::Add => "added",
            Action::Update => "updated in place",
            Action::MayReplace => "may be replaced",
            Action::Replace => "will be replaced",
            Action::Delete => "deleted",
        }
    }
}

/// One changed property (or resource attribute, like `DeletionPolicy`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PropertyChange {
    /// Path under `Properties`, like `Policies[0].PolicyDocument`; an attribute outside
    /// `Properties` is written as itself (`DeletionPolicy`).
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub effect: Effect,
}

/// What a property's change does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    InPlace,
    MayReplace,
    Replace,
}

/// Why a resource is replaced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "because")]
pub enum Cause {
    /// Its type changed under the same logical id.
    Type,
    /// A create-only property changed.
    Property { path: String },
    /// A create-only property refers to a resource that is replaced.
    Refers {
        path: String,
        stack: String,
        id: String,
    },
}

/// A permission granted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Grant {
    pub text: String,
    /// It has a `*` in its action, resource or principal.
    pub wildcard: bool,
}

/// Resource types that hold data: replacing or deleting one loses it (or its contents, its
/// history, its records).
const STATEFUL: &[&str] = &[
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
    "AWS::Route53::HostedZone",
    "AWS::ECR::Repository",
    "AWS::EFS::FileSystem",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ServerlessCache",
    "AWS::KMS::Key",
    "AWS::Kinesis::Stream",
    "AWS::OpenSearchService::Domain",
    "AWS::DocDB::DBCluster",
    "AWS::Neptune::DBCluster",
    "AWS::Cognito::UserPool",
    "AWS::Backup::BackupVault",
];

pub fn is_stateful(kind: &str) -> bool {
    STATEFUL.contains(&kind)
}

impl EnvChange {
    pub fn resources(&self) -> impl Iterator<Item = (&StackChange, &ResourceChange)> {
        self.stacks
            .iter()
            .flat_map(|s| s.resources.iter().map(move |r| (s, r)))
    }

    /// How many resources take each action.
    pub fn counts(&self) -> BTreeMap<Action, usize> {
        let mut counts = BTreeMap::new();
        for (_, resource) in self.resources() {
            *counts.entry(resource.action).or_insert(0) += 1;
        }
        counts
    }
}

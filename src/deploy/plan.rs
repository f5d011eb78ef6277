//! What a deploy will change: CloudFormation change sets, summarised for people.

use std::collections::BTreeSet;

/// Resource types whose replacement or deletion loses data.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::S3::Bucket",
    "AWS::ECR::Repository",
    "AWS::SecretsManager::Secret",
    "AWS::Route53::HostedZone",
    "AWS::Logs::LogGroup",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Add,
    Modify,
    Remove,
    Import,
    Dynamic,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
            Action::Import => "Import",
            Action::Dynamic => "Dynamic",
        }
    }
}

/// Whether a modification replaces the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    No,
    Yes,
    /// It depends on values known only while updating.
    Conditional,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceChange {
    pub action: Action,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Replacement,
}

impl ResourceChange {
    /// Replaces or deletes a resource that holds data.
    pub fn loses_data(&self) -> bool {
        STATEFUL_TYPES.contains(&self.resource_type.as_str())
            && (self.action == Action::Remove
                || (self.action == Action::Modify && self.replacement != Replacement::No))
    }
}

/// The changes to one stack, from a change set or, for a new stack, from its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetSummary {
    pub stack: String,
    pub stack_name: String,
    /// The stack does not exist yet; every resource is added.
    pub is_new: bool,
    pub changes: Vec<ResourceChange>,
}

impl ChangeSetSummary {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    pub fn replacements(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.replacement != Replacement::No && c.action == Action::Modify)
            .count()
    }
}

/// The stack policy of protected environments: updates allowed, except replacing or
/// deleting resources that hold data.
pub fn protective_stack_policy() -> String {
    let types: BTreeSet<&str> = STATEFUL_TYPES.iter().copied().collect();
    serde_json::json!({
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": ["Update:Replace", "Update:Delete"],
                "Principal": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"ResourceType": types}}
            }
        ]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_a_database_loses_data_but_modifying_in_place_does_not() {
        let change = |action, replacement, resource_type: &str| ResourceChange {
            action,
            logical_id: "X".into(),
            resource_type: resource_type.into(),
            replacement,
        };
        assert!(change(Action::Modify, Replacement::Yes, "AWS::RDS::DBInstance").loses_data());
        assert!(change(Action::Modify, Replacement::Conditional, "AWS::S3::Bucket").loses_data());
        assert!(change(Action::Remove, Replacement::No, "AWS::RDS::DBCluster").loses_data());
        assert!(!change(Action::Modify, Replacement::No, "AWS::RDS::DBInstance").loses_data());
        assert!(!change(Action::Modify, Replacement::Yes, "AWS::ECS::Service").loses_data());
        assert!(protective_stack_policy().contains("AWS::RDS::DBInstance"));
    }
}

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
    /// The properties a modification changes, where CloudFormation (or the templates) name
    /// them.
    pub properties: Vec<PropertyChange>,
}

/// One property a modification changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyChange {
    /// `VisibilityTimeout`, or a path into one: `ContainerDefinitions/0/Image`.
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Whether changing it replaces the resource.
    pub recreation: Replacement,
    /// The parameter it follows, when a parameter's value changed it (`ImageTag`).
    pub cause: Option<String>,
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
    /// Exports of earlier waves it imports that do not exist yet: the changes come from the
    /// deployed and rendered templates, and CloudFormation's change set is made when those
    /// waves are done.
    pub waiting_for: Vec<String>,
    pub changes: Vec<ResourceChange>,
    /// The stack had drifted from its template when drift was last detected (at this
    /// time): the change overwrites what was changed by hand.
    pub drifted: Option<String>,
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

/// The resource changes from the `deployed` template to the `rendered` one, property by
/// property: the plan of a stack whose change set cannot be made yet. Whether a change
/// replaces a resource is CloudFormation's to say, when the change set is made.
pub fn template_changes(deployed: &str, rendered: &str) -> Vec<ResourceChange> {
    use envc_core::render::yaml::{parse, Yaml};
    let (Ok(deployed), Ok(rendered)) = (parse(deployed), parse(rendered)) else {
        return Vec::new();
    };
    fn resources<'t>(template: &'t Yaml<'_>) -> Vec<(&'t str, &'t Yaml<'t>)> {
        let map = template.get("Resources").and_then(Yaml::as_mapping);
        map.into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(id, body)| Some((id.as_str()?, body)))
            .collect()
    }
    let (before, after) = (resources(&deployed), resources(&rendered));
    let type_of = |body: &Yaml<'_>| {
        body.get("Type")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let change = |action, id: &str, body: &Yaml<'_>, properties| ResourceChange {
        action,
        logical_id: id.to_string(),
        resource_type: type_of(body),
        replacement: Replacement::No,
        properties,
    };
    let mut changes = Vec::new();
    for (id, new) in &after {
        match before.iter().find(|(old_id, _)| old_id == id) {
            None => changes.push(change(Action::Add, id, new, Vec::new())),
            Some((_, old)) if old != new => {
                changes.push(change(Action::Modify, id, new, property_changes(old, new)))
            }
            Some(_) => {}
        }
    }
    for (id, old) in &before {
        if !after.iter().any(|(new_id, _)| new_id == id) {
            changes.push(change(Action::Remove, id, old, Vec::new()));
        }
    }
    changes.sort_by(|a, b| {
        a.action
            .cmp(&b.action)
            .then(a.logical_id.cmp(&b.logical_id))
    });
    changes
}

/// The top-level properties (and other attributes) that differ between two versions of a
/// resource, with their values on one line each.
fn property_changes(
    old: &envc_core::render::yaml::Yaml<'_>,
    new: &envc_core::render::yaml::Yaml<'_>,
) -> Vec<PropertyChange> {
    use envc_core::render::yaml::Yaml;
    // Each property, and each attribute beside `Properties` (`DependsOn`, `DeletionPolicy`).
    fn entries<'t>(resource: &'t Yaml<'t>) -> Vec<(&'t str, &'t Yaml<'t>)> {
        let mut found = Vec::new();
        for (key, value) in resource.as_mapping().into_iter().flat_map(|m| m.iter()) {
            match (key.as_str(), value.as_mapping()) {
                (Some("Properties"), Some(properties)) => found.extend(
                    properties
                        .iter()
                        .filter_map(|(name, value)| Some((name.as_str()?, value))),
                ),
                (Some("Type"), _) | (None, _) => {}
                (Some(attribute), _) => found.push((attribute, value)),
            }
        }
        found
    }
    let (old, new) = (entries(old), entries(new));
    let value_of = |entries: &[(&str, &Yaml<'_>)], name: &str| {
        entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| one_line(v))
    };
    let mut changes: Vec<PropertyChange> = Vec::new();
    for (name, _) in new.iter().chain(old.iter()) {
        let (before, after) = (value_of(&old, name), value_of(&new, name));
        if before != after && !changes.iter().any(|c| c.path == *name) {
            changes.push(PropertyChange {
                path: name.to_string(),
                before,
                after,
                recreation: Replacement::No,
                cause: None,
            });
        }
    }
    changes
}

/// A value on one line: scalars as written, `!Ref X`, anything larger in flow style.
fn one_line(value: &envc_core::render::yaml::Yaml<'_>) -> String {
    use envc_core::render::yaml::Yaml;
    match value {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => s.to_string(),
        Yaml::Tagged(tag, inner) => format!("{tag} {}", one_line(inner)),
        Yaml::Sequence(items) => format!(
            "[{}]",
            items.iter().map(one_line).collect::<Vec<_>>().join(", ")
        ),
        Yaml::Mapping(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", one_line(k), one_line(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
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
            properties: Vec::new(),
        };
        assert!(change(Action::Modify, Replacement::Yes, "AWS::RDS::DBInstance").loses_data());
        assert!(change(Action::Modify, Replacement::Conditional, "AWS::S3::Bucket").loses_data());
        assert!(change(Action::Remove, Replacement::No, "AWS::RDS::DBCluster").loses_data());
        assert!(!change(Action::Modify, Replacement::No, "AWS::RDS::DBInstance").loses_data());
        assert!(!change(Action::Modify, Replacement::Yes, "AWS::ECS::Service").loses_data());
        assert!(protective_stack_policy().contains("AWS::RDS::DBInstance"));
    }

    #[test]
    fn templates_give_the_resources_and_properties_that_change() {
        let deployed = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: jobs\n      VisibilityTimeout: 30\n  Old:\n    Type: AWS::SNS::Topic\n";
        let rendered = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    DeletionPolicy: Retain\n    Properties:\n      QueueName: !Sub '${AWS::StackName}-jobs'\n      VisibilityTimeout: 30\n  New:\n    Type: AWS::SNS::Topic\n";
        let changes = template_changes(deployed, rendered);
        let rows: Vec<(Action, &str, &str)> = changes
            .iter()
            .map(|c| (c.action, c.logical_id.as_str(), c.resource_type.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                (Action::Add, "New", "AWS::SNS::Topic"),
                (Action::Modify, "Queue", "AWS::SQS::Queue"),
                (Action::Remove, "Old", "AWS::SNS::Topic"),
            ]
        );
        let properties: Vec<(&str, Option<&str>, Option<&str>)> = changes[1]
            .properties
            .iter()
            .map(|p| (p.path.as_str(), p.before.as_deref(), p.after.as_deref()))
            .collect();
        assert_eq!(
            properties,
            [
                ("DeletionPolicy", None, Some("Retain")),
                (
                    "QueueName",
                    Some("jobs"),
                    Some("!Sub ${AWS::StackName}-jobs")
                ),
            ]
        );
    }
}

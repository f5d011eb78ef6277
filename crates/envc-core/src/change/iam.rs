//! IAM widening: the permissions a resource grants after a change that it did not grant
//! before. Read from the `Allow` statements of identity policies (roles, policies) and
//! resource policies (buckets, queues, topics, keys, repositories, secrets).

use std::collections::BTreeSet;

use super::values::one_line;
use super::Grant;
use crate::render::yaml::Yaml;

/// Where each type keeps its policy documents, as dotted paths under `Properties`; `[]`
/// stands for every item of a list.
const DOCUMENTS: &[(&str, &[&str])] = &[
    (
        "AWS::IAM::Role",
        &["AssumeRolePolicyDocument", "Policies[].PolicyDocument"],
    ),
    ("AWS::IAM::Policy", &["PolicyDocument"]),
    ("AWS::IAM::ManagedPolicy", &["PolicyDocument"]),
    ("AWS::IAM::RolePolicy", &["PolicyDocument"]),
    ("AWS::S3::BucketPolicy", &["PolicyDocument"]),
    ("AWS::SQS::QueuePolicy", &["PolicyDocument"]),
    ("AWS::SNS::TopicPolicy", &["PolicyDocument"]),
    ("AWS::KMS::Key", &["KeyPolicy"]),
    ("AWS::ECR::Repository", &["RepositoryPolicyText"]),
    ("AWS::SecretsManager::ResourcePolicy", &["ResourcePolicy"]),
    ("AWS::Lambda::Permission", &[]),
];

/// The grants of `after` that `before` lacks (all of them for a new resource).
pub fn widened(before: Option<&Yaml>, after: Option<&Yaml>) -> Vec<Grant> {
    let Some(after) = after else {
        return Vec::new();
    };
    let old = before.map(grants).unwrap_or_default();
    grants(after)
        .into_iter()
        .filter(|g| !old.contains(g))
        .collect()
}

/// Every permission a resource's policies allow, one per action × resource (or principal).
fn grants(resource: &Yaml) -> BTreeSet<Grant> {
    let kind = resource
        .get("Type")
        .and_then(Yaml::as_str)
        .unwrap_or_default();
    let properties = resource.get("Properties");
    let mut found = BTreeSet::new();
    if kind == "AWS::Lambda::Permission" {
        let action = properties.and_then(|p| p.get("Action")).map(one_line);
        let principal = properties.and_then(|p| p.get("Principal")).map(one_line);
        if let (Some(action), Some(principal)) = (action, principal) {
            found.insert(grant(&format!("{principal}: {action}")));
        }
        return found;
    }
    let Some((_, paths)) = DOCUMENTS.iter().find(|(k, _)| *k == kind) else {
        return found;
    };
    for path in *paths {
        for document in documents(properties, path) {
            statements(document, &mut found);
        }
    }
    found
}

fn documents<'v, 'a>(properties: Option<&'v Yaml<'a>>, path: &str) -> Vec<&'v Yaml<'a>> {
    let mut nodes: Vec<&Yaml> = properties.into_iter().collect();
    for part in path.split('.') {
        let (key, every) = match part.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (part, false),
        };
        nodes = nodes
            .into_iter()
            .filter_map(|n| n.get(key))
            .flat_map(|n| match (every, n) {
                (true, Yaml::Sequence(items)) => items.iter().collect(),
                (true, _) => Vec::new(),
                (false, n) => vec![n],
            })
            .collect();
    }
    nodes
}

fn statements(document: &Yaml, found: &mut BTreeSet<Grant>) {
    let list = match document.get("Statement") {
        Some(Yaml::Sequence(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for statement in list {
        if statement.get("Effect").and_then(Yaml::as_str) != Some("Allow") {
            continue;
        }
        let actions = strings(statement, "Action", "NotAction");
        let principal = statement.get("Principal").map(one_line);
        let resources = strings(statement, "Resource", "NotResource");
        for action in &actions {
            match (&principal, resources.is_empty()) {
                (Some(principal), true) => {
                    found.insert(grant(&format!("{principal}: {action}")));
                }
                (principal, _) => {
                    for resource in &resources {
                        let whom = principal
                            .as_ref()
                            .map(|p| format!("{p}: "))
                            .unwrap_or_default();
                        found.insert(grant(&format!("{whom}{action} on {resource}")));
                    }
                }
            }
        }
    }
}

/// The items of `key` (one or a list), or of `not_key` written `not (…)`.
fn strings(statement: &Yaml, key: &str, not_key: &str) -> Vec<String> {
    let (value, negated) = match (statement.get(key), statement.get(not_key)) {
        (Some(value), _) => (value, false),
        (None, Some(value)) => (value, true),
        (None, None) => return Vec::new(),
    };
    let items: Vec<String> = match value {
        Yaml::Sequence(items) => items.iter().map(one_line).collect(),
        other => vec![one_line(other)],
    };
    if negated {
        vec![format!("everything but {}", items.join(", "))]
    } else {
        items
    }
}

fn grant(text: &str) -> Grant {
    Grant {
        wildcard: text.contains('*') || text.contains("everything but"),
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::yaml::parse_again;

    #[test]
    fn a_new_action_and_a_wildcard_are_widening() {
        let before = parse_again(
            "Type: AWS::IAM::Role\nProperties:\n  Policies:\n    - PolicyDocument:\n        Statement:\n          - {Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Q.Arn}\n",
        )
        .unwrap();
        let after = parse_again(
            "Type: AWS::IAM::Role\nProperties:\n  Policies:\n    - PolicyDocument:\n        Statement:\n          - {Effect: Allow, Action: [sqs:SendMessage, 's3:*'], Resource: !GetAtt Q.Arn}\n          - {Effect: Deny, Action: '*', Resource: '*'}\n",
        )
        .unwrap();
        let widened = widened(Some(&before), Some(&after));
        assert_eq!(
            widened,
            [Grant {
                text: "s3:* on !GetAtt Q.Arn".to_string(),
                wildcard: true
            }]
        );
    }
}

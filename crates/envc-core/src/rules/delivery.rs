//! Notifications that reach their target. A service that publishes to an encrypted topic or
//! queue (CloudWatch alarms, S3 event notifications, EventBridge rules, SNS subscriptions)
//! must be allowed to use its key: an AWS managed key (`alias/aws/sns`, `alias/aws/sqs`)
//! admits no other service and its policy cannot change, so AWS accepts the template and
//! then drops every message. A log group's key must admit CloudWatch Logs in its region.

use super::place::Placer;
use super::template::{intrinsic, known_string, target, Rendered, Resource, Target};
use super::{source_note, Finding};
use crate::diagnostic::{Code, Diagnostic};
use crate::render::yaml::Yaml;

const ALARM_KEYS: &str = "https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns";
const S3_KEYS: &str = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html";
const EVENTS_KEYS: &str =
    "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-troubleshooting.html#eb-sqs-encrypted";
const SNS_TO_SQS_KEYS: &str = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html#compatibility-with-aws-services";
const LOGS_KEYS: &str =
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html";

/// A service that sends to other resources, and the values that name where.
struct Sender<'r, 'a> {
    service: String,
    /// What sends, for messages ("CloudWatch alarm `HighCpu`").
    what: String,
    /// Where AWS says what the key must allow it.
    source: &'static str,
    targets: Vec<&'r Yaml<'a>>,
}

pub(super) fn check(stacks: &[Rendered], placer: &mut Placer, out: &mut Vec<Finding>) {
    for stack in stacks {
        for resource in stack.resources() {
            if resource.kind == "AWS::Logs::LogGroup" {
                check_log_group(stacks, stack, resource, placer, out);
                continue;
            }
            let Some(sender) = sender(resource) else {
                continue;
            };
            for value in &sender.targets {
                if let Some(to) = target(stacks, stack, value) {
                    check_target(stacks, stack, &sender, value, to, placer, out);
                }
            }
        }
    }
}

fn sender<'r, 'a>(resource: Resource<'r, 'a>) -> Option<Sender<'r, 'a>> {
    let items = |path: &str| -> Vec<&'r Yaml<'a>> {
        match resource.property(path) {
            Some(Yaml::Sequence(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    };
    let each = |path: &str, field: &str| -> Vec<&'r Yaml<'a>> {
        items(path)
            .into_iter()
            .filter_map(|i| i.get(field))
            .collect()
    };
    let (service, what, source, targets) = match resource.kind {
        "AWS::CloudWatch::Alarm" => (
            "cloudwatch.amazonaws.com",
            "the CloudWatch alarm",
            ALARM_KEYS,
            ["AlarmActions", "OKActions", "InsufficientDataActions"]
                .into_iter()
                .flat_map(items)
                .collect(),
        ),
        "AWS::S3::Bucket" => (
            "s3.amazonaws.com",
            "the S3 event notifications of",
            S3_KEYS,
            each("NotificationConfiguration.QueueConfigurations", "Queue")
                .into_iter()
                .chain(each(
                    "NotificationConfiguration.TopicConfigurations",
                    "Topic",
                ))
                .collect(),
        ),
        "AWS::Events::Rule" => (
            "events.amazonaws.com",
            "the EventBridge rule",
            EVENTS_KEYS,
            each("Targets", "Arn"),
        ),
        "AWS::SNS::Subscription"
            if resource.property("Protocol").and_then(Yaml::as_str) == Some("sqs") =>
        {
            (
                "sns.amazonaws.com",
                "the SNS subscription",
                SNS_TO_SQS_KEYS,
                resource.property("Endpoint").into_iter().collect(),
            )
        }
        _ => return None,
    };
    Some(Sender {
        service: service.to_string(),
        what: format!("{what} `{}`", resource.id),
        source,
        targets,
    })
}

/// Whether the key of the topic or queue `to` lets `sender` publish to it.
fn check_target(
    stacks: &[Rendered],
    stack: &Rendered,
    sender: &Sender,
    reference: &Yaml,
    to: Target,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    if !matches!(to.resource.kind, "AWS::SNS::Topic" | "AWS::SQS::Queue") {
        return;
    }
    let Some(key) = to.resource.property("KmsMasterKeyId") else {
        return;
    };
    let problem = match key_use(stacks, to.stack, key, &sender.service) {
        KeyUse::Allowed | KeyUse::Unknown => return,
        KeyUse::Managed(alias) => format!(
            "`{}` is encrypted with the AWS managed key `{alias}`, whose policy admits no other \
             service and cannot be changed",
            to.resource.id
        ),
        KeyUse::NotInPolicy(key_id) => format!(
            "the policy of `{key_id}`, the key of `{}`, does not allow `{}` kms:Decrypt and \
             kms:GenerateDataKey*",
            to.resource.id, sender.service
        ),
    };
    let key_text = scalar_text(key);
    let key_place = placer.in_rendered(to.stack, key_text);
    let sender_text = scalar_text(reference);
    let sender_place = placer.in_rendered(stack, sender_text);
    let diagnostic = Diagnostic::error(
        Code::Delivery,
        format!(
            "{} of `{}` sends to `{}`, which cannot receive it: {problem}",
            sender.what, stack.env.name, to.resource.id
        ),
    )
    .at(key_place.span, "the key")
    .also(sender_place.span, "sent from here")
    .help(format!(
        "AWS accepts the template and then drops every message. Encrypt `{}` with a customer \
         managed key (`AWS::KMS::Key`) whose policy allows the service principal `{}` \
         kms:Decrypt and kms:GenerateDataKey*",
        to.resource.id, sender.service
    ))
    .note(source_note(sender.source));
    out.push(Finding {
        envs: vec![stack.env.name.clone()],
        diagnostic,
    });
}

fn check_log_group(
    stacks: &[Rendered],
    stack: &Rendered,
    resource: Resource,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    let Some(key) = resource.property("KmsKeyId") else {
        return;
    };
    let service = format!("logs.{}.amazonaws.com", stack.region());
    let problem = match key_use(stacks, stack, key, &service) {
        KeyUse::Allowed | KeyUse::Unknown => return,
        KeyUse::Managed(alias) => format!("`{alias}` is an AWS managed key"),
        KeyUse::NotInPolicy(key_id) => {
            format!("the policy of `{key_id}` does not allow `{service}`")
        }
    };
    let text = scalar_text(key);
    let place = placer.in_rendered(stack, text);
    let diagnostic = Diagnostic::error(
        Code::Delivery,
        format!(
            "CloudWatch Logs cannot use the key of the log group `{}` of `{}`: {problem}",
            resource.id, stack.env.name
        ),
    )
    .at(place.span, "the key")
    .help(format!(
        "creating the log group fails: use a customer managed key whose policy allows the \
         service principal `{service}` kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, \
         kms:GenerateDataKey* and kms:Describe*"
    ))
    .note(source_note(LOGS_KEYS));
    out.push(Finding {
        envs: vec![stack.env.name.clone()],
        diagnostic,
    });
}

enum KeyUse {
    Allowed,
    /// The key is made elsewhere or at deploy time: its policy is not known here.
    Unknown,
    /// An AWS managed key, by alias.
    Managed(String),
    /// A key of the project whose policy does not admit the service (its logical id).
    NotInPolicy(String),
}

fn key_use(stacks: &[Rendered], stack: &Rendered, key: &Yaml, service: &str) -> KeyUse {
    if let Some(text) = known_string(stack, key) {
        let alias = text
            .rsplit_once(":alias/")
            .map_or(text.as_str(), |(_, a)| a);
        let alias = alias.strip_prefix("alias/").unwrap_or(alias);
        if alias.starts_with("aws/") {
            return KeyUse::Managed(format!("alias/{alias}"));
        }
        return KeyUse::Unknown;
    }
    let Some(found) = target(stacks, stack, key) else {
        return KeyUse::Unknown;
    };
    if found.resource.kind != "AWS::KMS::Key" {
        return KeyUse::Unknown;
    }
    let Some(statements) = found.resource.property("KeyPolicy.Statement") else {
        return KeyUse::Unknown;
    };
    let statements: Vec<&Yaml> = match statements {
        Yaml::Sequence(items) => items.iter().collect(),
        other => vec![other],
    };
    let allowed = statements.into_iter().any(|statement| {
        statement.get("Effect").and_then(Yaml::as_str) == Some("Allow")
            && strings(
                found.stack,
                statement.get("Principal").and_then(|p| p.get("Service")),
            )
            .iter()
            .any(|s| s == service)
            && {
                let actions = strings(found.stack, statement.get("Action"));
                let has = |wanted: &[&str]| actions.iter().any(|a| wanted.contains(&a.as_str()));
                has(&["kms:*", "*", "kms:Decrypt", "kms:Decrypt*"])
                    && has(&["kms:*", "*", "kms:GenerateDataKey*", "kms:GenerateDataKey"])
            }
    });
    if allowed {
        KeyUse::Allowed
    } else {
        KeyUse::NotInPolicy(found.resource.id.to_string())
    }
}

/// A string or list of strings, with pseudo parameters filled in.
fn strings(stack: &Rendered, value: Option<&Yaml>) -> Vec<String> {
    match value {
        Some(Yaml::Sequence(items)) => items
            .iter()
            .filter_map(|i| known_string(stack, i))
            .collect(),
        Some(other) => known_string(stack, other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The text of a scalar, or of an intrinsic's argument, to place a finding at.
fn scalar_text<'v>(value: &'v Yaml) -> &'v str {
    value
        .as_str()
        .or_else(|| {
            let (_, argument) = intrinsic(value)?;
            argument.as_str().or_else(|| match argument {
                Yaml::Sequence(items) => items.first()?.as_str(),
                _ => None,
            })
        })
        .unwrap_or("")
}

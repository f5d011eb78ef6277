//! One stack against CloudFormation: its state, its template, creating and deleting it, and
//! waiting for a final status while streaming events.

use std::time::Duration;

use aws_sdk_cloudformation::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudformation::types::{Capability, Tag};
use aws_sdk_cloudformation::Client;

use super::clients::{aws_failure, error_message, OrFailure};
use super::{DeployTarget, Progress, Reporter};
use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::render::RenderedStack;

/// A stack as CloudFormation has it.
#[derive(Debug, Clone)]
pub struct StackInfo {
    pub status: String,
    pub reason: Option<String>,
    pub last_updated: Option<String>,
    pub outputs: Vec<(String, String)>,
    /// The values its parameters were deployed with.
    pub parameters: Vec<(String, String)>,
    /// When drift detection last found it drifted from its template (`envc drift`, or the
    /// console's), where it did.
    pub drifted: Option<String>,
}

/// `2026-11-24T18:40:01Z`: a time to the second, as people read it.
pub fn utc_seconds(time: &DateTime) -> String {
    time.fmt(DateTimeFormat::DateTime)
        .map(|t| {
            t.split('.')
                .next()
                .unwrap_or_default()
                .trim_end_matches('Z')
                .to_string()
                + "Z"
        })
        .unwrap_or_default()
}

/// The deployed stack, or `None` when it does not exist.
pub async fn describe(cf: &Client, stack_name: &str) -> Result<Option<StackInfo>, Diagnostic> {
    match cf.describe_stacks().stack_name(stack_name).send().await {
        Ok(response) => {
            let Some(s) = response.stacks().first() else {
                return Ok(None);
            };
            // An answer cut short (a proxy, a dropped connection) parses into a stack without
            // a status, which must not read as a stack in a state.
            let known = s.stack_status().filter(|status| {
                aws_sdk_cloudformation::types::StackStatus::values().contains(&status.as_str())
            });
            if known.is_none() {
                return Err(unreadable_answer(stack_name));
            }
            Ok(Some(stack_info(s)))
        }
        Err(error) => {
            let message = error_message(&error);
            if message.contains("does not exist") {
                Ok(None)
            } else {
                Err(aws_failure(
                    &format!("cannot describe stack `{stack_name}`"),
                    message,
                ))
            }
        }
    }
}

/// What envc reads of a described stack.
fn stack_info(s: &aws_sdk_cloudformation::types::Stack) -> StackInfo {
    StackInfo {
        status: s
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        reason: s.stack_status_reason().map(String::from),
        last_updated: s.last_updated_time().or(s.creation_time()).map(utc_seconds),
        outputs: s
            .outputs()
            .iter()
            .map(|o| {
                (
                    o.output_key().unwrap_or_default().to_string(),
                    o.output_value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap_or_default().to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        drifted: s.drift_information().and_then(|d| {
            let drifted = d.stack_drift_status().map(|s| s.as_str()) == Some("DRIFTED");
            drifted.then(|| {
                d.last_check_timestamp()
                    .map(utc_seconds)
                    .unwrap_or_default()
            })
        }),
    }
}

/// AWS answered, but with no stack status envc knows: an answer cut short, or not AWS's.
fn unreadable_answer(stack_name: &str) -> Diagnostic {
    Diagnostic::error(
        Code::Aws,
        format!("cannot read the answer about stack `{stack_name}`: it holds no stack status"),
    )
    .help("the answer was cut short or is not AWS's (a proxy, a network fault, a wrong `--endpoint-url`); run it again, and check the endpoint")
}

pub fn is_in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS")
}

/// Stable states a new change can start from.
pub fn is_deployable(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE"
            | "UPDATE_COMPLETE"
            | "UPDATE_ROLLBACK_COMPLETE"
            | "IMPORT_COMPLETE"
            | "IMPORT_ROLLBACK_COMPLETE"
    )
}

pub fn is_success(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" | "DELETE_COMPLETE"
    )
}

/// Why a stack in `status` cannot be deployed now, and the way out.
pub fn state_problem(stack_name: &str, status: &str, replace_failed: bool) -> Option<Diagnostic> {
    if is_deployable(status) {
        return None;
    }
    let (message, help) = match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" if replace_failed => return None,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" => (
            format!("stack `{stack_name}` is {status}: its first create failed and it was never created"),
            "such a stack cannot be updated; `envc deploy ENV --replace-failed` deletes and creates it again".to_string(),
        ),
        "UPDATE_ROLLBACK_FAILED" => (
            format!("stack `{stack_name}` is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback"),
            format!("fix what blocked the rollback (see `envc status`), then run `aws cloudformation continue-update-rollback --stack-name {stack_name}` (with `--resources-to-skip` for resources that cannot roll back) and deploy again"),
        ),
        "DELETE_FAILED" => (
            format!("stack `{stack_name}` is DELETE_FAILED"),
            "remove what blocked the delete (see `envc status`) and run `envc destroy` again".to_string(),
        ),
        "REVIEW_IN_PROGRESS" if replace_failed => return None,
        "REVIEW_IN_PROGRESS" => (
            format!("stack `{stack_name}` is REVIEW_IN_PROGRESS: a change set created it and was never executed, so it holds no resources"),
            format!("this state does not end by itself; `envc deploy ENV --replace-failed` deletes the empty stack and creates it, or delete it yourself with `aws cloudformation delete-stack --stack-name {stack_name}`"),
        ),
        s if is_in_progress(s) => (
            format!("stack `{stack_name}` is busy: {status}"),
            "another operation (another `envc deploy`, or a change in the console) is running on it; nothing was started; wait for it to finish (`envc status ENV`) and deploy again".to_string(),
        ),
        _ => (
            format!("stack `{stack_name}` is {status}, which envc cannot deploy over"),
            "see `envc status ENV` for what happened".to_string(),
        ),
    };
    Some(Diagnostic::error(Code::StackState, message).help(help))
}

pub(super) fn tags(target: &DeployTarget, stack: &RenderedStack) -> Vec<Tag> {
    let mut tags: Vec<(String, String)> = target.tags.clone();
    tags.push(("envc:project".into(), target.project.clone()));
    tags.push(("envc:env".into(), target.env.clone()));
    tags.push(("envc:stack".into(), stack.stack.clone()));
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The template body, or a URL after uploading it to the artifact bucket when it is too
/// large to send inline.
pub async fn template_source(
    clients: &super::clients::Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
) -> Result<(Option<String>, Option<String>), Diagnostic> {
    if stack.body.len() <= envc_core::render::cfn::MAX_INLINE_BODY_BYTES {
        return Ok((Some(stack.body.clone()), None));
    }
    let Some(bucket) = &target.artifact_bucket else {
        return Err(Diagnostic::error(
            Code::CfnLimit,
            format!(
                "the template of `{}` is {} bytes, over the 51,200 CloudFormation takes inline",
                stack.stack,
                stack.body.len()
            ),
        )
        .help(
            "add an `artifacts` stack (it deploys first) so envc can upload large templates to it",
        ));
    };
    let digest = fnv_hex(stack.body.as_bytes());
    let key = format!("envc/templates/{}/{digest}.yaml", stack.stack);
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from(
            stack.body.clone().into_bytes(),
        ))
        .send()
        .await
        .map_err(|e| {
            aws_failure(
                &format!(
                    "cannot upload the template of `{}` to `{bucket}`",
                    stack.stack
                ),
                super::clients::error_message(&e),
            )
        })?;
    Ok((
        None,
        Some(format!(
            "https://s3.{region}.{}/{bucket}/{key}",
            envc_core::validate::regions::url_suffix(&target.aws.region),
            region = target.aws.region
        )),
    ))
}

/// A short content hash for artifact keys (not for security).
fn fnv_hex(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    format!("{hash:016x}")
}

/// The template a stack was last deployed with, as CloudFormation keeps it.
pub async fn deployed_template(cf: &Client, stack_name: &str) -> Result<String, Diagnostic> {
    let template = cf
        .get_template()
        .stack_name(stack_name)
        .send()
        .await
        .or_failure(|| format!("cannot read the template of `{stack_name}`"))?;
    Ok(template.template_body().unwrap_or_default().to_string())
}

/// Creates a new stack.
pub async fn create(
    clients: &super::clients::Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
) -> Result<(), Diagnostic> {
    let (body, url) = template_source(clients, target, stack).await?;
    let mut request = clients
        .cloudformation
        .create_stack()
        .stack_name(&stack.stack_name)
        .set_template_body(body)
        .set_template_url(url)
        .capabilities(Capability::CapabilityNamedIam)
        .capabilities(Capability::CapabilityAutoExpand)
        .set_tags(Some(tags(target, stack)))
        .set_parameters(super::image::new_stack_parameters(target, stack))
        .enable_termination_protection(target.protected)
        .client_request_token(super::clients::request_token("create"));
    if target.protected {
        request = request.stack_policy_body(super::plan::protective_stack_policy());
    }
    request
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let message = error_message(&e);
            let help = if message.starts_with("AlreadyExistsException") {
                "another operation (another `envc deploy`?) created the stack while this one was planning; let it finish, then deploy again"
            } else if super::clients::answer_unread(&message) {
                "whether CloudFormation created the stack is not known: `envc status ENV` shows it, and a later deploy goes on from there"
            } else {
                "CloudFormation refused the request before creating anything, for the reason it gives; fix the environment or template and deploy again"
            };
            Diagnostic::error(
                Code::StackFailed,
                format!("CloudFormation refused to create `{}`: {message}", stack.stack_name),
            )
            .help(help)
        })
}

/// Turns off a stack's termination protection (a protected environment's stacks have it),
/// so it can be deleted.
pub async fn unprotect(cf: &Client, stack_name: &str) -> Result<(), Diagnostic> {
    cf.update_termination_protection()
        .stack_name(stack_name)
        .enable_termination_protection(false)
        .send()
        .await
        .map(|_| ())
        .or_failure(|| format!("cannot turn off termination protection of `{stack_name}`"))
}

pub async fn delete(cf: &Client, stack_name: &str) -> Result<(), Diagnostic> {
    cf.delete_stack()
        .stack_name(stack_name)
        .client_request_token(super::clients::request_token("delete"))
        .send()
        .await
        .map(|_| ())
        .or_failure(|| format!("cannot delete `{stack_name}`"))
}

/// How an operation on a stack ended.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: String,
    /// The first resource that failed, and why.
    pub first_failure: Option<(String, String)>,
}

/// Ids of the events a stack already has, so waiting shows only what comes after.
pub async fn event_ids(cf: &Client, stack_name: &str) -> std::collections::HashSet<String> {
    match cf
        .describe_stack_events()
        .stack_name(stack_name)
        .send()
        .await
    {
        Ok(events) => events
            .stack_events()
            .iter()
            .filter_map(|e| e.event_id().map(String::from))
            .collect(),
        Err(_) => Default::default(),
    }
}

/// Polls the stack until it leaves `*_IN_PROGRESS`, reporting each event not in `seen`.
pub async fn wait(
    cf: &Client,
    stack: &str,
    stack_name: &str,
    reporter: &dyn Reporter,
    since: DateTime,
    mut seen: std::collections::HashSet<String>,
) -> Result<Finished, Diagnostic> {
    let mut first_failure: Option<(String, String)> = None;
    let mut delay = Duration::from_millis(200);
    loop {
        let info = describe(cf, stack_name).await?;
        // Events, oldest first, that happened after the operation started.
        if let Ok(events) = cf
            .describe_stack_events()
            .stack_name(stack_name)
            .send()
            .await
        {
            let mut fresh: Vec<_> = events
                .stack_events()
                .iter()
                .filter(|e| e.timestamp().is_some_and(|t| t.secs() >= since.secs()))
                .filter(|e| seen.insert(e.event_id().unwrap_or_default().to_string()))
                .collect();
            fresh.reverse();
            for event in fresh {
                let status = event
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                let logical = event.logical_resource_id().unwrap_or_default().to_string();
                let reason = event.resource_status_reason().map(String::from);
                if status.ends_with("_FAILED") && first_failure.is_none() && logical != stack_name {
                    first_failure = Some((logical.clone(), reason.clone().unwrap_or_default()));
                }
                reporter.progress(Progress::Resource {
                    stack: stack.to_string(),
                    logical_id: logical,
                    resource_type: event.resource_type().unwrap_or_default().to_string(),
                    status,
                    reason,
                });
            }
        }
        match info {
            None => {
                return Ok(Finished {
                    status: "DELETE_COMPLETE".into(),
                    first_failure,
                })
            }
            Some(info) if !is_in_progress(&info.status) => {
                if first_failure.is_none() && !is_success(&info.status) {
                    first_failure = info.reason.map(|r| (stack_name.to_string(), r));
                }
                return Ok(Finished {
                    status: info.status,
                    first_failure,
                });
            }
            Some(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 3 / 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The status a stack's CloudFormation status stands for in `envc status`.
pub fn stack_status_is_failed(status: &str) -> bool {
    status.ends_with("_FAILED")
        || matches!(
            status,
            "ROLLBACK_COMPLETE"
                | "UPDATE_ROLLBACK_COMPLETE"
                | "IMPORT_ROLLBACK_COMPLETE"
                | "NOT_DEPLOYED"
        )
}

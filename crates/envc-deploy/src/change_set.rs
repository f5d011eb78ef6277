//! Change sets: what a deploy will do to one stack, made by CloudFormation for an existing
//! stack (with the properties that change and their values), or read from the rendered
//! template for a new one; then executed or deleted again.

use std::time::Duration;

use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, RequiresRecreation, ResourceChangeDetail,
};
use aws_sdk_cloudformation::Client;

use super::clients::{aws_failure, error_message, OrFailure};
use super::plan::{Action, ChangeSetSummary, PropertyChange, Replacement, ResourceChange};
use super::{DeployTarget, InFlight};
use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::render::RenderedStack;

/// What will happen to one stack.
#[derive(Debug, Clone)]
pub enum Planned {
    /// A new stack; created with CreateStack.
    Create(ChangeSetSummary),
    /// A stack that was never created (`ROLLBACK_COMPLETE`, …): deleted, then created again.
    Recreate {
        summary: ChangeSetSummary,
        status: String,
    },
    /// A change set ready to execute.
    Update {
        summary: ChangeSetSummary,
        change_set: String,
    },
    /// An existing stack importing what an earlier wave of this deploy first exports: its
    /// change set can only be made once that wave is done, so the plan is the difference
    /// between the deployed and the rendered template.
    AfterImports(ChangeSetSummary),
    NoChanges,
}

impl Planned {
    /// What changes, when something does.
    pub fn summary(&self) -> Option<&ChangeSetSummary> {
        match self {
            Planned::Create(summary)
            | Planned::Recreate { summary, .. }
            | Planned::Update { summary, .. }
            | Planned::AfterImports(summary) => Some(summary),
            Planned::NoChanges => None,
        }
    }

    pub fn summary_mut(&mut self) -> Option<&mut ChangeSetSummary> {
        match self {
            Planned::Create(summary)
            | Planned::Recreate { summary, .. }
            | Planned::Update { summary, .. }
            | Planned::AfterImports(summary) => Some(summary),
            Planned::NoChanges => None,
        }
    }
}

/// Every resource of a new stack, as additions.
pub fn summary_of_new(stack: &RenderedStack) -> ChangeSetSummary {
    let changes = stack
        .template
        .resources
        .iter()
        .map(|(id, resource_type)| ResourceChange {
            action: Action::Add,
            logical_id: id.clone(),
            resource_type: resource_type.clone(),
            replacement: Replacement::No,
            properties: Vec::new(),
        })
        .collect();
    ChangeSetSummary {
        stack: stack.stack.clone(),
        stack_name: stack.stack_name.clone(),
        is_new: true,
        waiting_for: Vec::new(),
        changes,
        drifted: None,
    }
}

/// Creates a change set for an existing stack and waits until CloudFormation has computed
/// it. The change set is in `made` from the moment it exists, so an interrupted deploy can
/// delete it.
pub async fn plan_update(
    clients: &super::clients::Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
    made: &InFlight,
) -> Result<Planned, Diagnostic> {
    let cf = &clients.cloudformation;
    let (body, url) = super::stack::template_source(clients, target, stack).await?;
    let parameters = super::image::update_parameters(cf, target, stack).await?;
    let name = format!(
        "envc-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    // Named before it is asked for: a Ctrl-C while the request is out still finds it.
    made.change_set_made(&stack.stack_name, &name);
    let created = cf
        .create_change_set()
        .stack_name(&stack.stack_name)
        .change_set_name(&name)
        .change_set_type(ChangeSetType::Update)
        .set_parameters(parameters)
        .set_template_body(body)
        .set_template_url(url)
        .capabilities(Capability::CapabilityNamedIam)
        .capabilities(Capability::CapabilityAutoExpand)
        .set_tags(Some(super::stack::tags(target, stack)))
        .client_token(super::clients::request_token("plan"))
        .send()
        .await;
    let id = match created {
        Ok(response) => response.id().unwrap_or(&name).to_string(),
        Err(error) => {
            made.change_set_gone(&stack.stack_name);
            let message = error_message(&error);
            if no_changes(&message) {
                return Ok(Planned::NoChanges);
            }
            return Err(aws_failure(
                &format!("cannot create a change set for `{}`", stack.stack_name),
                message,
            ));
        }
    };
    made.change_set_made(&stack.stack_name, &id);
    let planned = computed(cf, stack, &id).await;
    // An empty change set is deleted by `computed`; one that could not be read stays listed,
    // for Ctrl-C to delete.
    if matches!(planned, Ok(Planned::NoChanges)) {
        made.change_set_gone(&stack.stack_name);
    }
    planned
}

/// Waits for change set `id` to be computed, and reads it.
async fn computed(cf: &Client, stack: &RenderedStack, id: &str) -> Result<Planned, Diagnostic> {
    let mut delay = Duration::from_millis(100);
    let started = std::time::Instant::now();
    loop {
        let described = cf
            .describe_change_set()
            .change_set_name(id)
            .stack_name(&stack.stack_name)
            .include_property_values(true)
            .send()
            .await
            .or_failure(|| format!("cannot read the change set of `{}`", stack.stack_name))?;
        match described.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                let mut changes: Vec<ResourceChange> = Vec::new();
                let mut page = described;
                loop {
                    changes.extend(
                        page.changes()
                            .iter()
                            .filter_map(|c| c.resource_change())
                            .map(resource_change),
                    );
                    // CloudFormation gives a large change set in pages: every one is read, or
                    // the plan (and what a protected environment refuses) would miss changes.
                    let Some(token) = page.next_token().filter(|t| !t.is_empty()) else {
                        break;
                    };
                    page = cf
                        .describe_change_set()
                        .change_set_name(id)
                        .stack_name(&stack.stack_name)
                        .include_property_values(true)
                        .next_token(token)
                        .send()
                        .await
                        .or_failure(|| {
                            format!("cannot read the change set of `{}`", stack.stack_name)
                        })?;
                }
                changes.sort_by(|a, b| {
                    a.action
                        .cmp(&b.action)
                        .then(a.logical_id.cmp(&b.logical_id))
                });
                let summary = ChangeSetSummary {
                    stack: stack.stack.clone(),
                    stack_name: stack.stack_name.clone(),
                    is_new: false,
                    waiting_for: Vec::new(),
                    changes,
                    drifted: None,
                };
                return Ok(Planned::Update {
                    summary,
                    change_set: id.to_string(),
                });
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = described.status_reason().unwrap_or_default().to_string();
                delete_change_set(cf, &stack.stack_name, id).await;
                if no_changes(&reason) {
                    return Ok(Planned::NoChanges);
                }
                return Err(Diagnostic::error(Code::StackFailed, format!("the change set for `{}` failed: {reason}", stack.stack_name))
                    .help("CloudFormation rejected the template or its parameters, for the reason it gives: fix the environment or its template, and run again"));
            }
            _ if started.elapsed() > COMPUTE_LIMIT => {
                delete_change_set(cf, &stack.stack_name, id).await;
                return Err(Diagnostic::error(
                    Code::StackFailed,
                    format!(
                        "the change set for `{}` was not computed in {} minutes",
                        stack.stack_name,
                        COMPUTE_LIMIT.as_secs() / 60
                    ),
                )
                .help("CloudFormation computes a change set in seconds to a few minutes; it was deleted: run the command again, and look at the stack in the console if it recurs"));
            }
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(3));
            }
        }
    }
}

/// How long a change set may take to be computed before envc gives up on it.
const COMPUTE_LIMIT: Duration = Duration::from_secs(10 * 60);

fn resource_change(change: &aws_sdk_cloudformation::types::ResourceChange) -> ResourceChange {
    let mut properties: Vec<PropertyChange> = Vec::new();
    for property in change.details().iter().filter_map(property_change) {
        if !properties.contains(&property) {
            properties.push(property);
        }
    }
    ResourceChange {
        action: match change.action().map(|a| a.as_str()) {
            Some("Add") => Action::Add,
            Some("Remove") => Action::Remove,
            Some("Import") => Action::Import,
            Some("Dynamic") => Action::Dynamic,
            _ => Action::Modify,
        },
        logical_id: change.logical_resource_id().unwrap_or_default().to_string(),
        resource_type: change.resource_type().unwrap_or_default().to_string(),
        replacement: match change.replacement().map(|r| r.as_str()) {
            Some("True") => Replacement::Yes,
            Some("Conditional") => Replacement::Conditional,
            _ => Replacement::No,
        },
        properties,
    }
}

/// One of a modification's details as a property row: `/Properties/ContainerDefinitions/0/Image`
/// is shown as `ContainerDefinitions/0/Image`, with the values CloudFormation gives.
fn property_change(detail: &ResourceChangeDetail) -> Option<PropertyChange> {
    let target = detail.target()?;
    let path = target
        .path()
        .map(|p| {
            p.strip_prefix("/Properties/")
                .unwrap_or(p)
                .trim_start_matches('/')
        })
        .filter(|p| !p.is_empty())
        .or(target.name())
        .or(target.attribute().map(|a| a.as_str()))?;
    let cause = detail
        .causing_entity()
        .filter(|_| {
            detail
                .change_source()
                .is_some_and(|s| s.as_str() == "ParameterReference")
        })
        .map(String::from);
    Some(PropertyChange {
        path: path.to_string(),
        before: target.before_value().map(String::from),
        after: target.after_value().map(String::from),
        recreation: match target.requires_recreation() {
            Some(RequiresRecreation::Always) => Replacement::Yes,
            Some(RequiresRecreation::Conditionally) => Replacement::Conditional,
            _ => Replacement::No,
        },
        cause,
    })
}

fn no_changes(message: &str) -> bool {
    message.contains("didn't contain changes") || message.contains("No updates are to be performed")
}

pub async fn delete_change_set(cf: &Client, stack_name: &str, change_set: &str) {
    // Best effort: a left-over change set is harmless and visible in the console.
    let _ = cf
        .delete_change_set()
        .change_set_name(change_set)
        .stack_name(stack_name)
        .send()
        .await;
}

/// Deletes the change sets an interrupted deploy made and did not execute.
pub async fn delete_made(target: &DeployTarget, made: &InFlight) -> usize {
    let change_sets = made.change_sets();
    if change_sets.is_empty() {
        return 0;
    }
    let Ok(clients) = super::clients::Clients::new(&target.aws).await else {
        return 0;
    };
    for (stack_name, change_set) in &change_sets {
        delete_change_set(&clients.cloudformation, stack_name, change_set).await;
    }
    change_sets.len()
}

/// A protected environment's stack gets its protective policy and termination protection
/// before it changes; a stack that cannot have them is not changed.
async fn guard(cf: &Client, stack: &RenderedStack) -> Result<(), Diagnostic> {
    cf.set_stack_policy()
        .stack_name(&stack.stack_name)
        .stack_policy_body(super::plan::protective_stack_policy())
        .send()
        .await
        .or_failure(|| {
            format!(
                "cannot set the protective stack policy of `{}`",
                stack.stack_name
            )
        })?;
    cf.update_termination_protection()
        .stack_name(&stack.stack_name)
        .enable_termination_protection(true)
        .send()
        .await
        .or_failure(|| {
            format!(
                "cannot turn on termination protection of `{}`",
                stack.stack_name
            )
        })?;
    Ok(())
}

/// Executes a change set (for a protected environment, after setting the stack policy and
/// termination protection).
pub async fn execute(
    cf: &Client,
    stack: &RenderedStack,
    change_set: &str,
    protected: bool,
) -> Result<(), Diagnostic> {
    if protected {
        if let Err(problem) = guard(cf, stack).await {
            delete_change_set(cf, &stack.stack_name, change_set).await;
            return Err(problem);
        }
    }
    cf.execute_change_set()
        .change_set_name(change_set)
        .stack_name(&stack.stack_name)
        .client_request_token(super::clients::request_token("execute"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            Diagnostic::error(
                Code::StackFailed,
                format!(
                    "cannot execute the change set of `{}`: {}",
                    stack.stack_name,
                    error_message(&e)
                ),
            )
            .help("see `envc status ENV`; the change set is left for inspection in the console")
        })
}

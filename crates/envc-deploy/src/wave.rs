//! One stack's part of a deploy: look at the deployed stack and decide what to do with it,
//! changing nothing but change sets (`plan_stack`); then, once confirmed, do it and wait for
//! a final status (`apply`).

use std::collections::HashSet;

use super::change_set::{self, Planned};
use super::clients::Clients;
use super::plan::{self, ChangeSetSummary};
use super::{stack, DeployOptions, DeployTarget, InFlight, Outcome, Progress, Reporter};
use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::render::RenderedStack;

/// Looks at the deployed stack and decides what to do with it. `exported` is every export
/// of the account and region now: an existing stack importing one that is not there yet
/// (an earlier wave first exports it) is planned from its templates.
pub(super) async fn plan_stack(
    clients: &Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
    options: &DeployOptions,
    exported: &HashSet<String>,
    made: &InFlight,
) -> Result<Planned, Diagnostic> {
    let cf = &clients.cloudformation;
    let Some(info) = stack::describe(cf, &stack.stack_name).await? else {
        return Ok(Planned::Create(change_set::summary_of_new(stack)));
    };
    if let Some(problem) =
        stack::state_problem(&stack.stack_name, &info.status, options.replace_failed)
    {
        return Err(problem);
    }
    if matches!(
        info.status.as_str(),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "REVIEW_IN_PROGRESS"
    ) {
        return Ok(Planned::Recreate {
            summary: change_set::summary_of_new(stack),
            status: info.status,
        });
    }
    let waiting_for: Vec<String> = stack
        .template
        .imports
        .iter()
        .filter(|import| !exported.contains(*import))
        .cloned()
        .collect();
    if waiting_for.is_empty() {
        let mut planned = change_set::plan_update(clients, target, stack, made).await?;
        if let Some(summary) = planned.summary_mut() {
            summary.drifted = info.drifted;
        }
        return Ok(planned);
    }
    let deployed = stack::deployed_template(cf, &stack.stack_name).await?;
    Ok(Planned::AfterImports(ChangeSetSummary {
        stack: stack.stack.clone(),
        stack_name: stack.stack_name.clone(),
        is_new: false,
        waiting_for,
        changes: plan::template_changes(&deployed, &stack.body),
        drifted: info.drifted,
    }))
}

/// In a protected environment, every change that would replace or delete a resource holding
/// data, refused.
pub(super) fn refused_in_protected(
    target: &DeployTarget,
    summary: &ChangeSetSummary,
    overwrite_drift: bool,
) -> Vec<Diagnostic> {
    if !target.protected {
        return Vec::new();
    }
    let drift = summary.drifted.as_ref().filter(|_| !overwrite_drift).map(|when| {
        Diagnostic::error(
            Code::Drift,
            format!(
                "`{}` has drifted from its template (detected {when}): this deploy would overwrite what was changed by hand in protected `{}`",
                summary.stack_name, target.env
            ),
        )
        .help(format!(
            "see what changed with `envc drift {}`; put it in the environment's files, or pass `--overwrite-drift` to put the template back",
            target.env
        ))
    });
    summary.changes.iter().filter(|c| c.loses_data()).map(|change| {
        let verb = if change.action == plan::Action::Remove { "delete" } else { "replace" };
        Diagnostic::error(Code::Guarded, format!("`{}` would {verb} `{}` ({}), which holds data, in protected `{}`", summary.stack_name, change.logical_id, change.resource_type, target.env))
            .help("protected environments never replace or delete stateful resources; change the setting back, or migrate the data and change the stack policy by hand")
    }).chain(drift).collect()
}

/// Runs a planned create or change set and waits for the result; the stack is in
/// `in_flight` meanwhile, for Ctrl-C to name.
pub(super) async fn apply(
    clients: &Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
    planned: Planned,
    reporter: &dyn Reporter,
    in_flight: &InFlight,
) -> Result<(Outcome, String, Vec<(String, String)>), Diagnostic> {
    in_flight.start(&stack.stack_name);
    let applied = apply_planned(clients, target, stack, planned, reporter, in_flight).await;
    in_flight.end(&stack.stack_name);
    applied
}

async fn apply_planned(
    clients: &Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
    planned: Planned,
    reporter: &dyn Reporter,
    in_flight: &InFlight,
) -> Result<(Outcome, String, Vec<(String, String)>), Diagnostic> {
    let cf = &clients.cloudformation;
    let planned = match planned {
        Planned::AfterImports(_) => {
            change_set_now(clients, target, stack, reporter, in_flight).await?
        }
        Planned::Recreate { summary, status } => {
            delete_failed(cf, stack, &status, reporter).await?;
            Planned::Create(summary)
        }
        planned => planned,
    };
    let since = aws_sdk_cloudformation::primitives::DateTime::from(
        std::time::SystemTime::now() - std::time::Duration::from_secs(1),
    );
    let (action, started) = match &planned {
        Planned::NoChanges => {
            reporter.progress(Progress::NoChanges {
                stack: stack.stack.clone(),
            });
            let info = stack::describe(cf, &stack.stack_name).await?;
            let status = info.as_ref().map(|i| i.status.clone()).unwrap_or_default();
            let outputs = info.map(|i| i.outputs).unwrap_or_default();
            return Ok((Outcome::NoChanges, status, outputs));
        }
        Planned::Update { change_set, .. } => {
            let seen = stack::event_ids(cf, &stack.stack_name).await;
            reporter.progress(Progress::Started {
                stack: stack.stack.clone(),
                action: "update",
            });
            in_flight.change_set_gone(&stack.stack_name);
            let started = change_set::execute(cf, stack, change_set, target.protected).await;
            (
                (Outcome::Updated, "UPDATE_COMPLETE"),
                started.map(|()| seen),
            )
        }
        _ => {
            reporter.progress(Progress::Started {
                stack: stack.stack.clone(),
                action: "create",
            });
            let started = stack::create(clients, target, stack).await;
            (
                (Outcome::Created, "CREATE_COMPLETE"),
                started.map(|()| HashSet::new()),
            )
        }
    };
    finish(cf, stack, reporter, since, started?, action).await
}

/// The change set of a stack planned from its templates, made now that the waves before it
/// ran; shown, and in a protected environment refused when it would lose data.
async fn change_set_now(
    clients: &Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
    reporter: &dyn Reporter,
    in_flight: &InFlight,
) -> Result<Planned, Diagnostic> {
    let planned = change_set::plan_update(clients, target, stack, in_flight).await?;
    let Some(summary) = planned.summary() else {
        return Ok(planned);
    };
    reporter.progress(Progress::Plan(summary.clone()));
    // Drift was judged when the stack was planned from its templates.
    if let Some(refused) = refused_in_protected(target, summary, true)
        .into_iter()
        .next()
    {
        if let Planned::Update { change_set, .. } = &planned {
            let cf = &clients.cloudformation;
            change_set::delete_change_set(cf, &stack.stack_name, change_set).await;
        }
        in_flight.change_set_gone(&stack.stack_name);
        return Err(refused);
    }
    Ok(planned)
}

/// Waits for the operation started on `stack` and says how it ended.
async fn finish(
    cf: &aws_sdk_cloudformation::Client,
    stack: &RenderedStack,
    reporter: &dyn Reporter,
    since: aws_sdk_cloudformation::primitives::DateTime,
    seen: HashSet<String>,
    (outcome, expected): (Outcome, &str),
) -> Result<(Outcome, String, Vec<(String, String)>), Diagnostic> {
    let finished = stack::wait(cf, &stack.stack, &stack.stack_name, reporter, since, seen).await?;
    reporter.progress(Progress::Finished {
        stack: stack.stack.clone(),
        status: finished.status.clone(),
    });
    if finished.status != expected {
        let mut diagnostic = Diagnostic::error(
            Code::StackFailed,
            format!("`{}` ended {}", stack.stack_name, finished.status),
        );
        diagnostic = match &finished.first_failure {
            Some((resource, reason)) => {
                diagnostic.note(format!("first failure: {resource}: {reason}"))
            }
            None => diagnostic.note("CloudFormation named no failing resource; `envc status ENV` shows the stack's own reason"),
        };
        let help = if finished.status == "ROLLBACK_COMPLETE" {
            "the stack was never created; fix the cause and run `envc deploy ENV --replace-failed`"
        } else if finished.status == "UPDATE_ROLLBACK_FAILED" {
            "the rollback failed too; see `envc status ENV`, then `aws cloudformation continue-update-rollback`"
        } else {
            "CloudFormation rolled the change back; fix the cause and deploy again"
        };
        return Err(diagnostic.help(help));
    }
    let outputs = stack::describe(cf, &stack.stack_name)
        .await?
        .map(|i| i.outputs)
        .unwrap_or_default();
    Ok((outcome, finished.status, outputs))
}

/// Deletes a stack that was never created (`--replace-failed`), to create it again.
async fn delete_failed(
    cf: &aws_sdk_cloudformation::Client,
    stack: &RenderedStack,
    status: &str,
    reporter: &dyn Reporter,
) -> Result<(), Diagnostic> {
    reporter.progress(Progress::Replacing {
        stack: stack.stack.clone(),
        status: status.to_string(),
    });
    let since = aws_sdk_cloudformation::primitives::DateTime::from(std::time::SystemTime::now());
    let seen = stack::event_ids(cf, &stack.stack_name).await;
    // A protected environment's stacks are created with termination protection, which a
    // failed creation keeps: the stack holds nothing, and replacing it was asked for.
    stack::unprotect(cf, &stack.stack_name).await?;
    stack::delete(cf, &stack.stack_name).await?;
    let finished = stack::wait(cf, &stack.stack, &stack.stack_name, reporter, since, seen).await?;
    if finished.status != "DELETE_COMPLETE" {
        return Err(Diagnostic::error(
            Code::StackFailed,
            format!(
                "could not delete the failed stack `{}`: {}",
                stack.stack_name, finished.status
            ),
        )
        .help("delete it in the console, then deploy again"));
    }
    Ok(())
}

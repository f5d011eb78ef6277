//! One stack's part of a wave: look at the deployed stack and decide what to do with it
//! (`plan_stack`), then do it and wait for a final status (`apply`).

use super::aws::Clients;
use super::stack::{self, Planned};
use super::{DeployOptions, DeployTarget, Outcome, Progress, Reporter};
use crate::diagnostic::{Code, Diagnostic};
use crate::render::RenderedStack;

/// Looks at the deployed stack and decides what to do with it.
pub(super) async fn plan_stack(
    clients: &Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
    options: &DeployOptions,
    reporter: &dyn Reporter,
) -> Result<Planned, Diagnostic> {
    let cf = &clients.cloudformation;
    match stack::describe(cf, &stack.stack_name).await? {
        None => Ok(Planned::Create(stack::summary_of_new(stack))),
        Some(info) => {
            if let Some(problem) =
                stack::state_problem(&stack.stack_name, &info.status, options.replace_failed)
            {
                return Err(problem);
            }
            if matches!(
                info.status.as_str(),
                "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "REVIEW_IN_PROGRESS"
            ) {
                if options.dry_run {
                    return Ok(Planned::Create(stack::summary_of_new(stack)));
                }
                reporter.progress(Progress::Replacing {
                    stack: stack.stack.clone(),
                    status: info.status.clone(),
                });
                let since = aws_sdk_cloudformation::primitives::DateTime::from(
                    std::time::SystemTime::now(),
                );
                let seen = stack::event_ids(cf, &stack.stack_name).await;
                stack::delete(cf, &stack.stack_name).await?;
                let finished =
                    stack::wait(cf, &stack.stack, &stack.stack_name, reporter, since, seen).await?;
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
                return Ok(Planned::Create(stack::summary_of_new(stack)));
            }
            stack::plan_update(clients, target, stack).await
        }
    }
}

/// Runs a planned create or change set and waits for the result.
pub(super) async fn apply(
    clients: &Clients,
    target: &DeployTarget,
    stack: &RenderedStack,
    planned: Planned,
    reporter: &dyn Reporter,
) -> Result<(Outcome, String, Vec<(String, String)>), Diagnostic> {
    let cf = &clients.cloudformation;
    let since = aws_sdk_cloudformation::primitives::DateTime::from(
        std::time::SystemTime::now() - std::time::Duration::from_secs(1),
    );
    let seen = match &planned {
        Planned::Update { .. } => stack::event_ids(cf, &stack.stack_name).await,
        _ => Default::default(),
    };
    let (outcome, expected) = match &planned {
        Planned::Create(_) => {
            reporter.progress(Progress::Started {
                stack: stack.stack.clone(),
                action: "create",
            });
            stack::create(clients, target, stack).await?;
            (Outcome::Created, "CREATE_COMPLETE")
        }
        Planned::Update { change_set, .. } => {
            reporter.progress(Progress::Started {
                stack: stack.stack.clone(),
                action: "update",
            });
            stack::execute(cf, stack, change_set, target.protected).await?;
            (Outcome::Updated, "UPDATE_COMPLETE")
        }
        Planned::NoChanges => return Ok((Outcome::NoChanges, String::new(), Vec::new())),
    };
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

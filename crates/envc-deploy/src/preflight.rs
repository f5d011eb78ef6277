//! Before and around the waves: every stack of the environment is looked at before
//! anything starts, and a stack's task that ends without a result is a failure.

use std::collections::{HashMap, HashSet};

use super::clients::{Clients, OrFailure};
use super::{stack, DeployOptions, DeployTarget};
use envc_core::diagnostic::{Code, Diagnostic};

/// A stack's task that ended without a result (it panicked, or was cancelled): a failure
/// of that stack, which stops the waves after it.
pub(super) fn task_failed(
    names: &HashMap<tokio::task::Id, String>,
    error: tokio::task::JoinError,
    doing: &str,
) -> Diagnostic {
    let stack = names
        .get(&error.id())
        .map_or("a stack".to_string(), |n| format!("`{n}`"));
    let why = if error.is_panic() {
        "envc failed inside (a bug: please report it)"
    } else {
        "the task was cancelled"
    };
    Diagnostic::error(
        Code::StackFailed,
        format!("{doing} {stack} stopped without a result: {why}"),
    )
    .help("later waves were not deployed; `envc status ENV` shows where each stack stands")
}

/// Stacks of the environment that another operation is changing right now.
pub(super) async fn busy_stacks(
    clients: &Clients,
    target: &DeployTarget,
    options: &DeployOptions,
) -> Vec<Diagnostic> {
    let mut busy = Vec::new();
    for stack in &target.stacks {
        match stack::describe(&clients.cloudformation, &stack.stack_name).await {
            Ok(Some(info)) if stack::is_in_progress(&info.status) => {
                if let Some(problem) =
                    stack::state_problem(&stack.stack_name, &info.status, options.replace_failed)
                {
                    busy.push(problem);
                }
            }
            Ok(_) => {}
            Err(problem) => {
                busy.push(problem);
                break;
            }
        }
    }
    busy
}

/// Every export of the account and region, by name.
pub(super) async fn exports(clients: &Clients) -> Result<HashSet<String>, Diagnostic> {
    let mut exported = HashSet::new();
    let mut pages = clients
        .cloudformation
        .list_exports()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.or_failure(|| "cannot list the exports".to_string())?;
        exported.extend(page.exports().iter().filter_map(|e| e.name.clone()));
    }
    Ok(exported)
}

/// Imports from another environment of the project (a shared hosted zone) whose export does
/// not exist yet: CloudFormation would refuse the change set, so envc says what to deploy
/// first.
pub(super) fn missing_exports(
    target: &DeployTarget,
    exported: &HashSet<String>,
) -> Vec<Diagnostic> {
    let own = format!("{}-{}-", target.project, target.env);
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    for stack in &target.stacks {
        for import in &stack.template.imports {
            if !import.starts_with(&own) && !wanted.iter().any(|(i, _)| i == import) {
                wanted.push((import, &stack.stack));
            }
        }
    }
    wanted
        .into_iter()
        .filter(|(import, _)| !exported.contains(*import))
        .map(|(import, stack)| {
            // `<project>-<env>-<stack>-<Output>`, with a stack of the project.
            let from = import
                .strip_prefix(&format!("{}-", target.project))
                .and_then(|rest| {
                    target
                        .stacks
                        .iter()
                        .find_map(|s| rest.find(&format!("-{}-", s.stack)).map(|at| &rest[..at]))
                })
                .unwrap_or("ENV");
            Diagnostic::error(
                Code::DanglingImport,
                format!(
                    "stack `{stack}` of `{}` imports `{import}`, which nothing exports in {} yet",
                    target.env, target.aws.region
                ),
            )
            .help(format!(
                "it comes from another environment: deploy that one first (`envc deploy {from}`), then `{}`",
                target.env
            ))
        })
        .collect()
}

/// A stack of the environment (by its envc tags) that the project no longer renders.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeftOver {
    pub stack: String,
    pub stack_name: String,
}

/// Deployed stacks tagged as `target`'s environment's that it no longer renders (a stack
/// renamed or removed from `stacks.kdl`): still running, still billed, maybe still serving
/// what a rendered stack now serves too.
pub async fn left_over_stacks(
    clients: &Clients,
    target: &DeployTarget,
) -> Result<Vec<LeftOver>, Diagnostic> {
    let mut found = Vec::new();
    let mut pages = clients
        .cloudformation
        .describe_stacks()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.or_failure(|| "cannot list the stacks".to_string())?;
        for stack in page.stacks() {
            let tag = |key: &str| {
                stack
                    .tags()
                    .iter()
                    .find(|t| t.key() == Some(key))
                    .and_then(|t| t.value())
                    .unwrap_or_default()
                    .to_string()
            };
            let name = stack.stack_name().unwrap_or_default();
            let rendered = target.rendered_stack_names.iter().any(|s| s == name);
            let deleted = stack
                .stack_status()
                .is_some_and(|s| s.as_str() == "DELETE_COMPLETE");
            if tag("envc:project") == target.project
                && tag("envc:env") == target.env
                && !rendered
                && !deleted
            {
                found.push(LeftOver {
                    stack: tag("envc:stack"),
                    stack_name: name.to_string(),
                });
            }
        }
    }
    Ok(found)
}

/// A warning for each left-over stack, with how to remove it.
pub fn left_over_warnings(target: &DeployTarget, left: &[LeftOver]) -> Vec<Diagnostic> {
    left.iter()
        .map(|stack| {
            Diagnostic::warning(
                Code::LeftOverStack,
                format!(
                    "`{}` (stack `{}`) is deployed, but `{}` no longer renders it",
                    stack.stack_name, stack.stack, target.env
                ),
            )
            .help(format!(
                "once nothing imports its exports, delete it: `aws cloudformation delete-stack --stack-name {} --region {}`",
                stack.stack_name, target.aws.region
            ))
        })
        .collect()
}

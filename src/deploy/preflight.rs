//! Before and around the waves: every stack of the environment is looked at before
//! anything starts, and a stack's task that ends without a result is a failure.

use std::collections::HashMap;

use super::aws::Clients;
use super::{stack, DeployOptions, DeployTarget};
use crate::diagnostic::{Code, Diagnostic};

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

//! Environment variables and project-kind settings that take another stack's output
//! (`REDIS_URL output="cache.Url"`): the stack is one of the project's, and every stack that
//! gets the value needs it (directly or through others), so it deploys first and its export
//! exists when the import is made. Whether it has the output is known when it renders (an import
//! nothing exports is reported there).

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::{EnvValue, StackKind, StacksConfig};
use crate::resolve::path::pointer;

use super::{ValidEnv, ValidStacks};

/// Checks `env`; true when it found a problem (the environment is then not rendered: its
/// imports would fail again there).
pub fn check_stack_outputs(
    env: &ValidEnv,
    stacks: &ValidStacks,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let before = out.len();
    let config = &stacks.model;
    let model = &env.model;
    // Settings of project-kind stacks that take an output, found by where they were set.
    let mut in_blocks: Vec<(&str, String, String, &crate::resolve::Located)> = Vec::new();
    for (pointer, located) in &env.spans.by_pointer {
        let Some(rest) = pointer.strip_suffix("/output") else {
            continue;
        };
        let mut parts = rest.trim_start_matches('/').split('/');
        let Some(stack) = parts.next().filter(|s| env.settings.contains_key(*s)) else {
            continue;
        };
        let value = parts.try_fold(&env.settings[stack], |node, key| {
            node.get(key).or_else(|| node.get(key.replace('-', "_")))
        });
        if let Some(output) = value.and_then(|v| v.get("output")).and_then(|o| o.as_str()) {
            let setting = rest.rsplit('/').next().unwrap_or_default().to_string();
            in_blocks.push((stack, setting, output.to_string(), located));
        }
    }
    in_blocks.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (user, setting, output, at) in in_blocks {
        let stack = output.split_once('.').map_or(output.as_str(), |(s, _)| s);
        let problem = if !config.stack.contains_key(stack) {
            let (help, meant) = suggestion(stack, config.stack.keys().map(String::as_str), || {
                "name a stack of stacks.kdl, then the output: `<stack>.<Output>`".to_string()
            });
            Some(
                Diagnostic::error(
                    Code::StackOutput,
                    format!("`{setting}` takes an output of `{stack}`, which is no stack of the project"),
                )
                .at(at.value, "no such stack")
                .help(help)
                .suggest(meant),
            )
        } else if stack != user && !config.needs_closure(user).contains(&stack) {
            Some(
                Diagnostic::error(
                    Code::StackOutput,
                    format!("`{setting}` takes an output of stack `{stack}`, which stack `{user}` does not need"),
                )
                .at(at.value, "imported before it is sure to exist")
                .help(format!("add `{stack}` to the `needs` of stack `{user}` in stacks.kdl, so `{stack}` deploys first")),
            )
        } else {
            None
        };
        if let Some(problem) = problem {
            let inherited = *at.env != *env.name;
            out.push(if inherited {
                problem.inherited_by(&env.name)
            } else {
                problem
            });
        }
    }
    let services = model
        .service
        .iter()
        .map(|(n, s)| ("service", n, &s.environment));
    let workers = model
        .worker
        .iter()
        .map(|(n, w)| ("worker", n, &w.environment));
    for (block, unit, variables) in services.chain(workers) {
        for (variable, value) in variables {
            let EnvValue::Output(output) = value else {
                continue;
            };
            let (stack, _) = output.parts();
            let at = env
                .spans
                .nearest(&pointer(&[block, unit, "environment", variable, "output"]));
            let span = at.map_or(crate::source::Span::new(env.file, 0, 0), |l| l.value);
            let inherited = at.is_some_and(|l| *l.env != *env.name);
            let problem = if !config.stack.contains_key(stack) {
                let (help, meant) =
                    suggestion(stack, config.stack.keys().map(String::as_str), || {
                        "name a stack of stacks.kdl, then the output: `<stack>.<Output>`"
                            .to_string()
                    });
                Some(
                    Diagnostic::error(
                        Code::StackOutput,
                        format!("`{variable}` takes an output of `{stack}`, which is no stack of the project"),
                    )
                    .at(span, "no such stack")
                    .help(help)
                    .suggest(meant),
                )
            } else {
                let lacking: Vec<&str> = users(config, block, unit, model)
                    .into_iter()
                    .filter(|user| *user != stack && !config.needs_closure(user).contains(&stack))
                    .collect();
                lacking.first().map(|user| {
                    Diagnostic::error(
                        Code::StackOutput,
                        format!(
                            "`{variable}` takes an output of stack `{stack}`, which stack `{user}` does not need"
                        ),
                    )
                    .at(span, "imported before it is sure to exist")
                    .help(format!(
                        "add `{stack}` to the `needs` of stack{} {} in stacks.kdl, so `{stack}` deploys first",
                        if lacking.len() == 1 { "" } else { "s" },
                        lacking.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
                    ))
                })
            };
            if let Some(problem) = problem {
                out.push(if inherited {
                    problem.inherited_by(&env.name)
                } else {
                    problem
                });
            }
        }
    }
    out.len() > before
}

/// The stacks whose containers or function get the variables of `block` `unit`: the
/// service or worker stacks that select it, and a migration that runs a service's image.
fn users<'c>(
    config: &'c StacksConfig,
    block: &str,
    unit: &str,
    model: &crate::model::Environment,
) -> Vec<&'c str> {
    config
        .stack
        .iter()
        .filter(|(_, stack)| match (block, stack.builtin()) {
            ("service", Some(StackKind::Service)) => stack.service.as_deref() == Some(unit),
            ("worker", Some(StackKind::Worker)) => stack.worker.as_deref() == Some(unit),
            ("service", Some(StackKind::Migration)) => {
                model.migration.as_ref().is_some_and(|m| m.service == unit)
            }
            _ => false,
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

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

/// One value that takes another stack's output: the setting's name, the output
/// (`<stack>.<Output>`), the stacks that get the value, and where it was set.
struct Taken<'a> {
    setting: String,
    output: String,
    users: Vec<&'a str>,
    at: Option<&'a crate::resolve::Located>,
}

/// Checks `env`; true when it found a problem (the environment is then not rendered: its
/// imports would fail again there).
pub fn check_stack_outputs(
    env: &ValidEnv,
    stacks: &ValidStacks,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let before = out.len();
    let config = &stacks.model;
    for taken in variables(env, config).into_iter().chain(kind_settings(env)) {
        if let Some(problem) = check(&taken, config, env) {
            let inherited = taken.at.is_some_and(|l| *l.env != *env.name);
            out.push(if inherited {
                problem.inherited_by(&env.name)
            } else {
                problem
            });
        }
    }
    out.len() > before
}

fn check(taken: &Taken, config: &StacksConfig, env: &ValidEnv) -> Option<Diagnostic> {
    let Taken {
        setting,
        output,
        users,
        at,
    } = taken;
    let span = at.map_or(crate::source::Span::new(env.file, 0, 0), |l| l.value);
    let stack = output.split_once('.').map_or(output.as_str(), |(s, _)| s);
    if !config.stack.contains_key(stack) {
        let (help, meant) = suggestion(stack, config.stack.keys().map(String::as_str), || {
            "name a stack of stacks.kdl, then the output: `<stack>.<Output>`".to_string()
        });
        return Some(
            Diagnostic::error(
                Code::StackOutput,
                format!(
                    "`{setting}` takes an output of `{stack}`, which is no stack of the project"
                ),
            )
            .at(span, "no such stack")
            .help(help)
            .suggest(meant),
        );
    }
    let lacking: Vec<&str> = users
        .iter()
        .copied()
        .filter(|user| *user != stack && !config.needs_closure(user).contains(&stack))
        .collect();
    let user = lacking.first()?;
    Some(
        Diagnostic::error(
            Code::StackOutput,
            format!("`{setting}` takes an output of stack `{stack}`, which stack `{user}` does not need"),
        )
        .at(span, "imported before it is sure to exist")
        .help(format!(
            "add `{stack}` to the `needs` of stack{} {} in stacks.kdl, so `{stack}` deploys first",
            if lacking.len() == 1 { "" } else { "s" },
            lacking.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
        )),
    )
}

/// The environment variables of services and workers that take an output.
fn variables<'a>(env: &'a ValidEnv, config: &'a StacksConfig) -> Vec<Taken<'a>> {
    let model = &env.model;
    let services = model
        .service
        .iter()
        .map(|(n, s)| ("service", n, &s.environment));
    let workers = model
        .worker
        .iter()
        .map(|(n, w)| ("worker", n, &w.environment));
    let mut found = Vec::new();
    for (block, unit, variables) in services.chain(workers) {
        for (variable, value) in variables {
            if let EnvValue::Output(output) = value {
                found.push(Taken {
                    setting: variable.clone(),
                    output: output.output.clone(),
                    users: users(config, block, unit, model),
                    at: env.spans.nearest(&pointer(&[
                        block,
                        unit,
                        "environment",
                        variable,
                        "output",
                    ])),
                });
            }
        }
    }
    found
}

/// The settings of project-kind stacks that take an output (`"x-envc-output": true`), found
/// by where they were set; the stack itself gets the value.
fn kind_settings(env: &ValidEnv) -> Vec<Taken<'_>> {
    let mut found = Vec::new();
    for (pointer, located) in env.spans.iter() {
        let Some(rest) = pointer.strip_suffix("/output") else {
            continue;
        };
        let mut parts = rest.trim_start_matches('/').split('/');
        let Some((stack, block)) = parts.next().and_then(|s| env.settings.get_key_value(s)) else {
            continue;
        };
        // Settings are in snake_case as templates see them; pointers as written.
        let value = parts.try_fold(block, |node, key| {
            node.get(key).or_else(|| node.get(key.replace('-', "_")))
        });
        if let Some(output) = value.and_then(|v| v.get("output")).and_then(|o| o.as_str()) {
            found.push(Taken {
                setting: rest.rsplit('/').next().unwrap_or_default().to_string(),
                output: output.to_string(),
                users: vec![stack.as_str()],
                at: Some(located),
            });
        }
    }
    found.sort_by(|a, b| (&a.users, &a.setting).cmp(&(&b.users, &b.setting)));
    found
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

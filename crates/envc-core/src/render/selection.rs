//! Which stacks of an environment render: the kinds whose settings it has, the service or
//! worker a stack selects, and not the stacks that need one that cannot render.

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::did_you_mean;
use crate::model::{Kind, StackKind};
use crate::source::Span;
use crate::validate::ValidEnv;

use super::Slot;

/// Whether a stack has anything to deploy in `env`: kinds whose settings the environment
/// leaves out are skipped (a `waf` stack in an environment with no `waf`).
pub fn applies(name: &str, stack: &crate::model::Stack, env: &ValidEnv) -> bool {
    let model = &env.model;
    match &stack.kind {
        None => true,
        // A project kind renders where the environment has its settings block.
        Some(Kind::Project(_)) => env.settings.contains_key(name),
        Some(Kind::Builtin(kind)) => match kind {
            StackKind::Network
            | StackKind::Cluster
            | StackKind::Registry
            | StackKind::Artifacts => true,
            StackKind::Dns => model.domain.is_some(),
            StackKind::Database => model.database.is_some(),
            StackKind::Queues => !model.queue.is_empty(),
            StackKind::ConfigSecret => model.config_secret.is_some(),
            StackKind::Waf => model.waf.is_some(),
            StackKind::Monitoring => model.monitoring.is_some(),
            StackKind::CiRole => model.ci.is_some(),
            StackKind::Migration => model.migration.is_some(),
            StackKind::Service => stack.service.is_some(),
            StackKind::Worker => stack.worker.is_some(),
        },
    }
}

/// Stacks that need (directly or through others) a stack that cannot be rendered are not
/// rendered either: their templates would fail on the missing stack, and a root cause is
/// reported once, not again from inside every template that depends on it.
pub(super) fn without_dependents_of_problems(
    config: &crate::model::StacksConfig,
    slots: Vec<Slot>,
) -> Vec<Slot> {
    let broken: Vec<&str> = slots
        .iter()
        .filter_map(|slot| match slot {
            Slot::Problem((stack, _)) => Some(stack.as_str()),
            _ => None,
        })
        .collect();
    if broken.is_empty() {
        return slots;
    }
    let depends_on_broken = |name: &str| {
        config
            .needs_closure(name)
            .iter()
            .any(|n| broken.contains(n))
    };
    let keep: Vec<bool> = slots
        .iter()
        .map(|slot| match slot {
            Slot::Fresh(fresh) => !depends_on_broken(&fresh.stack),
            Slot::Cached(stack, _) => !depends_on_broken(&stack.stack),
            _ => true,
        })
        .collect();
    slots
        .into_iter()
        .zip(keep)
        .filter_map(|(slot, keep)| keep.then_some(slot))
        .collect()
}

pub(super) fn selection_problem(
    name: &str,
    stack: &crate::model::Stack,
    env: &ValidEnv,
    span: Span,
) -> Option<Diagnostic> {
    let model = &env.model;
    let (what, wanted, known): (&str, &Option<String>, Vec<&str>) = match stack.builtin() {
        Some(StackKind::Service) => (
            "service",
            &stack.service,
            model.service.keys().map(String::as_str).collect(),
        ),
        Some(StackKind::Worker) => (
            "worker",
            &stack.worker,
            model.worker.keys().map(String::as_str).collect(),
        ),
        _ => return None,
    };
    let wanted = wanted.as_deref()?;
    if known.contains(&wanted) {
        return None;
    }
    Some(
        // One message for every environment, so the problem is reported once with a note
        // per environment.
        Diagnostic::error(
            Code::Selection,
            format!(
                "stack `{name}` deploys {what} `{wanted}`, which the environment does not define"
            ),
        )
        .at(span, format!("needs {what} \"{wanted}\""))
        .help(
            did_you_mean(wanted, known.iter().copied()).unwrap_or_else(|| {
                format!("add `{what} \"{wanted}\" {{ … }}` to the environment or one it extends")
            }),
        )
        .note(format!("in environment `{}`", env.name)),
    )
}

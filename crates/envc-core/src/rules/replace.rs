//! Replacing or deleting what holds data: a change (against the golden files at a base
//! commit) that makes CloudFormation replace or delete a database, bucket, queue, secret, log
//! group, zone, repository, key or cache. An error in a protected environment unless it
//! says `allow-replace` for that stack; a warning elsewhere. Placed at the setting whose
//! value starts the replacement, followed through the references that carry it.

use std::collections::BTreeMap;

use super::place::{Place, Placer, Spot};
use super::template::{known_string, Rendered};
use super::Finding;
use crate::change::{Action, Baseline, Cause, EnvChange, ResourceChange, StackChange};
use crate::diagnostic::{Code, Diagnostic, Severity};

const SCHEMAS: &str = "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-createonlyproperties";

pub(super) fn check(
    stacks: &[Rendered],
    baseline: Option<&Baseline>,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    let mut by_env: BTreeMap<&str, Vec<&Rendered>> = BTreeMap::new();
    for stack in stacks {
        by_env
            .entry(stack.env.name.as_str())
            .or_default()
            .push(stack);
    }
    for (env, stacks) in by_env {
        check_allowed_stacks(&stacks, out);
        let Some(before) = baseline.and_then(|b| b.files.get(env)) else {
            continue;
        };
        let after: BTreeMap<&str, &str> = stacks
            .iter()
            .map(|s| (s.stack.stack.as_str(), s.stack.body.as_str()))
            .collect();
        // A golden file the same as the render was not read: it is the render's text.
        let before: BTreeMap<&str, &str> = before
            .iter()
            .filter_map(|(s, t)| {
                let text = t.as_deref().or_else(|| after.get(s.as_str()).copied())?;
                Some((s.as_str(), text))
            })
            .collect();
        let changes = crate::change::compare(&[(env, before)].into(), &[(env, after)].into());
        for change in &changes {
            for (stack, resource) in change.resources() {
                if resource.stateful && resource.action.is_risky() {
                    let baseline = baseline.expect("a change needs a baseline");
                    out.push(finding(&stacks, change, stack, resource, baseline, placer));
                }
            }
        }
    }
}

/// `allow-replace` names stacks of the environment.
fn check_allowed_stacks(stacks: &[&Rendered], out: &mut Vec<Finding>) {
    let Some(first) = stacks.first() else { return };
    let env = first.env;
    for (i, name) in env.model.allow_replace.iter().enumerate() {
        if stacks.iter().any(|s| s.stack.stack == *name) {
            continue;
        }
        let located = env
            .spans
            .get(&format!("/allow-replace/{i}"))
            .or_else(|| env.spans.get("/allow-replace"));
        let names: Vec<&str> = stacks.iter().map(|s| s.stack.stack.as_str()).collect();
        let mut diagnostic = Diagnostic::error(
            Code::AllowReplace,
            format!(
                "`allow-replace` names `{name}`, which is not a stack of `{}`",
                env.name
            ),
        )
        .help(format!("name one of its stacks: {}", names.join(", ")));
        if let Some(located) = located {
            diagnostic = diagnostic.at(located.value, "no such stack");
        }
        out.push(Finding {
            envs: vec![env.name.clone()],
            diagnostic,
        });
    }
}

fn finding<'c>(
    stacks: &[&Rendered],
    change: &'c EnvChange,
    stack: &'c StackChange,
    resource: &'c ResourceChange,
    baseline: &Baseline,
    placer: &mut Placer,
) -> Finding {
    let env = stacks[0].env;
    let allowed = env.model.allow_replace.contains(&stack.stack);
    let certain = matches!(resource.action, Action::Replace | Action::Delete);
    let severity = if env.model.protected && certain && !allowed {
        Severity::Error
    } else {
        Severity::Warning
    };
    let what = format!("`{}` `{}` ({})", stack.stack, resource.id, resource.kind);
    let message = match resource.action {
        Action::Delete => format!(
            "this change deletes {what} in `{}`, and the data it holds",
            env.name
        ),
        Action::MayReplace => format!(
            "this change may replace {what} in `{}`, and the data it holds with it",
            env.name
        ),
        _ => format!(
            "this change replaces {what} in `{}`, and the data it holds with it",
            env.name
        ),
    };
    let (place, label) = cause_place(stacks, change, stack, resource, placer);
    let mut diagnostic = match severity {
        Severity::Error => Diagnostic::error(Code::Replacement, message),
        _ => Diagnostic::warning(Code::Replacement, message),
    };
    diagnostic = diagnostic.at(place.span, label).help(if allowed {
        format!("`allow-replace \"{}\"` allows it here; remove it once the change is deployed", stack.stack)
    } else {
        format!(
            "keep the value it had at {} ({}); or, if losing the data is intended, say so in `{}`: `allow-replace \"{}\"`",
            baseline.name,
            baseline.short_commit(),
            env.name,
            stack.stack
        )
    });
    diagnostic = diagnostic.note(format!(
        "CloudFormation creates a replacement and deletes the old resource when a create-only property changes ({SCHEMAS}); a snapshot, where the template keeps one, is not the running resource"
    ));
    Finding {
        envs: vec![env.name.clone()],
        diagnostic: place.note_inherited(&env.name, diagnostic),
    }
}

/// Where the replacement of `resource` starts: the create-only property whose change
/// replaces it (or the first resource of the chain it is replaced through).
fn cause_place<'c>(
    stacks: &[&Rendered],
    change: &'c EnvChange,
    mut stack: &'c StackChange,
    mut resource: &'c ResourceChange,
    placer: &mut Placer,
) -> (Place, String) {
    for _ in 0..=change.resources().count() {
        match &resource.cause {
            Some(Cause::Refers { stack: s, id, .. }) => {
                let next = change
                    .resources()
                    .find(|(st, r)| st.stack == *s && r.id == *id);
                match next {
                    Some((st, r)) => (stack, resource) = (st, r),
                    None => break,
                }
            }
            _ => break,
        }
    }
    let rendered = stacks.iter().find(|s| s.stack.stack == stack.stack);
    let Some(rendered) = rendered.filter(|_| resource.action != Action::Delete) else {
        let env = stacks[0].env;
        let protected = env.spans.get("/protected").map(|l| l.value);
        let span = protected.unwrap_or(crate::source::Span::new(env.file, 0, 0));
        let place = Place {
            span,
            setting: true,
            inherited: false,
        };
        let label = match rendered {
            Some(_) => format!("`{}` is no longer in `{}`", resource.id, stack.stack),
            None => format!("its stack `{}` is no longer rendered", stack.stack),
        };
        return (place, label);
    };
    let path = match &resource.cause {
        Some(Cause::Property { path }) => Some(path.as_str()),
        _ => None,
    };
    let value = path.and_then(|p| {
        let node = rendered
            .resource(&resource.id)?
            .property(p.split('[').next().unwrap_or(p))?;
        node.as_str().map(|t| (t, known_string(rendered, node)))
    });
    let label = match path {
        Some(path) => format!("`{path}` of `{}` changes here", resource.id),
        None => format!("`{}` {}", resource.id, resource.action.verb()),
    };
    let place = match value {
        Some((text, shown)) => placer.place(
            rendered.at(),
            Spot::of(rendered.stack, text),
            shown.as_deref().unwrap_or(text),
        ),
        None => placer.in_rendered(rendered, &resource.id),
    };
    (place, label)
}

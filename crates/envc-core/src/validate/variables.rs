//! Each variable a container gets is named once. A service's or Fargate worker's container
//! gets its `environment`, the URL of each queue (`<QUEUE>_QUEUE_URL`, or the queue's
//! `url-variable`) or its own queue's (`queue-url-variable`), and its `secret`s, all in one
//! namespace: ECS refuses a task definition whose secret shares a name with a variable ("the
//! secret name must be unique and not shared with any … environment variables"), and of two
//! variables of one name the container sees only one, so the other setting would do nothing.
//! (A Lambda worker's variables are checked with its function; see [`super::lambda`].)

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Environment, WorkerRuntime};
use crate::resolve::path;

use super::{EnvSpans, ValidEnv};

/// One name a container gets, and where it is set: the key of `pointer`, or its value when
/// the value is the name (`url-variable "JOBS_URL"`).
struct Named {
    name: String,
    pointer: String,
    named_by_value: bool,
    what: &'static str,
}

/// The names of environments whose containers get a name twice, each reported into `out`.
/// `creates_queues`: the project has a `queues` stack, whose URLs services are given.
pub fn check_container_variables(
    envs: &[&ValidEnv],
    creates_queues: bool,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut refused = Vec::new();
    for env in envs {
        let at = EnvSpans {
            env: &env.name,
            file: env.file,
            spans: &env.spans,
        };
        let before = out.len();
        for (unit, names) in containers(&env.model, creates_queues) {
            report_repeats(&unit, names, &at, out);
        }
        if out.len() > before {
            refused.push(env.name.clone());
        }
    }
    refused
}

/// Each container (`service "api"`, `worker "jobs"`) with the names it gets, in the order the
/// template writes them.
fn containers(model: &Environment, creates_queues: bool) -> Vec<(String, Vec<Named>)> {
    let mut containers = Vec::new();
    for (name, service) in &model.service {
        let base = ["service", name.as_str()];
        let mut names = keyed(
            &base,
            "environment",
            "a variable",
            service.environment.keys(),
        );
        if creates_queues {
            for (queue, settings) in &model.queue {
                let (name, pointer, named_by_value) = match &settings.url_variable {
                    Some(variable) => (
                        variable.clone(),
                        path::pointer(&["queue", queue, "url-variable"]),
                        true,
                    ),
                    None => (
                        format!("{}_QUEUE_URL", queue.to_uppercase().replace('-', "_")),
                        path::pointer(&["queue", queue]),
                        false,
                    ),
                };
                names.push(Named {
                    name,
                    pointer,
                    named_by_value,
                    what: "the queue's URL",
                });
            }
        }
        names.extend(keyed(&base, "secret", "a secret", service.secret.keys()));
        containers.push((format!("service `{name}`"), names));
    }
    for (name, worker) in &model.worker {
        if worker.runtime != WorkerRuntime::Fargate {
            continue;
        }
        let base = ["worker", name.as_str()];
        let mut names = keyed(
            &base,
            "environment",
            "a variable",
            worker.environment.keys(),
        );
        names.push(Named {
            name: worker.queue_url_variable.clone(),
            pointer: path::pointer(&["worker", name, "queue-url-variable"]),
            named_by_value: true,
            what: "its queue's URL",
        });
        names.extend(keyed(&base, "secret", "a secret", worker.secret.keys()));
        containers.push((format!("worker `{name}`"), names));
    }
    containers
}

/// The names a unit's block `block` (`environment`, `secret`) gives its container, each
/// at its key.
fn keyed<'a>(
    base: &[&str],
    block: &str,
    what: &'static str,
    keys: impl Iterator<Item = &'a String>,
) -> Vec<Named> {
    keys.map(|key| Named {
        name: key.clone(),
        pointer: path::pointer(&[base[0], base[1], block, key]),
        named_by_value: false,
        what,
    })
    .collect()
}

/// Reports each name `unit`'s container gets a second time, at the second place, with the
/// first.
fn report_repeats(unit: &str, names: Vec<Named>, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let place = |named: &Named| {
        if !at.spans.contains(&named.pointer) {
            // Not written in this environment's settings (a queue's default variable).
            at.key(&named.pointer)
        } else if named.named_by_value {
            at.value(&named.pointer)
        } else {
            at.key(&named.pointer)
        }
    };
    let mut first: HashMap<&str, &Named> = HashMap::new();
    for named in &names {
        let Some(earlier) = first.get(named.name.as_str()).copied() else {
            first.insert(&named.name, named);
            continue;
        };
        if !named.named_by_value && !earlier.named_by_value && named.what == earlier.what {
            // Two queues whose names make one default variable make one logical id too,
            // which is the problem reported (see `super::ids`).
            continue;
        }
        // Shown at the one this environment sets itself, when the other is inherited.
        let set_here = |n: &Named| at.spans.get(&n.pointer).is_some_and(|l| *l.env == *at.env);
        let (named, earlier) = if set_here(earlier) && !set_here(named) {
            (earlier, named)
        } else {
            (named, earlier)
        };
        let diagnostic = Diagnostic::error(
            Code::AwsRule,
            format!(
                "{unit}'s container gets `{}` twice: {} and {}",
                named.name, earlier.what, named.what
            ),
        )
        .at(
            place(named),
            format!("{} named `{}`", named.what, named.name),
        )
        .also(place(earlier), format!("{} of the same name", earlier.what))
        .help(if named.what == "a secret" || earlier.what == "a secret" {
            "ECS refuses a secret that shares its name with a variable of the container: rename one"
        } else {
            "a container has one value per name, so one of the two would be lost: rename one"
        });
        out.push(at.note_inherited(&named.pointer, diagnostic));
    }
}

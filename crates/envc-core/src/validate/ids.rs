//! Names that become CloudFormation logical ids: a template writes a queue's resources as
//! `<Name>Queue`, a service's and a worker's alarms as `<Name>…Alarm`, with the name in
//! PascalCase (`api-v2` → `ApiV2`). Two names of one kind that make one id (`a-b` and `a_b`,
//! `jobs` and `Jobs`) would make one template hold a resource twice, which CloudFormation
//! refuses; each is refused at the second name.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{pascal, Environment};
use crate::resolve::path;

use super::EnvSpans;

pub fn check_logical_ids(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let kinds = [
        ("queue", env.queue.keys().collect::<Vec<_>>()),
        ("service", env.service.keys().collect()),
        ("worker", env.worker.keys().collect()),
    ];
    for (kind, names) in kinds {
        let mut by_id: HashMap<String, &str> = HashMap::new();
        for name in names {
            let id = pascal(name);
            let Some(first) = by_id.insert(id.clone(), name) else {
                continue;
            };
            let pointer = path::pointer(&[kind, name]);
            out.push(at.note_inherited(
                &pointer,
                Diagnostic::error(
                    Code::LogicalIdTaken,
                    format!("{kind} `{name}` and {kind} `{first}` make one CloudFormation id, `{id}`"),
                )
                .at(at.key(&pointer), format!("`{id}` in the template"))
                .also(at.key(&path::pointer(&[kind, first])), "the same id")
                .help(format!(
                    "a {kind}'s resources are named from its name in PascalCase, so names that differ only in case, `-` or `_` collide: rename one"
                )),
            ));
        }
    }
}

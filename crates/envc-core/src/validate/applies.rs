//! Settings the model has but that do nothing where they are set: scaling targets a unit
//! does not scale on, one runtime's settings on the other, route tables with nothing to
//! route. Each is refused at its key with what it would need; none is silently dropped.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Endpoint, Environment, Scaling, WorkerRuntime};
use crate::resolve::path;

use super::EnvSpans;

pub fn check_settings_apply(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let mut refuse = |pointer: String, message: String, help: &str| {
        if at.spans.by_pointer.contains_key(&pointer) {
            out.push(
                at.note_inherited(
                    &pointer,
                    Diagnostic::error(Code::NotApplicable, message)
                        .at(at.key(&pointer), "has no effect here")
                        .help(help),
                ),
            );
        }
    };
    for (name, service) in &env.service {
        if service
            .scaling
            .as_ref()
            .is_some_and(|s| s.queue_depth_target.is_some())
        {
            refuse(
                path::pointer(&["service", name, "scaling", "queue-depth-target"]),
                format!("service `{name}` does not scale on a queue's depth"),
                "services scale on `cpu-target`, `memory-target` or `requests-target`; a worker scales on its queue",
            );
        }
    }
    for (name, worker) in &env.worker {
        let base = path::pointer(&["worker", name]);
        match worker.runtime {
            WorkerRuntime::Fargate => {
                if let Some(scaling) = &worker.scaling {
                    for field in
                        set_targets(scaling, &["cpu-target", "memory-target", "requests-target"])
                    {
                        refuse(
                            format!("{base}/scaling/{field}"),
                            format!("Fargate worker `{name}` scales on its queue's depth, not `{field}`"),
                            "use `queue-depth-target` (messages per task) with `min` and `max`",
                        );
                    }
                }
                for field in [
                    "batch-size",
                    "batch-window",
                    "reserved-concurrency",
                    "timeout",
                    "lambda-runtime",
                    "handler",
                    "function-name",
                    "tracing",
                ] {
                    refuse(
                        format!("{base}/{field}"),
                        format!("`{field}` is a Lambda setting, and worker `{name}` runs on Fargate"),
                        "a Fargate worker's container polls the queue itself; remove it, or set `runtime \"lambda\"`",
                    );
                }
            }
            WorkerRuntime::Lambda => {
                refuse(
                    format!("{base}/scaling"),
                    format!("Lambda worker `{name}` is scaled by its event source, not by `scaling`"),
                    "Lambda adds consumers as the queue grows; cap them with `reserved-concurrency`",
                );
                refuse(
                    format!("{base}/service-name"),
                    format!("Lambda worker `{name}` is a function, not an ECS service"),
                    "name the function with `function-name`",
                );
                refuse(
                    format!("{base}/image"),
                    format!("Lambda worker `{name}` runs code CI deploys, not an `image`"),
                    "remove `image`; CI updates the function's code (`update-function-code`)",
                );
            }
        }
    }
    if env.protected {
        refuse(
            "/registry/empty-on-delete".to_string(),
            "`empty-on-delete` does nothing in a protected environment, which keeps its repository".to_string(),
            "a protected environment's repository outlives its stack (with its images); remove the setting",
        );
    }
    let network = &env.network;
    if !network.private_route_table_ids.is_empty() {
        // With `cidr`, the network rules already refuse it (a new VPC's route tables are its own).
        let why = if network.cidr.is_some() {
            None
        } else if network.ssm_path.is_some() {
            Some("is read from SSM with the rest of the VPC (`<ssm-path>/private-route-table-ids`)")
        } else if !network.endpoints.contains(&Endpoint::S3) {
            Some("carries the S3 gateway endpoint's routes, and there is no `s3` endpoint")
        } else {
            None
        };
        if let Some(why) = why {
            refuse(
                "/network/private-route-table-ids".to_string(),
                format!("`private-route-table-ids` {why}"),
                "remove it; it is for an existing VPC given by `vpc-id` with an `s3` endpoint",
            );
        }
    }
}

/// The scaling targets among `fields` that are set.
fn set_targets<'a>(scaling: &Scaling, fields: &[&'a str]) -> Vec<&'a str> {
    fields
        .iter()
        .copied()
        .filter(|field| match *field {
            "cpu-target" => scaling.cpu_target.is_some(),
            "memory-target" => scaling.memory_target.is_some(),
            "requests-target" => scaling.requests_target.is_some(),
            _ => false,
        })
        .collect()
}

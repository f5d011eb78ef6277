//! Settings the model has but that do nothing where they are set: scaling targets a unit
//! does not scale on, one runtime's settings on the other, route tables with nothing to
//! route, `allow-replace` where nothing is refused. Each is refused at its key with what it
//! would need; none is silently dropped.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Endpoint, Environment, Network, Scaling, Worker, WorkerRuntime};
use crate::resolve::path;

use super::EnvSpans;

pub fn check_settings_apply(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let mut refuse = Refusals { at, out };
    for (name, service) in &env.service {
        if service
            .scaling
            .as_ref()
            .is_some_and(|s| s.queue_depth_target.is_some())
        {
            refuse.setting(
                path::pointer(&["service", name, "scaling", "queue-depth-target"]),
                format!("service `{name}` does not scale on a queue's depth"),
                "services scale on `cpu-target`, `memory-target` or `requests-target`; a worker scales on its queue",
            );
        }
    }
    let units = env
        .service
        .iter()
        .map(|(name, s)| ("service", name, &s.secret));
    let units = units.chain(
        env.worker
            .iter()
            .map(|(name, w)| ("worker", name, &w.secret)),
    );
    for (unit, name, secrets) in units {
        for (secret, reference) in secrets {
            if reference.ssm.is_some() && reference.key.is_some() {
                refuse.setting(
                    path::pointer(&[unit, name, "secret", secret, "key"]),
                    format!("secret `{secret}` of {unit} `{name}` is an SSM parameter, which has no JSON keys"),
                    "`key` picks a JSON key of a Secrets Manager secret (`from=`); an SSM parameter is read whole: remove `key`",
                );
            }
        }
    }
    for (name, worker) in &env.worker {
        match worker.runtime {
            WorkerRuntime::Fargate => fargate_worker(name, worker, &mut refuse),
            WorkerRuntime::Lambda => lambda_worker(name, &mut refuse),
        }
    }
    if env.protected {
        refuse.setting(
            "/registry/empty-on-delete".to_string(),
            "`empty-on-delete` does nothing in a protected environment, which keeps its repository".to_string(),
            "a protected environment's repository outlives its stack (with its images); remove the setting",
        );
    } else {
        refuse.setting(
            "/allow-replace".to_string(),
            "`allow-replace` does nothing where the environment is not protected".to_string(),
            "here a change that replaces or deletes data is a warning, which `allow-replace` does not change; remove it, or set `protected #true`",
        );
    }
    let network = &env.network;
    if !network.private_route_table_ids.is_empty() {
        if let Some(why) = route_tables_unused(network) {
            refuse.setting(
                "/network/private-route-table-ids".to_string(),
                format!("`private-route-table-ids` {why}"),
                "remove it; it is for an existing VPC given by `vpc-id` with an `s3` endpoint",
            );
        }
    }
}

/// Refuses settings, each at its key where the environment sets it.
struct Refusals<'a, 'b> {
    at: &'a EnvSpans<'b>,
    out: &'a mut Vec<Diagnostic>,
}

impl Refusals<'_, '_> {
    /// Refuses the setting at `pointer`, if the environment sets it.
    fn setting(&mut self, pointer: String, message: String, help: &str) {
        let at = self.at;
        if at.spans.contains(&pointer) {
            self.out.push(
                at.note_inherited(
                    &pointer,
                    Diagnostic::error(Code::NotApplicable, message)
                        .at(at.key(&pointer), "has no effect here")
                        .help(help),
                ),
            );
        }
    }
}

/// A Fargate worker scales on its queue only, and has none of a Lambda's settings.
fn fargate_worker(name: &str, worker: &Worker, refuse: &mut Refusals) {
    let base = path::pointer(&["worker", name]);
    if let Some(scaling) = &worker.scaling {
        for field in set_targets(scaling, &["cpu-target", "memory-target", "requests-target"]) {
            refuse.setting(
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
        refuse.setting(
            format!("{base}/{field}"),
            format!("`{field}` is a Lambda setting, and worker `{name}` runs on Fargate"),
            "a Fargate worker's container polls the queue itself; remove it, or set `runtime \"lambda\"`",
        );
    }
}

/// A Lambda worker has none of a Fargate service's settings (`scaling`, `service-name`,
/// `image`).
fn lambda_worker(name: &str, refuse: &mut Refusals) {
    let base = path::pointer(&["worker", name]);
    refuse.setting(
        format!("{base}/scaling"),
        format!("Lambda worker `{name}` is scaled by its event source, not by `scaling`"),
        "Lambda adds consumers as the queue grows; cap them with `reserved-concurrency`",
    );
    refuse.setting(
        format!("{base}/service-name"),
        format!("Lambda worker `{name}` is a function, not an ECS service"),
        "name the function with `function-name`",
    );
    refuse.setting(
        format!("{base}/image"),
        format!("Lambda worker `{name}` runs code CI deploys, not an `image`"),
        "remove `image`; CI updates the function's code (`update-function-code`)",
    );
}

/// Why `private-route-table-ids` does nothing in this network, if it does nothing.
fn route_tables_unused(network: &Network) -> Option<&'static str> {
    // With `cidr`, the network rules already refuse it (a new VPC's route tables are its own).
    if network.cidr.is_some() {
        None
    } else if network.ssm_path.is_some() {
        Some("is read from SSM with the rest of the VPC (`<ssm-path>/private-route-table-ids`)")
    } else if !network.endpoints.contains(&Endpoint::S3) {
        Some("carries the S3 gateway endpoint's routes, and there is no `s3` endpoint")
    } else {
        None
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

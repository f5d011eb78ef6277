//! Compute rules: Fargate cpu/memory pairs (services, Fargate workers, the migration task),
//! scaling bounds, Lambda limits, worker queues, and the image tag containers run from an
//! immutable repository.

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::{Environment, Scaling, Service, Worker, WorkerRuntime};
use crate::resolve::path;

use super::{EnvSpans, ValidEnv};

/// Memory (MiB) Fargate offers for each CPU size (Linux tasks).
pub fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
    let range = |from: u32, to: u32, step: u32| (from..=to).step_by(step as usize).collect();
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122880, 8192),
        _ => return None,
    })
}

const FARGATE_CPUS: &[u32] = &[256, 512, 1024, 2048, 4096, 8192, 16384];

pub fn check_compute(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    for (name, service) in &env.service {
        check_service(name, service, at, out);
    }
    for (name, worker) in &env.worker {
        check_worker(env, name, worker, at, out);
    }
    if let Some(migration) = &env.migration {
        check_fargate(migration.cpu, migration.memory, "/migration", at, out);
        if !env.service.contains_key(&migration.service) {
            out.push(unknown_migration_service(env, &migration.service, at));
        }
    }
}

/// The migration task runs with the image, secrets and variables of a service not defined.
fn unknown_migration_service(env: &Environment, service: &str, at: &EnvSpans) -> Diagnostic {
    let (help, suggestion) = suggestion(service, env.service.keys().map(String::as_str), || {
        "name a service of the environment: the task runs its image, with its secrets and variables"
            .to_string()
    });
    at.note_inherited(
        "/migration/service",
        Diagnostic::error(
            Code::UnknownService,
            format!("the migration runs with service `{service}`, which is not defined"),
        )
        .at(at.value("/migration/service"), "no such service")
        .help(help)
        .suggest(suggestion),
    )
}

/// A service's Fargate size, its scaling bounds, and its `desired` count within them.
fn check_service(name: &str, service: &Service, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let base = path::pointer(&["service", name]);
    check_fargate(service.cpu, service.memory, &base, at, out);
    if let Some(scaling) = &service.scaling {
        check_scaling(scaling, &format!("{base}/scaling"), at, out);
        let desired = service.desired.unwrap_or(scaling.min);
        if scaling.min <= scaling.max && (desired < scaling.min || desired > scaling.max) {
            out.push(
                at.note_inherited(
                    &format!("{base}/desired"),
                    Diagnostic::error(
                        Code::MinMax,
                        format!(
                            "`service.{name}.desired` ({desired}) is outside scaling {}–{}",
                            scaling.min, scaling.max
                        ),
                    )
                    .at(at.value(&format!("{base}/desired")), "desired count")
                    .also(at.value(&format!("{base}/scaling")), "scaling bounds")
                    .help("set `desired` between `scaling min` and `max`"),
                ),
            );
        }
    }
}

/// A worker's queue is defined, its scaling bounds are in order, and its size fits its
/// runtime.
fn check_worker(
    env: &Environment,
    name: &str,
    worker: &Worker,
    at: &EnvSpans,
    out: &mut Vec<Diagnostic>,
) {
    let base = path::pointer(&["worker", name]);
    if !env.queue.contains_key(&worker.queue) {
        let (help, suggestion) =
            suggestion(&worker.queue, env.queue.keys().map(String::as_str), || {
                format!("define it: `queue \"{}\" {{ … }}`", worker.queue)
            });
        out.push(
            at.note_inherited(
                &format!("{base}/queue"),
                Diagnostic::error(
                    Code::UnknownQueue,
                    format!(
                        "worker `{name}` consumes queue `{}`, which is not defined",
                        worker.queue
                    ),
                )
                .at(at.value(&format!("{base}/queue")), "no such queue")
                .help(help)
                .suggest(suggestion),
            ),
        );
    }
    if let Some(scaling) = &worker.scaling {
        check_scaling(scaling, &format!("{base}/scaling"), at, out);
    }
    match worker.runtime {
        WorkerRuntime::Fargate => match (worker.cpu, worker.memory) {
            (Some(cpu), Some(memory)) => check_fargate(cpu, memory, &base, at, out),
            _ => out.push(
                at.note_inherited(
                    &base,
                    Diagnostic::error(
                        Code::FargateSize,
                        format!("Fargate worker `{name}` needs `cpu` and `memory`"),
                    )
                    .at(at.key(&base), "Fargate worker")
                    .help("add, for example, `cpu 256; memory 512`"),
                ),
            ),
        },
        WorkerRuntime::Lambda => check_lambda_size(worker, &base, at, out),
    }
}

/// A Lambda worker's memory is in Lambda's range, and it has no `cpu`.
fn check_lambda_size(worker: &Worker, base: &str, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    if let Some(memory) = worker.memory {
        if !(128..=10240).contains(&memory) {
            out.push(
                at.note_inherited(
                    &format!("{base}/memory"),
                    Diagnostic::error(
                        Code::OutOfRange,
                        format!("Lambda memory must be 128 to 10240 MB, not {memory}"),
                    )
                    .at(
                        at.value(&format!("{base}/memory")),
                        "outside Lambda's range",
                    )
                    .help("Lambda memory is 128 MB to 10,240 MB"),
                ),
            );
        }
    }
    if worker.cpu.is_some() {
        out.push(
            at.note_inherited(
                &format!("{base}/cpu"),
                Diagnostic::error(Code::FargateSize, "a Lambda worker has no `cpu`")
                    .at(
                        at.key(&format!("{base}/cpu")),
                        "Lambda sizes CPU from memory",
                    )
                    .help("remove `cpu`; set `memory` instead"),
            ),
        );
    }
}

fn check_fargate(cpu: u32, memory: u32, base: &str, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let cpu_pointer = format!("{base}/cpu");
    let memory_pointer = format!("{base}/memory");
    match fargate_memory(cpu) {
        None => out.push(
            at.note_inherited(
                &cpu_pointer,
                Diagnostic::error(Code::FargateSize, format!("Fargate has no {cpu} CPU size"))
                    .at(at.value(&cpu_pointer), "not a Fargate CPU size")
                    .help(format!(
                        "use one of {} (256 = 0.25 vCPU)",
                        FARGATE_CPUS
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
            ),
        ),
        Some(allowed) if !allowed.contains(&memory) => out.push(
            at.note_inherited(
                &memory_pointer,
                Diagnostic::error(
                    Code::FargateSize,
                    format!("Fargate does not offer {memory} MiB with {cpu} CPU"),
                )
                .at(at.value(&memory_pointer), "memory")
                .also(at.value(&cpu_pointer), "cpu")
                .help(format!(
                    "with cpu {cpu}, memory is one of {}",
                    if allowed.len() > 4 {
                        format!(
                            "{}–{} in steps of {}",
                            allowed[0],
                            allowed[allowed.len() - 1],
                            allowed[1] - allowed[0]
                        )
                    } else {
                        allowed
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )),
            ),
        ),
        Some(_) => {}
    }
}

fn check_scaling(scaling: &Scaling, pointer: &str, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    if scaling.min > scaling.max {
        let min = format!("{pointer}/min");
        let max = format!("{pointer}/max");
        out.push(
            at.note_inherited(
                &max,
                Diagnostic::error(
                    Code::MinMax,
                    format!(
                        "scaling `min` ({}) is above `max` ({})",
                        scaling.min, scaling.max
                    ),
                )
                .at(at.value(&max), "max")
                .also(at.value(&min), "min")
                .help("raise `max` or lower `min`"),
            ),
        );
    }
}

/// Immutable ECR tags take a tag once: an environment whose containers run the moving
/// `latest` from its own repository could not push the next build. Only where the project
/// has a `registry` stack (otherwise the repository is not envc's).
pub fn check_image_tags(envs: &[&ValidEnv], creates_registry: bool, out: &mut Vec<Diagnostic>) {
    if !creates_registry {
        return;
    }
    for env in envs {
        let model = &env.model;
        let immutable = model.registry.as_ref().is_none_or(|r| r.immutable_tags);
        if !immutable || model.image_tag != "latest" {
            continue;
        }
        let from_repository = model.service.values().any(|s| s.image.is_none())
            || model
                .worker
                .values()
                .any(|w| w.runtime == WorkerRuntime::Fargate && w.image.is_none());
        if !from_repository {
            continue;
        }
        let at = EnvSpans {
            env: &env.name,
            file: env.file,
            spans: &env.spans,
        };
        let mut diagnostic = Diagnostic::error(
            Code::AwsRule,
            "containers run `:latest` from a repository whose tags are immutable",
        )
        .at(
            at.value("/image-tag"),
            if env.spans.contains("/image-tag") {
                "a tag every build would push again"
            } else {
                "`image-tag` is not set, so it is `latest`"
            },
        );
        if let Some(set) = env.spans.get("/registry/immutable-tags") {
            diagnostic = diagnostic.also(set.value, "tags are immutable here");
        }
        out.push(
            diagnostic
                .help(
                    "ECR accepts a tag once in such a repository, so the next build could not push \
                     `latest`: set `image-tag` to the build's version or commit (like \
                     `image-tag \"1.41.8-abc123d\"`), or let tags move with \
                     `registry { immutable-tags #false }`",
                )
                .note(format!("in environment `{}`", env.name))
                .concerns_heir(&env.name),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_table_matches_aws() {
        assert_eq!(fargate_memory(256).unwrap(), vec![512, 1024, 2048]);
        assert!(fargate_memory(1024).unwrap().contains(&8192));
        assert!(!fargate_memory(1024).unwrap().contains(&1024));
        assert!(fargate_memory(8192).unwrap().contains(&61440));
        assert!(fargate_memory(300).is_none());
    }
}

//! What runs in a new VPC's private subnets without a NAT gateway reaches AWS only through
//! the VPC endpoints the network makes. An ECS task pulls its image from ECR (`ecr`, and
//! `s3`, where ECR keeps the layers), writes its logs with the `awslogs` driver (`logs`) and
//! has ECS read its secrets (`secretsmanager`, `ssm`); a worker reads its queue (`sqs`); a
//! Lambda function reads its own secrets. Without them a task stops after its image pull
//! times out, and a deploy waits on it until the circuit breaker rolls back (AWS's "Amazon
//! ECR interface VPC endpoints" and "ECS task networking" guides). An image from outside ECR
//! cannot be reached through an endpoint at all.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Environment, SecretRef, StacksConfig, WorkerRuntime};

use super::{EnvSpans, ValidEnv};

/// Which endpoints the private subnets need, each with the first unit that needs it and why,
/// and the units whose image no endpoint reaches.
#[derive(Default)]
struct Needs {
    endpoints: BTreeMap<&'static str, String>,
    unreachable_images: Vec<(String, String)>,
}

impl Needs {
    fn add(&mut self, endpoint: &'static str, why: impl FnOnce() -> String) {
        self.endpoints.entry(endpoint).or_insert_with(why);
    }

    fn secrets<'a>(&mut self, unit: &str, secrets: impl IntoIterator<Item = &'a SecretRef>) {
        for secret in secrets {
            if secret.from.is_some() {
                self.add("secretsmanager", || format!("{unit} reads a secret"));
            }
            if secret.ssm.is_some() {
                self.add("ssm", || format!("{unit} reads a parameter"));
            }
        }
    }

    /// An ECS task of `unit` running `image` (`None`: the environment's own repository).
    fn task(&mut self, unit: &str, image: Option<&str>) {
        match image {
            Some(image) if !is_ecr_private(image) => self
                .unreachable_images
                .push((unit.to_string(), image.to_string())),
            _ => {
                self.add("ecr", || format!("{unit} pulls its image from ECR"));
                self.add("s3", || {
                    format!("{unit} pulls its image's layers, which ECR keeps in S3")
                });
            }
        }
        self.add("logs", || {
            format!("{unit} writes its logs to CloudWatch Logs")
        });
    }
}

/// `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/…`: a private ECR repository, which the
/// `ecr` endpoints reach (ECR Public and other registries are on the internet).
fn is_ecr_private(image: &str) -> bool {
    let host = image.split('/').next().unwrap_or_default();
    let mut parts = host.split('.');
    let account = parts.next().unwrap_or_default();
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && parts.next() == Some("dkr")
        && parts.next() == Some("ecr")
        && host.contains(".amazonaws.com")
}

/// What the units a stack deploys need (a service or worker no stack deploys runs nowhere).
fn needs(env: &Environment, stacks: &StacksConfig) -> Needs {
    let deployed = |name: &String, of: fn(&crate::model::Stack) -> Option<&String>| {
        stacks.stack.values().any(|stack| of(stack) == Some(name))
    };
    let mut needs = Needs::default();
    for (name, service) in &env.service {
        if !deployed(name, |stack| stack.service.as_ref()) {
            continue;
        }
        let unit = format!("service `{name}`");
        needs.task(&unit, service.image.as_deref());
        needs.secrets(&unit, service.secret.values());
    }
    for (name, worker) in &env.worker {
        if !deployed(name, |stack| stack.worker.as_ref()) {
            continue;
        }
        let unit = format!("worker `{name}`");
        if worker.runtime == WorkerRuntime::Fargate {
            needs.task(&unit, worker.image.as_deref());
            needs.add("sqs", || format!("{unit} reads its queue"));
        }
        needs.secrets(&unit, worker.secret.values());
    }
    needs
}

/// Each new VPC without NAT gateways has the endpoints what runs in it needs.
pub fn check_private_reach(envs: &[&ValidEnv], stacks: &StacksConfig, out: &mut Vec<Diagnostic>) {
    for env in envs {
        let at = EnvSpans {
            env: &env.name,
            file: env.file,
            spans: &env.spans,
        };
        let mut found = Vec::new();
        check_env(&env.model, stacks, &at, &mut found);
        out.extend(found.into_iter().map(|diagnostic| {
            diagnostic
                .note(format!("in environment `{}`", env.name))
                .concerns_heir(&env.name)
        }));
    }
}

fn check_env(env: &Environment, stacks: &StacksConfig, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let network = &env.network;
    if network.cidr.is_none() || network.nat_gateways > 0 {
        return;
    }
    let needs = needs(env, stacks);
    let made: Vec<&str> = network.endpoints.iter().map(|e| e.as_str()).collect();
    let missing: Vec<(&str, &String)> = needs
        .endpoints
        .iter()
        .filter(|(endpoint, _)| !made.contains(endpoint))
        .map(|(endpoint, why)| (*endpoint, why))
        .collect();
    let place = if at.spans.contains("/network/endpoints") {
        ("/network/endpoints", "the endpoints")
    } else {
        ("/network/nat-gateways", "no NAT gateway")
    };
    for (unit, image) in &needs.unreachable_images {
        out.push(at.note_inherited(
            place.0,
            Diagnostic::error(
                Code::NatGateways,
                format!("{unit} runs `{image}`, which its private subnets cannot reach without a NAT gateway"),
            )
            .at(at.value(place.0), place.1)
            .help("a VPC endpoint reaches only private ECR repositories: set `nat-gateways 1`, or push the image to ECR"),
        ));
    }
    if missing.is_empty() {
        return;
    }
    let reasons: Vec<String> = missing
        .iter()
        .map(|(endpoint, why)| format!("`{endpoint}` ({why})"))
        .collect();
    let all: Vec<&str> = made
        .iter()
        .copied()
        .chain(missing.iter().map(|(e, _)| *e))
        .collect();
    out.push(
        at.note_inherited(
            place.0,
            Diagnostic::error(
                Code::NatGateways,
                format!(
                    "the private subnets have no NAT gateway and no endpoint for {}",
                    reasons.join(", ")
                ),
            )
            .at(at.value(place.0), place.1)
            .help(format!(
                "add the endpoints (`endpoints {}`), or set `nat-gateways 1`",
                all.iter()
                    .map(|e| format!("\"{e}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ecr_images_are_told_from_others() {
        assert!(is_ecr_private(
            "333333333333.dkr.ecr.us-east-1.amazonaws.com/wallet:1.0"
        ));
        assert!(is_ecr_private(
            "333333333333.dkr.ecr.cn-north-1.amazonaws.com.cn/wallet@sha256:ab"
        ));
        assert!(!is_ecr_private("public.ecr.aws/nginx/nginx:1"));
        assert!(!is_ecr_private("nginx:latest"));
        assert!(!is_ecr_private("ghcr.io/acme/app:2"));
    }
}

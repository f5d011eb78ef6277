//! What a template sees: the environment (keys in snake_case), the stack, names computed at
//! render time (stack and export names, subnet CIDRs, image URIs), and the stacks present.

use serde_json::{json, Map, Value};

use super::functions::fit;
use crate::model::{Cidr, Database, Environment, Shape, Stack, StacksConfig, Subnet};
use crate::validate::ValidEnv;

/// CloudFormation stack name of a stack in an environment.
pub fn stack_name(project: &str, env: &str, stack: &str) -> String {
    format!("{project}-{env}-{stack}")
}

/// The artifact bucket of an environment, as the `artifacts` template names it and deploy
/// uploads large templates to: S3 takes 3 to 63 characters, so a longer name is cut and ends
/// in a hash of the whole ([`fit`]).
pub fn artifacts_bucket(project: &str, env: &str, account: &str) -> String {
    fit(&[project, "-", env, "-artifacts-", account].concat(), 63)
}

/// The export name of an output: `<project>-<env>-<stack>-<Output>`.
pub fn export_name(project: &str, env: &str, stack: &str, output: &str) -> String {
    [project, "-", env, "-", stack, "-", output].concat()
}

pub struct StackContext<'a> {
    pub stacks: &'a StacksConfig,
    pub env: &'a ValidEnv,
    pub env_shape: &'a Shape,
    /// Stacks of the project this environment renders.
    pub present: &'a [&'a str],
}

impl StackContext<'_> {
    /// What only this stack sees, as `stack`.
    pub fn stack(&self, name: &str, stack: &Stack) -> Value {
        json!({
            "name": name,
            "kind": stack.kind,
            "service": stack.service,
            "worker": stack.worker,
            "stack_name": stack_name(&self.stacks.project, &self.env.name, name),
            "needs": stack.needs,
            "settings": self.env.settings.get(name),
        })
    }

    /// What every stack of the environment sees (built once per environment).
    pub fn environment(&self) -> Value {
        let model = &self.env.model;
        let project = &self.stacks.project;
        let env = &self.env.name;
        let region = model.region.clone().unwrap_or_default();
        let names = self.names();
        json!({
            "project": project,
            "env": env,
            "account": model.account,
            "region": region,
            "protected": model.protected,
            "config": self.config(),
            "stacks": self.present_stacks(),
            "kinds": self.kinds(),
            "workloads": self.workloads(),
            "database_family": model.database.as_ref().map(database_family),
            "partition": partition(&region),
            "alb_zone_id": alb_hosted_zone(&region),
            "elb_log_account": elb_log_account(&region),
            "subnets": self.subnets(),
            "subnet_azs": model.network.subnet_azs(),
            "image_repository": format!("{}.dkr.ecr.{region}.amazonaws.com/{}", model.account, names["repository"].as_str().unwrap_or_default()),
            "names": names,
            "resource_prefix": format!("{project}-{env}"),
            "tags": self.tags(),
        })
    }
}

impl StackContext<'_> {
    /// The environment's keys in snake_case, with the settings blocks of project-kind stacks
    /// by stack name, as the built-ins' are.
    fn config(&self) -> Value {
        let mut config = self
            .env_shape
            .snake_keys(&serde_json::to_value(&self.env.model).unwrap_or_default());
        if let Some(config) = config.as_object_mut() {
            for (stack, settings) in &self.env.settings {
                config.insert(stack.clone(), settings.clone());
            }
        }
        config
    }

    /// The subnets the network's CIDR is split into; none without a (valid) CIDR.
    fn subnets(&self) -> Vec<Subnet> {
        let network = &self.env.model.network;
        match network.cidr.as_deref().and_then(|c| Cidr::parse(c).ok()) {
            Some(cidr) => {
                cidr.subnet_plan(network.azs, network.subnet_azs(), network.isolated_subnets)
            }
            None => Vec::new(),
        }
    }

    /// The stacks present, by name: their kind, service, worker and stack name.
    fn present_stacks(&self) -> Map<String, Value> {
        let (project, env) = (&self.stacks.project, &self.env.name);
        self.present
            .iter()
            .map(|n| {
                let s = &self.stacks.stack[*n];
                (
                    n.to_string(),
                    json!({
                        "kind": s.kind,
                        "service": s.service,
                        "worker": s.worker,
                        "stack_name": stack_name(project, env, n),
                    }),
                )
            })
            .collect()
    }

    /// The first stack present of each kind, by kind name.
    fn kinds(&self) -> Map<String, Value> {
        let mut kinds: Map<String, Value> = Map::new();
        for n in self.present {
            if let Some(kind) = &self.stacks.stack[*n].kind {
                kinds
                    .entry(kind.name())
                    .or_insert_with(|| Value::String(n.to_string()));
            }
        }
        kinds
    }

    /// The environment's tags (which start from the project's, and may replace or remove
    /// them), as CloudFormation `Key`/`Value` pairs.
    fn tags(&self) -> Vec<Value> {
        self.env
            .model
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect()
    }

    /// The stacks that run code in the VPC, each with a security group of its own (made by
    /// the network stack, so that any stack can admit one by name without needing it):
    /// services, workers and the migration, and the project-kind stacks that need the
    /// network. A service's group admits its load balancer on its port; the built-in
    /// workloads reach the database.
    fn workloads(&self) -> Vec<Value> {
        use crate::model::StackKind;
        let Some(network) = self
            .present
            .iter()
            .find(|n| self.stacks.stack[**n].builtin() == Some(StackKind::Network))
        else {
            return Vec::new();
        };
        self.present
            .iter()
            .filter_map(|name| {
                let stack = &self.stacks.stack[*name];
                let builtin = stack.builtin();
                let runs = matches!(
                    builtin,
                    Some(StackKind::Service | StackKind::Worker | StackKind::Migration)
                ) || (stack.project_kind().is_some()
                    && stack.needs.iter().any(|n| n == *network));
                if !runs {
                    return None;
                }
                let port = stack
                    .service
                    .as_ref()
                    .filter(|_| builtin == Some(StackKind::Service))
                    .and_then(|s| self.env.model.service.get(s))
                    .map(|s| s.port);
                Some(json!({
                    "stack": name,
                    "id": format!("{}StackSecurityGroup", super::functions::pascal(name)),
                    "port": port,
                    "database": builtin.is_some(),
                }))
            })
            .collect()
    }

    /// The names resources get: each set in the environment, or envc's default.
    fn names(&self) -> Value {
        let model = &self.env.model;
        let prefix = format!("{}-{}", self.stacks.project, self.env.name);
        json!({
            "database": fit(&format!("{prefix}-db"), 63),
            "database_writer": fit(&format!("{prefix}-db-writer"), 63),
            "database_reader": fit(&format!("{prefix}-db-reader"), 63),
            "artifacts_bucket": artifacts_bucket(&self.stacks.project, &self.env.name, &model.account),
            "queues": queue_names(model, &prefix),
            "cluster": model.cluster.as_ref().and_then(|c| c.name.clone()).unwrap_or(prefix.clone()),
            "repository": model.registry.as_ref().and_then(|r| r.repository.clone()).unwrap_or(prefix.clone()),
            "services": service_names(model, &prefix),
            "workers": worker_names(model, &prefix),
            "queue_url_variables": queue_url_variables(model),
        })
    }
}

/// Each service's ECS service name and log group, by service.
fn service_names(model: &Environment, prefix: &str) -> Map<String, Value> {
    model
        .service
        .iter()
        .map(|(name, s)| {
            let service = s.service_name.clone().unwrap_or(format!("{prefix}-{name}"));
            let log_group = s.log_group.clone().unwrap_or(format!("/ecs/{service}"));
            (
                name.clone(),
                json!({"service": service, "log_group": log_group}),
            )
        })
        .collect()
}

/// Each worker's unit (Lambda function or ECS service) and log group, by worker.
fn worker_names(model: &Environment, prefix: &str) -> Map<String, Value> {
    model
        .worker
        .iter()
        .map(|(name, w)| {
            let lambda = w.runtime == crate::model::WorkerRuntime::Lambda;
            let own = if lambda {
                &w.function_name
            } else {
                &w.service_name
            };
            // A Lambda function's name has at most 64 characters.
            let unit = own.clone().unwrap_or_else(|| {
                let derived = format!("{prefix}-{name}");
                if lambda {
                    fit(&derived, 64)
                } else {
                    derived
                }
            });
            let default_group = if lambda {
                format!("/aws/lambda/{unit}")
            } else {
                format!("/ecs/{unit}")
            };
            let log_group = w.log_group.clone().unwrap_or(default_group);
            (name.clone(), json!({"unit": unit, "log_group": log_group}))
        })
        .collect()
}

/// The variable each queue's URL is passed in, by queue.
fn queue_url_variables(model: &Environment) -> Map<String, Value> {
    model
        .queue
        .iter()
        .map(|(name, q)| {
            let variable = q
                .url_variable
                .clone()
                .unwrap_or_else(|| format!("{}_QUEUE_URL", name.to_uppercase().replace('-', "_")));
            (name.clone(), Value::String(variable))
        })
        .collect()
}

/// Each queue's name and its dead-letter queue's, within SQS's 80 characters (`.fifo`
/// included), by queue.
fn queue_names(model: &Environment, prefix: &str) -> Map<String, Value> {
    model
        .queue
        .iter()
        .map(|(name, q)| {
            let suffix = if q.fifo { ".fifo" } else { "" };
            let room = 80 - suffix.len();
            let queue = fit(&format!("{prefix}-{name}"), room) + suffix;
            let dead_letter = fit(&format!("{prefix}-{name}-dlq"), room) + suffix;
            (
                name.clone(),
                json!({"queue": queue, "dead_letter": dead_letter}),
            )
        })
        .collect()
}

/// The AWS partition a region belongs to.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The database's parameter group family: its engine and major version.
fn database_family(db: &Database) -> String {
    let major = db.version.split('.').next().unwrap_or_default();
    match db.engine {
        crate::model::Engine::AuroraPostgresql => format!("aurora-postgresql{major}"),
        crate::model::Engine::Postgres => format!("postgres{major}"),
    }
}

/// The account Elastic Load Balancing writes access logs from, in the regions that opened
/// before August 2022; `None` elsewhere, where the bucket policy names the log delivery
/// service instead (AWS's "Enable access logs for your Application Load Balancer").
fn elb_log_account(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "127311923021",
        "us-east-2" => "033677994240",
        "us-west-1" => "027434742980",
        "us-west-2" => "797873946194",
        "af-south-1" => "098369216593",
        "ap-east-1" => "754344448648",
        "ap-southeast-3" => "589379963580",
        "ap-south-1" => "718504428378",
        "ap-northeast-3" => "383597477331",
        "ap-northeast-2" => "600734575887",
        "ap-southeast-1" => "114774131450",
        "ap-southeast-2" => "783225319266",
        "ap-northeast-1" => "582318560864",
        "ca-central-1" => "985666609251",
        "eu-central-1" => "054676820928",
        "eu-west-1" => "156460612806",
        "eu-west-2" => "652711504416",
        "eu-south-1" => "635631232127",
        "eu-west-3" => "009996457667",
        "eu-north-1" => "897822967062",
        "me-south-1" => "076674570225",
        "sa-east-1" => "507241528517",
        "us-gov-west-1" => "048591011584",
        "us-gov-east-1" => "190560391635",
        "cn-north-1" => "638102146993",
        "cn-northwest-1" => "037604701340",
        _ => return None,
    })
}

/// The Route 53 zone of Application Load Balancers in a region, written literally so alias
/// records show it (and need no `GetAtt`); `None` where envc does not know it.
fn alb_hosted_zone(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "Z35SXDOTRQ7X7K",
        "us-east-2" => "Z3AADJGX6KTTL2",
        "us-west-1" => "Z368ELLRRE2KJ0",
        "us-west-2" => "Z1H1FL5HABSF5",
        "ca-central-1" => "ZQSVJUPU6J1EY",
        "eu-central-1" => "Z215JYRZR1TBD5",
        "eu-west-1" => "Z32O12XQLNTSW2",
        "eu-west-2" => "ZHURV8PSTC4K8",
        "ap-northeast-1" => "Z14GRHDCWA56QT",
        "ap-southeast-1" => "Z1LMS91P8CMLE5",
        "ap-southeast-2" => "Z1GM3OXH4ZPM65",
        "ap-south-1" => "ZP97RAFLXTNZK",
        "sa-east-1" => "Z2P70J7HTTTPLU",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/templates.md` lists exactly what a template sees.
    #[test]
    fn the_documented_context_is_the_context() {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let checked = crate::check(root, &["dev".to_string()]);
        let stacks = &checked.validated.stacks.as_ref().expect("stacks").model;
        let env = &checked.validated.envs[0];
        let present: Vec<&str> = stacks.stack.keys().map(String::as_str).collect();
        let context = StackContext {
            stacks,
            env,
            env_shape: &crate::resolve::Shapes::shared().env,
            present: &present,
        };
        let seen: Vec<String> = context
            .environment()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let documented: Vec<String> = crate::docs::TEMPLATE_CONTEXT
            .iter()
            .map(|(name, _)| name.to_string())
            .collect();
        let (mut seen_sorted, mut documented_sorted) = (seen.clone(), documented.clone());
        seen_sorted.sort();
        documented_sorted.sort();
        assert_eq!(seen_sorted, documented_sorted);
        let stack = context.stack("network", &stacks.stack["network"]);
        let mut stack_keys: Vec<String> = stack
            .as_object()
            .unwrap()
            .keys()
            .map(|k| format!("stack.{k}"))
            .collect();
        stack_keys.sort();
        assert_eq!(
            stack_keys,
            [
                "stack.kind",
                "stack.name",
                "stack.needs",
                "stack.service",
                "stack.settings",
                "stack.stack_name",
                "stack.worker"
            ]
        );
    }
}

//! The workloads of an environment as the model types them: ECS services behind the load
//! balancer, queue workers (ECS or Lambda) and their queues, and how each scales.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{EnvValue, SecretRef};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scaling {
    #[schemars(range(max = 1000))]
    pub min: u32,
    #[schemars(range(min = 1, max = 1000))]
    pub max: u32,
    /// Target average CPU utilisation, percent.
    #[schemars(range(min = 1, max = 100))]
    pub cpu_target: Option<u8>,
    /// Target average memory utilisation, percent.
    #[schemars(range(min = 1, max = 100))]
    pub memory_target: Option<u8>,
    /// Target ALB requests per task per minute.
    #[schemars(range(min = 1))]
    pub requests_target: Option<u32>,
    /// Target visible messages per task (workers).
    #[schemars(range(min = 1))]
    pub queue_depth_target: Option<u32>,
}

/// A long-running ECS Fargate service behind the load balancer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Service {
    /// Container image; defaults to the project's ECR repository. Up to 255 letters, digits
    /// and `- _ : . / # @`, as ECS takes it (`repository:tag` or `repository@sha256:…`).
    #[schemars(pattern(r"^[A-Za-z0-9][A-Za-z0-9_:./#@-]{0,254}$"))]
    pub image: Option<String>,
    /// Fargate CPU units (256 = 0.25 vCPU).
    pub cpu: u32,
    /// Fargate memory in MiB.
    pub memory: u32,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Path the load balancer checks (up to 1,024 characters, from `/`).
    #[serde(default = "default_health_check")]
    #[schemars(length(max = 1024), pattern(r"^/"))]
    pub health_check: String,
    /// Tasks to run; defaults to `scaling min`, or 1 without scaling.
    #[schemars(range(max = 1000))]
    pub desired: Option<u32>,
    pub scaling: Option<Scaling>,
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "keyed"))]
    pub secret: IndexMap<String, SecretRef>,
    /// Plain environment variables (never credentials: use `secret`): a value, or another
    /// stack's output (`REDIS_URL output="cache.Url"`).
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "dictionary"))]
    pub environment: IndexMap<String, EnvValue>,
    /// The ECS service's name; `<project>-<env>-<service>` by default.
    #[schemars(length(min = 1, max = 255), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub service_name: Option<String>,
    /// The CloudWatch log group of its containers; `/ecs/<service name>` by default.
    #[schemars(length(min = 1, max = 512), pattern(r"^[.\-_/#A-Za-z0-9]+$"))]
    pub log_group: Option<String>,
    /// Days the load balancer's access logs are kept, in a bucket of the service's stack;
    /// 0 turns access logging off.
    #[serde(default = "default_access_log_days")]
    #[schemars(range(max = 3650))]
    pub access_log_days: u32,
}

fn default_access_log_days() -> u32 {
    90
}

fn default_health_check() -> String {
    "/health".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerRuntime {
    Fargate,
    Lambda,
}

/// A queue consumer: a Fargate service or a Lambda function with an SQS event source.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Worker {
    pub runtime: WorkerRuntime,
    /// The `queue` it consumes.
    pub queue: String,
    /// The environment variable it gets the queue's URL in; `QUEUE_URL` by default.
    #[serde(default = "default_queue_url_variable")]
    #[schemars(pattern(r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub queue_url_variable: String,
    /// Fargate: the ECS service's name; `<project>-<env>-<worker>` by default.
    #[schemars(length(min = 1, max = 255), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub service_name: Option<String>,
    /// Lambda: the function's name; `<project>-<env>-<worker>` by default.
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub function_name: Option<String>,
    /// The CloudWatch log group; `/ecs/<service name>` (Fargate) or `/aws/lambda/<function
    /// name>` (Lambda's own) by default.
    #[schemars(length(min = 1, max = 512), pattern(r"^[.\-_/#A-Za-z0-9]+$"))]
    pub log_group: Option<String>,
    /// Fargate: container image, as a service's `image`.
    #[schemars(pattern(r"^[A-Za-z0-9][A-Za-z0-9_:./#@-]{0,254}$"))]
    pub image: Option<String>,
    pub cpu: Option<u32>,
    /// Fargate memory in MiB, or Lambda memory in MB.
    pub memory: Option<u32>,
    pub scaling: Option<Scaling>,
    /// Lambda: messages per invocation.
    #[schemars(range(min = 1, max = 10000))]
    pub batch_size: Option<u32>,
    /// Lambda: seconds to gather a batch.
    #[schemars(range(max = 300))]
    pub batch_window: Option<u32>,
    /// Lambda: reserved concurrent executions.
    #[schemars(range(min = 1))]
    pub reserved_concurrency: Option<u32>,
    /// Lambda: timeout in seconds.
    #[schemars(range(min = 1, max = 900))]
    pub timeout: Option<u32>,
    /// Lambda: runtime, like `nodejs24.x`.
    #[serde(default = "default_lambda_runtime")]
    pub lambda_runtime: String,
    /// Lambda: handler, like `index.handler`.
    #[serde(default = "default_handler")]
    pub handler: String,
    /// X-Ray active tracing of the function (Lambda only): each invocation is sampled and
    /// traced, and the function's role may write traces.
    #[serde(default)]
    pub tracing: bool,
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "keyed"))]
    pub secret: IndexMap<String, SecretRef>,
    /// Plain environment variables: a value, or another stack's output
    /// (`REDIS_URL output="cache.Url"`).
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "dictionary"))]
    pub environment: IndexMap<String, EnvValue>,
}

fn default_queue_url_variable() -> String {
    "QUEUE_URL".to_string()
}

fn default_lambda_runtime() -> String {
    "nodejs24.x".to_string()
}

fn default_handler() -> String {
    "index.handler".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Queue {
    /// Seconds a received message stays hidden.
    #[serde(default = "default_visibility")]
    #[schemars(range(max = 43200))]
    pub visibility_timeout: u32,
    /// Days messages are kept.
    #[serde(default = "default_retention")]
    #[schemars(range(min = 1, max = 14))]
    pub retention_days: u32,
    #[serde(default)]
    pub fifo: bool,
    pub dead_letter: Option<DeadLetter>,
    /// The environment variable services get the queue's URL in; `<QUEUE>_QUEUE_URL` by
    /// default (`jobs` → `JOBS_QUEUE_URL`).
    #[schemars(pattern(r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub url_variable: Option<String>,
    /// Alarm when this many messages are visible.
    #[schemars(range(min = 1))]
    pub alarm_depth: Option<u32>,
}

fn default_visibility() -> u32 {
    30
}

fn default_retention() -> u32 {
    4
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeadLetter {
    /// Receives before a message moves to the dead-letter queue.
    #[schemars(range(min = 1, max = 1000))]
    pub max_receives: u32,
}

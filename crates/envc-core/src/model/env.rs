//! The typed model of one merged environment (`env/<name>.kdl` after inheritance).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Queue, Service, Worker};

/// One deployable environment: an AWS account and region with its network, data stores,
/// services, workers and queues.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "envc environment")]
pub struct Environment {
    /// The environment's name (its file name); set by envc, usable as `${env}`.
    pub env: String,
    /// The project name from `stacks.kdl`; set by envc, usable as `${project}`.
    pub project: String,
    /// The 12-digit AWS account id the environment deploys to.
    #[schemars(pattern(r"^[0-9]{12}$"))]
    pub account: String,
    /// AWS region, like `us-east-1`. Defaults to the `region` of `stacks.kdl`.
    pub region: Option<String>,
    /// Protected environments keep termination protection on and guard stateful resources.
    #[serde(default)]
    pub protected: bool,
    /// Stacks whose resources that hold data (a database, bucket, queue, …) a change may
    /// replace or delete, like `allow-replace "database"`: what `check` asks of a protected
    /// environment before such a change. Remove it once the change is deployed.
    #[serde(default)]
    pub allow_replace: Vec<String>,
    /// The public domain of the API, like `${env}-api.example.com`.
    pub domain: Option<String>,
    /// Tags put on every stack (and so every resource) of the environment.
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "dictionary"))]
    pub tags: IndexMap<String, String>,
    pub network: Network,
    pub dns: Option<Dns>,
    pub database: Option<Database>,
    /// Name of the Secrets Manager secret holding the environment's JSON configuration.
    #[schemars(pattern(r"^[A-Za-z0-9/_+=.@-]{1,512}$"))]
    pub config_secret: Option<String>,
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "keyed"))]
    pub service: IndexMap<String, Service>,
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "keyed"))]
    pub worker: IndexMap<String, Worker>,
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "keyed"))]
    pub queue: IndexMap<String, Queue>,
    pub waf: Option<Waf>,
    pub monitoring: Option<Monitoring>,
    pub ci: Option<Ci>,
    pub migration: Option<Migration>,
    pub registry: Option<Registry>,
    /// The ECS cluster of the environment's services and workers.
    pub cluster: Option<Cluster>,
    /// An IAM role in the environment's account that `deploy`, `diff --live`, `status` and
    /// `destroy` assume through STS, with the credentials of the standard chain: for an
    /// account per environment. Like `arn:aws:iam::210987654321:role/envc-deploy`: a role of
    /// the environment's account and partition.
    pub deploy_role: Option<String>,
    /// Image tag services run when they name no `image` (a Docker tag: up to 128 letters,
    /// digits, `_`, `.` and `-`, not starting with `.` or `-`).
    #[serde(default = "default_image_tag")]
    #[schemars(pattern(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))]
    pub image_tag: String,
    /// Days CloudWatch keeps logs: one of the periods CloudWatch Logs offers (CloudFormation
    /// refuses any other).
    #[serde(default = "default_log_retention")]
    #[schemars(extend("enum" = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]))]
    pub log_retention_days: u32,
    /// Properties of the rendered resources, set or removed per stack and resource, like
    /// `override "database" { Instance { MaxAllocatedStorage 500 } }`: names and values as
    /// CloudFormation writes them (`#null` removes a property). Checked against the resource
    /// type's CloudFormation schema.
    #[serde(default, rename = "override")]
    #[schemars(schema_with = "overrides_schema")]
    pub overrides: IndexMap<String, IndexMap<String, serde_json::Map<String, serde_json::Value>>>,
}

/// Stacks by name (keyed), each a table of resources by logical id whose properties are free
/// (CloudFormation's, checked against the type's schema when rendered).
fn overrides_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-envc-merge": "keyed",
        "additionalProperties": {
            "type": "object",
            "x-envc-merge": "free",
            "description": "The stack's resources by logical id, each with the CloudFormation properties to set (`#null` removes one), like `override \"database\" { Instance { MaxAllocatedStorage 500 } }`.",
            "additionalProperties": {
                "type": "object",
                "description": "Properties of one resource, by their CloudFormation names."
            }
        }
    })
}

/// An environment variable's value: text, or an output of another stack of the environment,
/// which renders as an import of its export (and needs that stack deployed first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    Text(String),
    Output(StackOutput),
}

/// `output="cache.Url"`: output `Url` of stack `cache`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackOutput {
    /// `<stack>.<Output>`: a stack of the environment and one of its outputs, like
    /// `cache.Url`; the variable's stack must `needs` it.
    #[schemars(pattern(r"^[a-z][a-z0-9-]*\.[A-Za-z][A-Za-z0-9]*$"))]
    pub output: String,
}

impl StackOutput {
    /// The stack and the output it names.
    pub fn parts(&self) -> (&str, &str) {
        self.output.split_once('.').unwrap_or((&self.output, ""))
    }
}

fn default_image_tag() -> String {
    "latest".to_string()
}

fn default_log_retention() -> u32 {
    30
}

/// Retention periods CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The ECR repository of the environment's images.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Registry {
    /// Images kept; older ones expire.
    #[serde(default = "default_keep_images")]
    #[schemars(range(min = 1, max = 1000))]
    pub keep_images: u32,
    #[serde(default = "yes")]
    pub scan_on_push: bool,
    /// A pushed tag can never be moved to another image, so a tag names one build for good
    /// (deploy by version or commit, not `latest`). `#false` lets tags be pushed again.
    #[serde(default = "yes")]
    pub immutable_tags: bool,
    /// The repository's name; `<project>-<env>` by default.
    #[schemars(
        length(min = 2, max = 256),
        pattern(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
    )]
    pub repository: Option<String>,
    /// Whether deleting the stack deletes the repository's images with it (ECR refuses to
    /// delete a repository that holds images). On by default where the environment is not
    /// protected, so `envc destroy` then `deploy` works; a protected environment keeps its
    /// repository, so the setting has no effect there.
    pub empty_on_delete: Option<bool>,
}

/// The ECS cluster.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Cluster {
    /// The cluster's name; `<project>-<env>` by default.
    #[schemars(length(min = 1, max = 255), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub name: Option<String>,
}

fn default_keep_images() -> u32 {
    30
}

fn yes() -> bool {
    true
}

/// A one-off task definition that runs database migrations with a service's image.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Migration {
    /// The service whose image, secrets and environment the task uses.
    pub service: String,
    /// Command to run, like `"npx" "prisma" "migrate" "deploy"`.
    pub command: Vec<String>,
    #[serde(default = "default_task_cpu")]
    pub cpu: u32,
    #[serde(default = "default_task_memory")]
    pub memory: u32,
    /// The CloudWatch log group of its runs; `/ecs/<project>-<env>-migration` by default.
    #[schemars(length(min = 1, max = 512), pattern(r"^[.\-_/#A-Za-z0-9]+$"))]
    pub log_group: Option<String>,
}

fn default_task_cpu() -> u32 {
    256
}

fn default_task_memory() -> u32 {
    512
}

/// The VPC: a new one from `cidr`, or an existing one by `vpc-id`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Network {
    /// IPv4 CIDR of a new VPC, `/16` to `/28`.
    pub cidr: Option<String>,
    /// Number of availability zones to run in: NAT gateways (at most one per zone) and
    /// interface endpoints. Subnets always span at least two zones, as a load balancer and a
    /// database subnet group need two; with `1`, the second zone's subnets cost nothing, and
    /// the NAT gateway, the endpoints and a single-AZ database stay in the first.
    #[serde(default = "default_azs")]
    #[schemars(range(min = 1, max = 6))]
    pub azs: u8,
    /// NAT gateways for private subnets; 0 means private subnets reach AWS through endpoints.
    #[serde(default)]
    #[schemars(range(max = 6))]
    pub nat_gateways: u8,
    /// Isolated subnets (no route out) for databases.
    #[serde(default)]
    pub isolated_subnets: bool,
    /// Interface and gateway VPC endpoints.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// An existing VPC to deploy into instead of creating one.
    #[schemars(pattern(r"^vpc-[0-9a-f]{8,17}$"))]
    pub vpc_id: Option<String>,
    /// An existing VPC's public subnets, in two zones or more (a load balancer needs two).
    #[serde(default)]
    #[schemars(inner(pattern(r"^subnet-[0-9a-f]{8,17}$")))]
    pub public_subnet_ids: Vec<String>,
    /// An existing VPC's private subnets, in two zones or more (a load balancer and a database
    /// subnet group need two).
    #[serde(default)]
    #[schemars(inner(pattern(r"^subnet-[0-9a-f]{8,17}$")))]
    pub private_subnet_ids: Vec<String>,
    /// Route tables of an existing VPC's private subnets, for the `s3` gateway endpoint.
    #[serde(default)]
    #[schemars(inner(pattern(r"^rtb-[0-9a-f]{8,17}$")))]
    pub private_route_table_ids: Vec<String>,
    /// An existing VPC published in SSM Parameter Store under this path: `<path>/vpc-id`,
    /// `<path>/public-subnet-ids` and `<path>/private-subnet-ids` (string lists), and
    /// `<path>/private-route-table-ids` for the `s3` endpoint, read by CloudFormation at
    /// deploy time.
    #[schemars(pattern(r"^/[A-Za-z0-9_.\-/]+[^/]$"))]
    pub ssm_path: Option<String>,
}

fn default_azs() -> u8 {
    2
}

/// The fewest zones AWS takes subnets in: an application load balancer needs subnets in at
/// least two Availability Zones
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones),
/// and so does a DB subnet group
/// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Subnets).
pub const MIN_SUBNET_AZS: u8 = 2;

impl Network {
    /// The zones a new VPC's subnets span: `azs`, and never fewer than [`MIN_SUBNET_AZS`].
    pub fn subnet_azs(&self) -> u8 {
        self.azs.max(MIN_SUBNET_AZS)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    S3,
    Ecr,
    Logs,
    Secretsmanager,
    Sqs,
    Ssm,
}

impl Endpoint {
    /// Its name in an environment file (`endpoints "ecr" "logs"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::S3 => "s3",
            Endpoint::Ecr => "ecr",
            Endpoint::Logs => "logs",
            Endpoint::Secretsmanager => "secretsmanager",
            Endpoint::Sqs => "sqs",
            Endpoint::Ssm => "ssm",
        }
    }
}

/// A hosted zone and certificate: created, or existing ones by id and ARN.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dns {
    /// Id of an existing Route 53 hosted zone.
    #[schemars(pattern(r"^Z[A-Z0-9]{1,32}$"))]
    pub zone_id: Option<String>,
    /// Name of the hosted zone, like `example.com`: `domain` is this name or one under it.
    pub zone_name: Option<String>,
    /// The environment whose `dns` stack creates the zone (Route 53 holds one public zone per
    /// name that a registrar can delegate to); every other environment imports its id and
    /// adds only its own records and certificate. Unset: this environment creates the zone,
    /// and no other environment of the account may.
    pub zone_owner: Option<String>,
    /// ARN of an existing certificate for `domain`: from ACM, or an IAM server certificate.
    #[schemars(pattern(
        r"^arn:aws[a-z-]*:(acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+|iam::[0-9]{12}:server-certificate/[A-Za-z0-9+=,.@_/-]+)$"
    ))]
    pub certificate_arn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// RDS for PostgreSQL, one instance.
    Postgres,
    /// Aurora PostgreSQL Serverless v2.
    AuroraPostgresql,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Database {
    pub engine: Engine,
    /// Engine version, like `"16.6"` (`data/aws-rules.json` lists the versions AWS offers).
    #[schemars(pattern(r"^[0-9]+(\.[0-9]+)?$"))]
    pub version: String,
    /// RDS instance class (PostgreSQL only), like `db.t3.small`.
    pub instance_class: Option<String>,
    /// Allocated storage in GiB (PostgreSQL only).
    #[schemars(range(min = 20, max = 65536))]
    pub storage_gb: Option<u32>,
    /// A standby in another zone: RDS Multi-AZ for PostgreSQL, a reader instance the cluster
    /// fails over to for Aurora.
    #[serde(default)]
    pub multi_az: bool,
    /// Days of automated backups.
    #[serde(default = "default_backup_days")]
    #[schemars(range(max = 35))]
    pub backup_days: u8,
    /// Aurora Serverless v2 minimum capacity; 0 lets the cluster pause (from Aurora PostgreSQL
    /// 13.15, 14.12, 15.7, 16.3 and 17.4).
    #[schemars(range(min = 0, max = 256))]
    pub min_acu: Option<f64>,
    /// Aurora Serverless v2 maximum capacity; above 128 from Aurora PostgreSQL 13.13, 14.10,
    /// 15.5 and 16.1.
    #[schemars(range(min = 1, max = 256))]
    pub max_acu: Option<f64>,
    /// Storage autoscaling (PostgreSQL only): RDS grows the storage up to this many GiB as
    /// it fills; more than `storage-gb`.
    #[schemars(range(min = 21, max = 65536))]
    pub max_storage_gb: Option<u32>,
    /// A database created in the instance or cluster, like `app`; none by default (connect
    /// to `postgres` and create your own).
    #[schemars(pattern(r"^[A-Za-z][A-Za-z0-9_]{0,62}$"))]
    pub name: Option<String>,
    /// The master user's name, kept with its generated password in the credentials secret:
    /// 1 to 16 letters, digits or underscores, first a letter (RDS's `MasterUsername`).
    #[serde(default = "default_master_user")]
    #[schemars(pattern(r"^[A-Za-z][A-Za-z0-9_]{0,15}$"))]
    pub master_user: String,
    /// Whether connections must use TLS (the `rds.force_ssl` parameter, set in a parameter
    /// group of the environment's own); unset leaves the engine's default (on from
    /// PostgreSQL 15).
    pub force_ssl: Option<bool>,
    /// Other database parameters, by name (`log_min_duration_statement "500"`), in the same
    /// parameter group.
    #[serde(default)]
    #[schemars(extend("x-envc-merge" = "dictionary"))]
    pub parameters: IndexMap<String, String>,
}

fn default_master_user() -> String {
    "app".to_string()
}

fn default_backup_days() -> u8 {
    7
}

/// Where a container secret comes from: a Secrets Manager secret (and JSON key) or an SSM
/// parameter. Never a value.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretRef {
    /// Secrets Manager secret name or ARN.
    pub from: Option<String>,
    /// JSON key inside the secret.
    pub key: Option<String>,
    /// SSM parameter name, like `/app/prod/token`.
    pub ssm: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Waf {
    /// Requests per 5 minutes from one IP before it is blocked.
    #[schemars(range(min = 10, max = 2000000000))]
    pub rate_limit: u32,
    /// AWS managed rule groups to apply, in order, like `AWSManagedRulesSQLiRuleSet`. The
    /// default blocks common exploits (OWASP) and known bad inputs (Log4Shell and the like).
    #[serde(default = "default_managed_rules")]
    #[schemars(
        length(min = 0, max = 20),
        inner(pattern(r"^AWSManagedRules[A-Za-z0-9]+$"))
    )]
    pub managed_rules: Vec<String>,
}

fn default_managed_rules() -> Vec<String> {
    vec![
        "AWSManagedRulesCommonRuleSet".to_string(),
        "AWSManagedRulesKnownBadInputsRuleSet".to_string(),
    ]
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Monitoring {
    /// Where alarms are sent: an email address, which SNS asks to confirm the subscription.
    #[schemars(length(max = 254), pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"))]
    pub alarm_email: Option<String>,
    /// Monthly cost budget in USD, for the costs tagged `envc:env` with this environment. AWS
    /// counts a tag only once it is activated as a cost allocation tag (Billing console, Cost
    /// allocation tags, `envc:env`, Activate; a day later it applies, to costs from then on):
    /// https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html
    #[schemars(range(min = 1))]
    pub budget_usd: Option<u32>,
    #[serde(default)]
    pub dashboard: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Ci {
    /// GitHub repository allowed to assume the deploy role, `owner/name`.
    #[schemars(pattern(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"))]
    pub github_repo: String,
    /// Branch allowed to deploy; any branch when absent.
    pub branch: Option<String>,
    /// Create the account's GitHub OIDC provider (once per account); otherwise it must exist.
    #[serde(default)]
    pub create_oidc_provider: bool,
}

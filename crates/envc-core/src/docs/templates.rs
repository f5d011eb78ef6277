//! `docs/templates.md`: what every template sees, what only the stack being rendered sees,
//! and the functions, filters, macros and blocks templates can use.

use std::fmt::Write;

use super::cell;

/// What every template sees, in the order `docs/templates.md` lists it. A test holds the
/// names to what the renderer provides.
pub const TEMPLATE_CONTEXT: &[(&str, &str)] = &[
    ("project", "The project name from `stacks.kdl`."),
    ("env", "The environment's name."),
    ("account", "The environment's 12-digit AWS account id."),
    ("region", "The environment's region."),
    ("protected", "Whether the environment is protected (`protected #true`)."),
    ("config", "The environment's settings, names in snake_case (`config.network.nat_gateways`); keyed blocks by their names as written (`config.service[\"api\"]`); a project-kind stack's settings block under the stack's name (`config[\"nightly-report\"]`)."),
    ("stacks", "The stacks this environment renders, by name: `kind`, `service`, `worker`, `stack_name`."),
    ("kinds", "The first stack of each kind this environment renders, by kind: `kinds.network` is `\"network\"` where `stack \"network\" kind=\"network\"`."),
    ("workloads", "The stacks that run code in the VPC, each with a security group of its own that the network stack makes: `stack`, `id` (its logical id, `ApiStackSecurityGroup`), `port` (a service's, which its load balancer reaches), `database` (whether it reaches the database)."),
    ("database_family", "The parameter group family of the environment's database engine and major version (`postgres16`, `aurora-postgresql16`), or none without a database."),
    ("partition", "`aws`, `aws-cn` or `aws-us-gov`, from the region."),
    ("alb_zone_id", "The Route 53 zone id of load balancers in the region, or none where envc does not know it."),
    ("elb_log_account", "The account load balancers write access logs from in the region, or none where the log delivery service is named instead."),
    ("subnets", "The subnet plan of a new VPC: each subnet's `tier`, `az` index and `cidr`."),
    ("subnet_azs", "The zones a new VPC's subnets span: `network.azs`, and at least 2 (a load balancer and a DB subnet group need two)."),
    ("image_repository", "The environment's ECR repository URI (`<account>.dkr.ecr.<region>.amazonaws.com/<project>-<env>`)."),
    ("resource_prefix", "`<project>-<env>`, the start of resource names."),
    ("names", "The names resources get, as set or by default: `names.cluster`, `names.repository`, `names.services[<name>]` (`service`, `log_group`), `names.workers[<name>]` (`unit`: the ECS service or Lambda function, `log_group`), `names.queue_url_variables[<queue>]`, `names.queues[<queue>]` (`queue`, `dead_letter`), `names.database` (and `database_writer`, `database_reader`), `names.artifacts_bucket`; each within AWS's length for its type."),
    ("tags", "The project's and environment's tags, as CloudFormation `Key`/`Value` pairs."),
];

/// What only the stack being rendered sees.
const STACK_CONTEXT: &[(&str, &str)] = &[
    ("stack.name", "The stack's name in `stacks.kdl`."),
    ("stack.kind", "Its kind."),
    ("stack.service, stack.worker", "The service or worker it selects, for `service` and `worker` stacks."),
    ("stack.stack_name", "Its CloudFormation stack name, `<project>-<env>-<stack>`."),
    ("stack.needs", "The stacks it needs."),
    ("settings", "A project kind's settings block of this environment, defaults filled in (an optional setting without a default is none), names in snake_case; none for built-in kinds."),
];

/// Functions and filters templates can call.
const HELPERS: &[(&str, &str)] = &[
    ("import_value(stack, output)", "`!ImportValue <project>-<env>-<stack>-<output>`: an output of a stack this one needs."),
    ("import_value(stack, output, env)", "The same output of another environment of the project (same account and region), like a shared hosted zone."),
    ("export_name(output)", "`<project>-<env>-<stack>-<output>` for an output of this stack."),
    ("value | pascal", "`jobs-dlq` → `JobsDlq`, for logical ids."),
    ("security_group(stack)", "The id of stack `stack`'s own security group, which the network stack makes for every stack that runs code in the VPC (services, workers, the migration, and project-kind stacks that need the network): a cache admits only the API with `SourceSecurityGroupId: {{ security_group(\"api\") }}`."),
    ("fail(setting, message)", "Refuses the environment's settings with `message`, shown at the env file line that set `setting` (a dotted path in the stack's settings block, else in the environment): a rule of a kind that its schema cannot say."),
    ("env_value(value)", "An environment variable's value as CloudFormation writes it: text as JSON, another stack's output (`output=\"cache.Url\"`) as the import of its export."),
    ("name | fit(max)", "The name when it has at most `max` characters, else its start and a hash of the whole, `max` long: a name within AWS's limit (`fit(32)` for a load balancer) that stays distinct from its neighbours."),
    ("value | tojson", "A value as JSON, which YAML reads as the same value: write every setting with it. A value that is not defined (a misspelt setting) is an error, not `null`; a setting that is not set is `null`, and printed without `tojson` it is an error."),
];

/// Macros of `_macros.j2` (import it: `{% import "_macros.j2" as m %}`).
const MACROS: &[(&str, &str)] = &[
    (
        "m.header(what)",
        "`AWSTemplateFormatVersion` and a `Description`.",
    ),
    (
        "m.export(output, value)",
        "An output exported under `export_name(output)`.",
    ),
    (
        "m.log_group(name)",
        "A `LogGroup` resource kept `log-retention-days`, retained in protected environments.",
    ),
    (
        "m.execution_role(name, secrets)",
        "An ECS task execution role that may read exactly the given secrets.",
    ),
    (
        "m.image(unit)",
        "A service's or worker's image: its own, or the environment's repository at the `ImageTag` parameter.",
    ),
    (
        "m.image_tag_parameter(unit)",
        "The `ImageTag` parameter (default `image-tag`) of a stack whose unit runs the environment's repository; `envc deploy --image-tag` sets it.",
    ),
    (
        "m.container_secrets(secrets), m.container_environment(vars, extra)",
        "ECS container `Secrets` (by reference) and `Environment`.",
    ),
    (
        "m.checkov_skip([[id, reason], …])",
        "`Metadata` that answers a checkov finding with its reason.",
    ),
    (
        "m.hosted_zone_id(dns_stack)",
        "The environment's hosted zone: created, existing, or the `zone-owner`'s.",
    ),
    (
        "m.queue_policies(), m.stateful_policies(protected)",
        "Deletion and replacement policies.",
    ),
    (
        "m.alarm(id, description, namespace, metric, dimensions, statistic, comparison, threshold, periods=3, period=60, missing=\"notBreaching\")",
        "A CloudWatch alarm on one metric (`dimensions`: name and value pairs) that notifies the stack's `AlarmTopic` when it goes off and when it clears.",
    ),
];

/// Blocks of the built-in templates a project template can fill (`{% extends
/// "builtin/<kind>.yaml.j2" %}`).
const BLOCKS: &[(&str, &str)] = &[
    (
        "extra_resources",
        "Every built-in: more resources, after its own (two-space indented, like `  Name:`).",
    ),
    (
        "extra_outputs",
        "Every built-in: more outputs, after its own.",
    ),
    (
        "sidecars",
        "`service`: more containers of the task, as items of `ContainerDefinitions`.",
    ),
    (
        "task_role_statements",
        "`service`: more statements of the task role's policy, as items of `Statement`.",
    ),
];

pub(super) fn templates_md() -> String {
    let mut out = String::from(
        "# Templates\n\nWhat a template sees and can call, generated by `envc docs`; do not edit. \
         Templates are [minijinja](https://docs.rs/minijinja) (Jinja2) writing YAML: trim and \
         lstrip blocks are on, undefined names are errors, nothing is escaped.\n",
    );
    for (title, rows) in [
        ("What every template sees", TEMPLATE_CONTEXT),
        ("What the stack being rendered sees", STACK_CONTEXT),
        ("Functions and filters", HELPERS),
        ("Macros of `_macros.j2`", MACROS),
        ("Blocks a project template can fill", BLOCKS),
    ] {
        let _ = write!(out, "\n## {title}\n\n| name | what it is |\n|---|---|\n");
        for (name, what) in rows {
            let _ = writeln!(out, "| `{}` | {} |", cell(name), cell(what));
        }
    }
    out
}

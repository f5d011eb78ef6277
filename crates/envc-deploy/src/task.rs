//! `envc run TASK ENV`: one run of a stack's ECS task (the database migration). It starts
//! with RunTask on Fargate, in the cluster and private subnets that the stacks it `needs`
//! output and in its own stack's security group (the network's `<Stack>StackSecurityGroupId`;
//! its shared group for a network deployed by an earlier envc), without a public address:
//! where the services run. Then it follows the task to its end,
//! streaming its container's CloudWatch log lines (the task definition says which container
//! and where its logs go), and returns the container's exit code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, LaunchType, LogDriver, NetworkConfiguration,
};

use super::clients::{aws_failure, Clients, OrFailure};
use super::DeployTarget;
use envc_core::diagnostic::{Code, Diagnostic};

/// The output of a stack with a task to run: its task definition.
pub const DEFINITION_OUTPUT: &str = "TaskDefinitionArn";

/// Where a task runs: outputs of the stacks it needs (the cluster and network stacks).
const PLACE_OUTPUTS: [&str; 3] = ["ClusterName", "PrivateSubnetIds", "ServiceSecurityGroupId"];

/// What a run tells the person watching, as it happens.
#[derive(Debug, Clone)]
pub enum RunProgress {
    Started {
        task_arn: String,
        cluster: String,
    },
    /// The task's `lastStatus` changed: `PROVISIONING`, `PENDING`, `RUNNING`, `STOPPED`, …
    Status(String),
    /// A line the container wrote.
    Log(String),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub task_arn: String,
    /// The container's exit code.
    pub exit_code: i32,
}

/// The task a run started, for Ctrl-C: (cluster, task ARN).
#[derive(Debug, Default, Clone)]
pub struct StartedTask(Arc<Mutex<Option<(String, String)>>>);

impl StartedTask {
    pub fn get(&self) -> Option<(String, String)> {
        self.0.lock().ok().and_then(|t| t.clone())
    }
    fn set(&self, cluster: &str, task_arn: &str) {
        if let Ok(mut task) = self.0.lock() {
            *task = Some((cluster.to_string(), task_arn.to_string()));
        }
    }
}

/// The container a run follows, and where its log lines go.
struct Container {
    name: String,
    /// (log group, stream prefix) of its `awslogs` configuration.
    logs: Option<(String, String)>,
}

/// Runs the task of stack `task` of `target` to its end.
pub async fn run(
    target: &DeployTarget,
    task: &str,
    started: &StartedTask,
    progress: &(dyn Fn(RunProgress) + Sync),
) -> Result<RunOutcome, Diagnostic> {
    let Some(stack) = target
        .stack(task)
        .filter(|_| target.tasks().any(|t| t == task))
    else {
        return Err(target.unknown_task(task));
    };
    let clients = Clients::to_change(&target.aws, &target.env).await?;
    let cf = &clients.cloudformation;
    let Some(info) = super::stack::describe(cf, &stack.stack_name).await? else {
        return Err(Diagnostic::error(
            Code::NotRunnable,
            format!(
                "`{}` is not deployed, so its task cannot run",
                stack.stack_name
            ),
        )
        .help(format!("deploy it first: `envc deploy {}`", target.env)));
    };
    let Some(definition) = output(&info.outputs, DEFINITION_OUTPUT) else {
        return Err(Diagnostic::error(
            Code::NotRunnable,
            format!("stack `{task}` of `{}` has no task to run", target.env),
        )
        .help("`envc run` starts the task of a stack that outputs `TaskDefinitionArn`, like a `migration` stack"));
    };
    let mut place: Vec<Option<String>> = vec![None; PLACE_OUTPUTS.len()];
    let own_group = format!("{}StackSecurityGroupId", envc_core::render::pascal(task));
    for need in stack.needs.iter().filter_map(|n| target.stack(n)) {
        let Some(needed) = super::stack::describe(cf, &need.stack_name).await? else {
            continue;
        };
        place[2] = place[2]
            .take()
            .or_else(|| output(&needed.outputs, &own_group));
        for (found, name) in place.iter_mut().zip(PLACE_OUTPUTS) {
            *found = found.take().or_else(|| output(&needed.outputs, name));
        }
    }
    let missing: Vec<&str> = PLACE_OUTPUTS
        .into_iter()
        .zip(&place)
        .filter(|(_, found)| found.is_none())
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        return Err(Diagnostic::error(
            Code::NotRunnable,
            format!("no stack that `{task}` needs outputs {}, so there is nowhere to run its task", missing.join(", ")),
        )
        .help(format!("a task runs where the services do: `needs` the cluster and network stacks, deployed (`envc deploy {}`)", target.env)));
    }
    let [cluster, subnets, groups] = [0, 1, 2].map(|i| place[i].clone().unwrap_or_default());
    let container = container(&clients.ecs, &definition).await?;
    let task_arn = start(&clients.ecs, &cluster, &definition, &subnets, &groups).await?;
    started.set(&cluster, &task_arn);
    progress(RunProgress::Started {
        task_arn: task_arn.clone(),
        cluster: cluster.clone(),
    });
    follow(&clients, &cluster, &task_arn, &container, progress).await
}

fn output(outputs: &[(String, String)], name: &str) -> Option<String> {
    outputs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

/// The essential container of the task definition, and its `awslogs` group and prefix.
async fn container(ecs: &aws_sdk_ecs::Client, definition: &str) -> Result<Container, Diagnostic> {
    let described = ecs
        .describe_task_definition()
        .task_definition(definition)
        .send()
        .await
        .or_failure(|| format!("cannot read task definition `{definition}`"))?;
    let containers = described
        .task_definition()
        .map(|d| d.container_definitions())
        .unwrap_or_default();
    let chosen = containers
        .iter()
        .find(|c| c.essential() != Some(false))
        .or(containers.first())
        .ok_or_else(|| {
            Diagnostic::error(
                Code::NotRunnable,
                format!("task definition `{definition}` has no container"),
            )
            .help("deploy the environment again to restore its task definition")
        })?;
    let logs = chosen.log_configuration().and_then(|config| {
        let options = config.options()?;
        (config.log_driver() == &LogDriver::Awslogs).then(|| {
            (
                options.get("awslogs-group").cloned().unwrap_or_default(),
                options
                    .get("awslogs-stream-prefix")
                    .cloned()
                    .unwrap_or_default(),
            )
        })
    });
    Ok(Container {
        name: chosen.name().unwrap_or_default().to_string(),
        logs,
    })
}

/// RunTask: one Fargate task of `definition`, in the given subnets and security groups
/// (comma-separated, as the outputs hold them), without a public address.
async fn start(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    definition: &str,
    subnets: &str,
    groups: &str,
) -> Result<String, Diagnostic> {
    let list = |ids: &str| {
        ids.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    };
    let network = AwsVpcConfiguration::builder()
        .set_subnets(Some(list(subnets)))
        .set_security_groups(Some(list(groups)))
        .assign_public_ip(AssignPublicIp::Disabled)
        .build()
        .map_err(|e| aws_failure("cannot describe the task's network", e.to_string()))?;
    let answer = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(definition)
        .launch_type(LaunchType::Fargate)
        .count(1)
        .started_by("envc")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(network)
                .build(),
        )
        .send()
        .await
        .or_failure(|| format!("ECS refused to run `{definition}`"))?;
    if let Some(task) = answer.tasks().first().and_then(|t| t.task_arn()) {
        return Ok(task.to_string());
    }
    let why: Vec<String> = answer
        .failures()
        .iter()
        .map(|f| {
            [f.reason(), f.detail()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        })
        .collect();
    Err(Diagnostic::error(
        Code::TaskFailed,
        format!("ECS did not start `{definition}`: {}", why.join("; ")),
    )
    .help("a capacity or quota reason passes: run it again; any other names what to fix in the environment"))
}

/// Follows the task until it stops, streaming its log lines.
async fn follow(
    clients: &Clients,
    cluster: &str,
    task_arn: &str,
    container: &Container,
    progress: &(dyn Fn(RunProgress) + Sync),
) -> Result<RunOutcome, Diagnostic> {
    let task_id = task_arn.rsplit('/').next().unwrap_or(task_arn);
    let stream = container.logs.as_ref().map(|(group, prefix)| {
        let name = match prefix.as_str() {
            "" => format!("{}/{task_id}", container.name),
            prefix => format!("{prefix}/{}/{task_id}", container.name),
        };
        (group.clone(), name)
    });
    let mut token: Option<String> = None;
    let mut last_status = String::new();
    let mut delay = Duration::from_millis(500);
    loop {
        let task = describe(&clients.ecs, cluster, task_arn).await?;
        let status = task.last_status().unwrap_or_default().to_string();
        if status != last_status {
            progress(RunProgress::Status(status.clone()));
            last_status = status.clone();
        }
        if let Some((group, name)) = &stream {
            read_logs(&clients.logs, group, name, &mut token, progress).await;
        }
        if status == "STOPPED" {
            if let Some((group, name)) = &stream {
                // CloudWatch Logs lags the container by a few seconds.
                for _ in 0..3 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if !read_logs(&clients.logs, group, name, &mut token, progress).await {
                        break;
                    }
                }
            }
            return stopped(&task, task_arn, &container.name);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(3));
    }
}

async fn describe(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    task_arn: &str,
) -> Result<aws_sdk_ecs::types::Task, Diagnostic> {
    let answer = ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(task_arn)
        .send()
        .await
        .or_failure(|| format!("cannot describe task `{task_arn}`"))?;
    answer.tasks().first().cloned().ok_or_else(|| {
        Diagnostic::error(
            Code::TaskFailed,
            format!("ECS no longer knows task `{task_arn}`"),
        )
        .help("ECS forgets stopped tasks after about an hour; its logs stay in CloudWatch Logs")
    })
}

/// Prints the log lines after `token`; whether there were any.
async fn read_logs(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    token: &mut Option<String>,
    progress: &(dyn Fn(RunProgress) + Sync),
) -> bool {
    let mut any = false;
    loop {
        let Ok(page) = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
        else {
            // The stream does not exist until the container starts.
            return any;
        };
        for event in page.events() {
            progress(RunProgress::Log(
                event.message().unwrap_or_default().to_string(),
            ));
        }
        let next = page.next_forward_token().map(String::from);
        let more = !page.events().is_empty() && next != *token;
        any |= !page.events().is_empty();
        *token = next;
        if !more {
            return any;
        }
    }
}

/// The container's exit code, or why there is none.
fn stopped(
    task: &aws_sdk_ecs::types::Task,
    task_arn: &str,
    container: &str,
) -> Result<RunOutcome, Diagnostic> {
    let ran = task
        .containers()
        .iter()
        .find(|c| c.name() == Some(container))
        .or(task.containers().first());
    if let Some(code) = ran.and_then(|c| c.exit_code()) {
        return Ok(RunOutcome {
            task_arn: task_arn.to_string(),
            exit_code: code,
        });
    }
    let reasons: Vec<&str> = [task.stopped_reason(), ran.and_then(|c| c.reason())]
        .into_iter()
        .flatten()
        .collect();
    if reasons.iter().any(|r| r.contains("OutOfMemory")) {
        return Err(Diagnostic::error(
            Code::TaskFailed,
            format!(
                "task `{task_arn}`'s container was killed for using more memory than it has: {}",
                reasons.join("; ")
            ),
        )
        .help("give the task more memory (its stack's `memory`, within Fargate's pairs for its `cpu`), or make it use less"));
    }
    Err(Diagnostic::error(
        Code::TaskFailed,
        format!(
            "task `{task_arn}` stopped before its container ran: {}",
            if reasons.is_empty() { "ECS gave no reason".to_string() } else { reasons.join("; ") }
        ),
    )
    .help("an image that cannot be pulled (`CannotPullContainerError`) is shipped first with `envc deploy ENV --image-tag TAG`; a secret it cannot read is fixed in the environment"))
}

/// Ctrl-C with `--stop`: StopTask, so the task does not go on without anyone watching.
pub async fn stop(target: &DeployTarget, cluster: &str, task_arn: &str) -> Result<(), Diagnostic> {
    let clients = Clients::new(&target.aws).await?;
    clients
        .ecs
        .stop_task()
        .cluster(cluster)
        .task(task_arn)
        .reason("envc run was interrupted")
        .send()
        .await
        .map(|_| ())
        .or_failure(|| format!("cannot stop task `{task_arn}`"))
}

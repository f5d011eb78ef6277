//! `envc run migration local` against moto. moto 5.2 crashes on RunTask with awsvpc
//! networking (its network interface has no `private_dns_name`), so the proxy answers RunTask,
//! DescribeTasks and StopTask as ECS does; everything else (the stacks' outputs, the task
//! definition, the CloudWatch log lines) is moto's.

use crate::support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use support::proxy::{answer, Proxy, Rule};
use support::{copy_project, envc_at, root, Moto, Run};

const TASK_ID: &str = "5f2c0e0a8d6b4f1e9a7c3b2d1e0f9a8b";

fn task_arn() -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:task/balancer-local/{TASK_ID}")
}

/// ECS's answer for the task: `lastStatus`, and the container's exit code once stopped.
fn task(status: &str, exit_code: Option<i32>) -> serde_json::Value {
    let mut container = serde_json::json!({"name": "migration", "lastStatus": status});
    if let Some(code) = exit_code {
        container["exitCode"] = code.into();
    }
    serde_json::json!({
        "taskArn": task_arn(),
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/balancer-local",
        "lastStatus": status,
        "desiredStatus": if status == "STOPPED" { "STOPPED" } else { "RUNNING" },
        "launchType": "FARGATE",
        "containers": [container],
    })
}

/// RunTask starts the task; DescribeTasks says PENDING, then RUNNING `running` times, then
/// STOPPED with `exit_code` (never, with `None`); StopTask is acknowledged.
fn ecs_answering(running: usize, exit_code: Option<i32>) -> Vec<Rule> {
    let asked = Arc::new(AtomicUsize::new(0));
    vec![
        Rule::new(
            "RunTask",
            answer(|_| {
                serde_json::json!({"tasks": [task("PROVISIONING", None)], "failures": []})
                    .to_string()
            }),
        ),
        Rule::new(
            "DescribeTasks",
            answer(move |_| {
                let n = asked.fetch_add(1, Ordering::SeqCst);
                let now = match n {
                    0 => task("PENDING", None),
                    n if n <= running || exit_code.is_none() => task("RUNNING", None),
                    _ => task("STOPPED", exit_code),
                };
                serde_json::json!({"tasks": [now], "failures": []}).to_string()
            }),
        ),
        Rule::new(
            "StopTask",
            answer(|_| serde_json::json!({"task": task("STOPPED", None)}).to_string()),
        ),
    ]
}

/// Deploys `local` and writes the container's log lines where `awslogs` puts them.
fn deployed(moto: &Moto) -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    copy_project(root(), project.path());
    moto.seed_local();
    let deploy = envc_at(project.path(), &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(deploy.code, 0, "{}", deploy.all());
    moto.python(&format!(
        "import time\nlogs = boto3.client('logs', **kw)\ngroup = '/ecs/balancer-local-migration'\n\
         stream = 'migration/migration/{TASK_ID}'\nlogs.create_log_stream(logGroupName=group, logStreamName=stream)\n\
         now = int(time.time() * 1000)\n\
         logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[\
         {{'timestamp': now, 'message': 'Applying migration `20261201_add_wallets`'}},\
         {{'timestamp': now + 1, 'message': 'using key AKIAABCDEFGHIJKLMNOP'}},\
         {{'timestamp': now + 2, 'message': 'Error: P3018 A migration failed to apply.'}}])"
    ));
    project
}

fn output(moto: &Moto, stack: &str, key: &str) -> String {
    moto.python(&format!(
        "print(next(o['OutputValue'] for o in cf.describe_stacks(StackName='{stack}')['Stacks'][0]['Outputs'] if o['OutputKey'] == '{key}'))"
    ))
    .trim()
    .to_string()
}

#[test]
fn run_migration_starts_the_task_where_the_services_run_and_exits_with_its_code() {
    let moto = Moto::start();
    let project = deployed(&moto);
    let proxy = Proxy::start(moto.port, ecs_answering(2, Some(3)));
    let run = envc_at(project.path(), &proxy.url(), &["run", "migration", "local"]);
    assert_eq!(run.code, 3, "the container's exit code:\n{}", run.all());
    shows_the_logs_and_the_progress(&run);
    run_task_asked_for_the_services_network(&moto, &proxy);

    // A migration that succeeds exits 0.
    proxy.set_rules(ecs_answering(0, Some(0)));
    let ok = envc_at(project.path(), &proxy.url(), &["run", "migration", "local"]);
    assert_eq!(ok.code, 0, "{}", ok.all());

    // A code no shell shows (negative, or past 255) is a failure still.
    for code in [-1, 256] {
        proxy.set_rules(ecs_answering(0, Some(code)));
        let odd = envc_at(project.path(), &proxy.url(), &["run", "migration", "local"]);
        assert_eq!(odd.code, 255, "{code}: {}", odd.all());
    }

    tasks_not_runnable_are_refused_before_any_request(project.path(), &proxy);
    assert_eq!(proxy.answered("RunTask").len(), 4);

    // ECS that no longer knows the task it started: the run failed, and says so.
    proxy.set_rules(ecs_forgetting_the_task());
    let lost = envc_at(project.path(), &proxy.url(), &["run", "migration", "local"]);
    assert_eq!(lost.code, 1, "{}", lost.all());
    for shown in ["envc::run::task-failed", "ECS no longer knows task"] {
        assert!(lost.stderr.contains(shown), "{shown:?}:\n{}", lost.stderr);
    }
}

/// The task's log lines, on standard output, in order (a credential masked, as everywhere);
/// its progress on standard error.
fn shows_the_logs_and_the_progress(run: &Run) {
    assert_eq!(
        run.stdout,
        "Applying migration `20261201_add_wallets`\nusing key ********************\nError: P3018 A migration failed to apply.\n",
        "{}",
        run.all()
    );
    for shown in [
        &format!("migration: started task {TASK_ID} in cluster balancer-local"),
        "migration: PENDING",
        "migration: RUNNING",
        "migration: STOPPED",
        &format!("migration: task {TASK_ID} exited with 3"),
    ] {
        assert!(run.stderr.contains(shown), "{shown:?}:\n{}", run.stderr);
    }
}

/// RunTask (asked once): the migration's task definition, on Fargate, in the services'
/// private subnets and security group, without a public address.
fn run_task_asked_for_the_services_network(moto: &Moto, proxy: &Proxy) {
    let asked = proxy.answered("RunTask");
    assert_eq!(asked.len(), 1);
    let request: serde_json::Value = serde_json::from_str(&asked[0]).unwrap();
    let subnets: Vec<String> = output(moto, "balancer-local-network", "PrivateSubnetIds")
        .split(',')
        .map(String::from)
        .collect();
    assert_eq!(request["cluster"], "balancer-local", "{request:#}");
    assert_eq!(
        request["taskDefinition"],
        output(moto, "balancer-local-migration", "TaskDefinitionArn"),
        "{request:#}"
    );
    assert_eq!(request["launchType"], "FARGATE", "{request:#}");
    let network = &request["networkConfiguration"]["awsvpcConfiguration"];
    assert_eq!(
        network["subnets"],
        serde_json::json!(subnets),
        "{request:#}"
    );
    // The migration's own group, which admits it to the database and nothing else to it.
    assert_eq!(
        network["securityGroups"],
        serde_json::json!([output(
            moto,
            "balancer-local-network",
            "MigrationStackSecurityGroupId"
        )]),
        "{request:#}"
    );
    assert_eq!(network["assignPublicIp"], "DISABLED", "{request:#}");
}

/// A stack without a task, and a misspelt one, are usage errors refused before any
/// request, with the task meant.
fn tasks_not_runnable_are_refused_before_any_request(project: &Path, proxy: &Proxy) {
    let asked = proxy.seen.lock().unwrap().len();
    let refused = envc_at(project, &proxy.url(), &["run", "queues", "local"]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    for shown in [
        "envc::run::unknown-task",
        "stack `queues` of `local` has no task to run",
        "its tasks: migration",
        "─[stacks.kdl:",
        "a stack without a task",
    ] {
        assert!(
            refused.stderr.contains(shown),
            "{shown:?}:\n{}",
            refused.stderr
        );
    }
    let misspelt = envc_at(project, &proxy.url(), &["run", "migratoin", "local"]);
    assert_eq!(misspelt.code, 2, "{}", misspelt.all());
    assert!(
        misspelt.stderr.contains("did you mean `migration`?"),
        "{}",
        misspelt.stderr
    );
    assert_eq!(
        proxy.seen.lock().unwrap().len(),
        asked,
        "no request reached AWS"
    );
}

/// ECS that answers as [`ecs_answering`] with a successful task, but whose DescribeTasks no
/// longer knows the task it started.
fn ecs_forgetting_the_task() -> Vec<Rule> {
    let mut forgotten = ecs_answering(0, Some(0));
    forgotten[1] = Rule::new(
        "DescribeTasks",
        answer(|_| serde_json::json!({"tasks": [], "failures": []}).to_string()),
    );
    forgotten
}

#[test]
fn a_task_whose_stack_is_not_deployed_is_not_runnable() {
    let moto = Moto::start();
    let run = envc_at(root(), &moto.url(), &["run", "migration", "local"]);
    assert_eq!(run.code, 1, "{}", run.all());
    for shown in [
        "envc::run::not-runnable",
        "`balancer-local-migration` is not deployed, so its task cannot run",
        "deploy it first: `envc deploy local`",
    ] {
        assert!(run.stderr.contains(shown), "{shown:?}:\n{}", run.stderr);
    }
}

#[test]
fn ctrl_c_says_how_to_stop_the_task_or_stops_it_with_stop() {
    let moto = Moto::start();
    let project = deployed(&moto);
    let proxy = Proxy::start(moto.port, ecs_answering(0, None));
    for (args, said) in [
        (
            &["run", "migration", "local"][..],
            "aws ecs stop-task --cluster balancer-local --task ",
        ),
        (
            &["run", "migration", "local", "--stop"][..],
            "stopping task ",
        ),
    ] {
        let described = proxy.requests("DescribeTasks");
        let mut command = support::envc_command(project.path(), args);
        command
            .env("AWS_ENDPOINT_URL", proxy.url())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
        // Once envc follows the task.
        let (code, stderr) =
            support::interrupted_when(command, || proxy.requests("DescribeTasks") >= described + 2);
        assert_eq!(code, Some(130), "{stderr}");
        assert!(stderr.contains(&format!("{said}{TASK_ID}")), "{stderr}");
    }
    // Only `--stop` stopped it, naming the task.
    let stops = proxy.answered("StopTask");
    assert_eq!(stops.len(), 1, "{stops:?}");
    assert!(stops[0].contains(&task_arn()), "{}", stops[0]);
}

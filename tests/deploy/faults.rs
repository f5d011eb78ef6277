//! What AWS does to a deploy that moto does not by itself, driven through the proxy: throttling,
//! lost answers, stacks left failed or busy, failed creates and Ctrl-C while waiting.

use std::time::Duration;

use crate::support;
use support::proxy::{aws_error, rewrite, Fault, Proxy, Rule};
use support::{envc_at, root, Moto};

use super::*;

#[test]
fn throttling_server_errors_dropped_connections_and_slow_calls_are_retried() {
    let moto = Moto::start();
    moto.seed_local();
    let proxy = Proxy::start(
        moto.port,
        vec![
            Rule::new(
                "CreateStack",
                Fault::Respond(400, aws_error("Throttling", "Rate exceeded")),
            )
            .times(2),
            Rule::new(
                "DescribeStacks",
                Fault::Respond(503, aws_error("ServiceUnavailable", "try again")),
            )
            .times(2),
            Rule::new("DescribeStackEvents", Fault::Drop).times(2),
            Rule::new("DescribeStacks", Fault::Delay(Duration::from_millis(1500))).times(1),
        ],
    );
    let run = envc_at(
        root(),
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "cluster"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("  cluster        created      CREATE_COMPLETE"),
        "{}",
        run.stdout
    );
    assert_eq!(proxy.faults_applied("CreateStack"), 2);
    assert_eq!(proxy.faults_applied("DescribeStacks"), 3);
    assert_eq!(proxy.faults_applied("DescribeStackEvents"), 2);
}

/// A write whose answer is lost is resent by the SDK; its token makes CloudFormation take
/// the resent one for the one it did, not a second stack or change set.
#[test]
fn writes_whose_answers_were_lost_are_resent_and_done_once() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new("CreateStack", Fault::Lose).times(1)],
    );
    let created = envc_at(
        dir,
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "queues"],
    );
    assert_eq!(created.code, 0, "{}", created.all());
    assert!(
        created
            .stdout
            .contains("  queues         created      CREATE_COMPLETE"),
        "{}",
        created.stdout
    );
    assert_eq!(proxy.faults_applied("CreateStack"), 1);
    assert_eq!(
        proxy.requests("CreateStack"),
        2,
        "the SDK resent the lost one"
    );

    lengthen_jobs_visibility(dir);
    let proxy = Proxy::start(
        moto.port,
        vec![
            Rule::new("CreateChangeSet", Fault::Lose).times(1),
            Rule::new("ExecuteChangeSet", Fault::Lose).times(1),
        ],
    );
    let updated = envc_at(
        dir,
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "queues"],
    );
    assert_eq!(updated.code, 0, "{}", updated.all());
    assert!(
        updated
            .stdout
            .contains("  queues         updated      UPDATE_COMPLETE"),
        "{}",
        updated.stdout
    );
    assert_eq!(proxy.requests("CreateChangeSet"), 2);
    assert_eq!(proxy.requests("ExecuteChangeSet"), 2);
    let timeouts = jobs_visibility_and_change_sets(&moto);
    assert_eq!(
        timeouts,
        ["600", "EXECUTE_COMPLETE"],
        "one change set, executed once: {timeouts:?}"
    );
}

#[test]
fn a_stack_left_in_rollback_complete_is_explained_and_replaced_on_request() {
    let moto = moto_with_cluster();
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new(
            "DescribeStacks",
            with_status("CREATE_COMPLETE", "ROLLBACK_COMPLETE"),
        )
        .until("DeleteStack")],
    );

    let refused = envc_at(
        root(),
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "cluster"],
    );
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains("envc::deploy::stack-state"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("ROLLBACK_COMPLETE") && refused.stderr.contains("--replace-failed"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        proxy.requests("CreateChangeSet") + proxy.requests("DeleteStack"),
        0
    );

    let replaced = envc_at(
        root(),
        &proxy.url(),
        &[
            "deploy",
            "local",
            "--yes",
            "--stack",
            "cluster",
            "--replace-failed",
        ],
    );
    assert_eq!(replaced.code, 0, "{}", replaced.all());
    assert_eq!(proxy.requests("DeleteStack"), 1);
    assert_eq!(proxy.requests("CreateStack"), 1);
    assert!(
        replaced
            .stdout
            .contains("deleting the failed stack (ROLLBACK_COMPLETE)"),
        "{}",
        replaced.stdout
    );
    assert!(
        replaced
            .stdout
            .contains("  cluster        created      CREATE_COMPLETE"),
        "{}",
        replaced.stdout
    );
}

#[test]
fn update_rollback_failed_and_busy_stacks_get_the_way_out() {
    let moto = moto_with_cluster();
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new(
            "DescribeStacks",
            with_status("CREATE_COMPLETE", "UPDATE_ROLLBACK_FAILED"),
        )],
    );
    let run = envc_at(
        root(),
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "cluster"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("UPDATE_ROLLBACK_FAILED")
            && run
                .stderr
                .contains("continue-update-rollback --stack-name balancer-local-cluster"),
        "{}",
        run.stderr
    );
    let status = envc_at(root(), &proxy.url(), &["status", "local"]);
    assert_eq!(status.code, 1, "a failed stack: {}", status.stdout);

    proxy.set_rules(vec![Rule::new(
        "DescribeStacks",
        with_status("CREATE_COMPLETE", "UPDATE_IN_PROGRESS"),
    )]);
    let run = envc_at(
        root(),
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "cluster"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("is busy: UPDATE_IN_PROGRESS") && run.stderr.contains("wait for it"),
        "{}",
        run.stderr
    );
    assert_eq!(
        envc_at(root(), &proxy.url(), &["status", "local"]).code,
        4,
        "in progress"
    );
    assert_eq!(
        envc_at(root(), "http://127.0.0.1:9", &["status", "local"]).code,
        3,
        "could not ask AWS"
    );
}

#[test]
fn a_failed_create_names_the_first_failing_resource_and_stops_later_waves() {
    let moto = Moto::start();
    moto.seed_local();
    let failed_event = "<member><EventId>injected-1</EventId><StackName>balancer-local-cluster</StackName><LogicalResourceId>Cluster</LogicalResourceId><ResourceType>AWS::ECS::Cluster</ResourceType><Timestamp>2099-01-01T00:00:00Z</Timestamp><ResourceStatus>CREATE_FAILED</ResourceStatus><ResourceStatusReason>Resource handler returned message: cluster quota exceeded</ResourceStatusReason></member>";
    let proxy = Proxy::start(
        moto.port,
        vec![
            Rule::new(
                "DescribeStacks",
                with_status("CREATE_COMPLETE", "ROLLBACK_COMPLETE"),
            )
            .stack("balancer-local-cluster"),
            Rule::new(
                "DescribeStackEvents",
                rewrite(move |body| {
                    body.replacen("<StackEvents>", &format!("<StackEvents>{failed_event}"), 1)
                }),
            )
            .stack("balancer-local-cluster"),
        ],
    );
    let run = envc_at(root(), &proxy.url(), &["deploy", "local", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("envc::deploy::failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`balancer-local-cluster` ended ROLLBACK_COMPLETE"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "first failure: Cluster: Resource handler returned message: cluster quota exceeded"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("CREATE_FAILED Cluster (AWS::ECS::Cluster)"),
        "the event is shown: {}",
        run.stdout
    );
    for later in ["database", "api", "monitoring"] {
        assert!(
            run.stdout.contains(&format!("  {later:<14} skipped")),
            "{later} skipped:\n{}",
            run.stdout
        );
    }
    let deployed =
        moto.python("print(sorted(s['StackName'] for s in cf.describe_stacks()['Stacks']))");
    assert!(!deployed.contains("balancer-local-api"), "{deployed}");
}

#[test]
fn ctrl_c_stops_waiting_and_names_what_is_still_running() {
    let moto = Moto::start();
    moto.seed_local();
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new(
            "DescribeStacks",
            with_status("CREATE_COMPLETE", "CREATE_IN_PROGRESS"),
        )],
    );
    let mut command =
        support::envc_command(root(), &["deploy", "local", "--yes", "--stack", "cluster"]);
    command
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    // Once envc waits for the stack it created.
    let (code, stderr) = support::interrupted_when(command, || {
        proxy.requests("CreateStack") > 0 && proxy.requests("DescribeStacks") >= 4
    });
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted; stopped waiting")
            && stderr.contains("balancer-local-cluster"),
        "{stderr}"
    );
}

/// DescribeStacks as CloudFormation answers it for one stack in `status`.
fn stack_in(stack_name: &str, status: &str) -> Fault {
    Fault::Respond(
        200,
        format!(
            "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStacksResult><Stacks><member><StackName>{stack_name}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/{stack_name}/1</StackId><StackStatus>{status}</StackStatus><CreationTime>2026-11-30T10:00:00Z</CreationTime></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"
        ),
    )
}

#[test]
fn a_busy_stack_in_a_later_wave_stops_the_deploy_before_anything_starts() {
    let moto = Moto::start();
    moto.seed_local();
    let busy = "balancer-local-monitoring";
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new("DescribeStacks", stack_in(busy, "UPDATE_IN_PROGRESS")).stack(busy)],
    );
    let run = envc_at(root(), &proxy.url(), &["deploy", "local", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains(&format!("`{busy}` is busy: UPDATE_IN_PROGRESS"))
            && run.stderr.contains("another `envc deploy`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        proxy.requests("CreateStack") + proxy.requests("CreateChangeSet"),
        0,
        "nothing may start"
    );

    // A stack a change set created and nobody executed stays in REVIEW_IN_PROGRESS for
    // ever: envc says so, and gives the way out.
    proxy.set_rules(vec![Rule::new(
        "DescribeStacks",
        stack_in(busy, "REVIEW_IN_PROGRESS"),
    )
    .stack(busy)]);
    let run = envc_at(root(), &proxy.url(), &["deploy", "local", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("REVIEW_IN_PROGRESS")
            && run.stderr.contains("does not end by itself")
            && run.stderr.contains("--replace-failed"),
        "{}",
        run.stderr
    );
    assert_eq!(proxy.requests("CreateStack"), 0);
}

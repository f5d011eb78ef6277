//! Deploys against a real local emulator: moto on a free port of 127.0.0.1, and a
//! fault-injecting proxy in front of it for the states moto cannot produce.

use crate::support;

use std::time::Duration;

use support::proxy::{aws_error, rewrite, Fault, Proxy, Rule};
use support::{copy_project, envc_at, root, Moto};

const LOCAL_STACKS: usize = 13;

fn local_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    dir
}

/// A copy of the root project, and a moto seeded with what `local` expects.
fn local_on_moto() -> (tempfile::TempDir, Moto) {
    let moto = Moto::start();
    moto.seed_local();
    (local_project(), moto)
}

fn count_lines(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

/// The image of every task definition moto holds, by family.
fn task_images(moto: &Moto) -> String {
    moto.python(
        "ecs = boto3.client('ecs', **kw)\n\
         for arn in sorted(ecs.list_task_definitions()['taskDefinitionArns']):\n\
         \x20   d = ecs.describe_task_definition(taskDefinition=arn)['taskDefinition']\n\
         \x20   print(d['family'], d['containerDefinitions'][0].get('image', d['containerDefinitions'][0]))",
    )
}

/// staging's `jobs` queue at 600 s instead of 300, rendered: a change to the queues stack
/// alone.
fn lengthen_jobs_visibility(dir: &std::path::Path) {
    let staging = dir.join("env/staging.kdl");
    let text =
        std::fs::read_to_string(&staging).unwrap() + "queue \"jobs\" visibility-timeout=600\n";
    std::fs::write(&staging, text).unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
}

/// The `jobs` queue's visibility timeout in moto, then the execution status of each change
/// set the queues stack has.
fn jobs_visibility_and_change_sets(moto: &Moto) -> Vec<String> {
    moto.python(
        "sqs = boto3.client('sqs', **kw)\n\
         for url in sorted(sqs.list_queues()['QueueUrls']):\n\
         \x20   if url.endswith('-jobs'):\n\
         \x20       print(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['VisibilityTimeout'])['Attributes']['VisibilityTimeout'])\n\
         print(*[c['ExecutionStatus'] for c in cf.list_change_sets(StackName='balancer-local-queues')['Summaries']])",
    )
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

fn image_tags(dir: &std::path::Path, url: &str) -> Vec<(String, String)> {
    let status = envc_at(dir, url, &["status", "local", "--format", "json"]);
    assert_eq!(status.code, 0, "{}", status.all());
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let mut tags: Vec<(String, String)> = report["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            Some((
                r["stack"].as_str()?.to_string(),
                r["image_tag"].as_str()?.to_string(),
            ))
        })
        .collect();
    tags.sort();
    tags
}

#[test]
fn an_image_ships_without_a_commit_and_a_plain_deploy_keeps_it() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let url = moto.url();
    let first = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let committed: Vec<(String, String)> = ["api", "jobs", "migration"]
        .iter()
        .map(|s| (s.to_string(), "latest".to_string()))
        .collect();
    assert_eq!(image_tags(dir, &url), committed);

    // Only the three stacks that run the image change, and run `:v2`.
    let ship = envc_at(
        dir,
        &url,
        &["deploy", "local", "--image-tag", "v2", "--yes"],
    );
    assert_eq!(ship.code, 0, "{}", ship.all());
    assert_eq!(count_lines(&ship.stdout, " updated "), 3, "{}", ship.stdout);
    // Each task definition's row shows the image changing because the parameter did.
    assert!(
        ship.stdout.contains("      ContainerDefinitions/0/Image (from parameter ImageTag): …/balancer-local:latest → …/balancer-local:v2  (replaces)"),
        "{}",
        ship.stdout
    );
    for stack in ["network", "database", "queues", "dns", "cluster"] {
        assert!(
            !ship.stdout.contains(&format!("  {stack} ")),
            "{stack} was touched:\n{}",
            ship.stdout
        );
    }
    let images = task_images(&moto);
    let runs = |tag: &str| {
        images
            .lines()
            .filter(|l| l.ends_with(&format!("/balancer-local:{tag}")))
            .count()
    };
    // The new revision of each task definition runs v2 (the old ones stay registered).
    assert_eq!(runs("v2"), 3, "{images}");
    let shipped: Vec<(String, String)> = ["api", "jobs", "migration"]
        .iter()
        .map(|s| (s.to_string(), "v2".to_string()))
        .collect();
    assert_eq!(image_tags(dir, &url), shipped);

    // A plain deploy keeps the deployed tag: nothing changes, and the golden files, still
    // naming `latest` as the default, are still valid.
    let again = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        count_lines(&again.stdout, ": no changes"),
        LOCAL_STACKS,
        "{}",
        again.stdout
    );
    assert_eq!(image_tags(dir, &url), shipped);
    assert_eq!(support::envc(dir, &["check"]).code, 0);

    // Rolling back is shipping the previous tag; a tag ECR would refuse is refused first.
    let back = envc_at(
        dir,
        &url,
        &["deploy", "local", "--image-tag", "latest", "--yes"],
    );
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(image_tags(dir, &url), committed);
    let bad = envc_at(dir, &url, &["deploy", "local", "--image-tag=-v3", "--yes"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr.contains("`-v3` is not an image tag"),
        "{}",
        bad.stderr
    );
}

/// A project of one queue in three environments: `one` in moto's default account, `two` in
/// another account through its `deploy-role`, `three` in another account without one.
fn accounts_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("stacks.kdl", "project \"acct\"\nregion \"us-east-1\"\nstack \"queues\" kind=\"queues\"\ngolden #false\n"),
        ("env/one.kdl", "account \"123456789012\"\nnetwork {\n    cidr \"10.1.0.0/16\"\n}\nqueue \"jobs\"\n"),
        ("env/two.kdl", "account \"210987654321\"\ndeploy-role \"arn:aws:iam::210987654321:role/envc-deploy\"\nnetwork {\n    cidr \"10.2.0.0/16\"\n}\nqueue \"jobs\"\n"),
        ("env/three.kdl", "account \"333333333333\"\nnetwork {\n    cidr \"10.3.0.0/16\"\n}\nqueue \"jobs\"\n"),
    ];
    std::fs::create_dir_all(dir.path().join("env")).unwrap();
    for (path, text) in files {
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    dir
}

/// Stack names moto holds in the default account, and in 210987654321 through the role.
fn stacks_by_account(moto: &Moto) -> String {
    moto.python(
        "print(sorted(s['StackName'] for s in cf.describe_stacks()['Stacks']))\n\
         c = boto3.client('sts', **kw).assume_role(RoleArn='arn:aws:iam::210987654321:role/envc-deploy', RoleSessionName='test')['Credentials']\n\
         other = boto3.client('cloudformation', endpoint_url=kw['endpoint_url'], region_name='us-east-1', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])\n\
         print(sorted(s['StackName'] for s in other.describe_stacks()['Stacks']))",
    )
}

#[test]
fn credentials_of_another_account_are_refused_and_a_deploy_role_is_assumed() {
    let project = accounts_project();
    let dir = project.path();
    assert_eq!(
        support::envc(dir, &["check"]).code,
        0,
        "{}",
        support::envc(dir, &["check"]).all()
    );
    let moto = Moto::start();
    let url = moto.url();

    // The credentials are the default account's, the environment another's: refused before
    // anything is written, naming both.
    let refused = envc_at(dir, &url, &["deploy", "three", "--yes"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains("envc::deploy::account"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("account 123456789012")
            && refused.stderr.contains("account 333333333333"),
        "{}",
        refused.stderr
    );
    assert_eq!(stacks_by_account(&moto), "[]\n[]\n");

    // With its role, `two` lands in its own account, and only there.
    let two = envc_at(dir, &url, &["deploy", "two", "--yes"]);
    assert_eq!(two.code, 0, "{}", two.all());
    assert_eq!(stacks_by_account(&moto), "[]\n['acct-two-queues']\n");
    let status = envc_at(dir, &url, &["status", "two"]);
    assert_eq!(status.code, 0, "{}", status.all());
    assert!(
        status.stdout.contains("CREATE_COMPLETE"),
        "{}",
        status.stdout
    );

    let one = envc_at(dir, &url, &["deploy", "one", "--yes"]);
    assert_eq!(one.code, 0, "{}", one.all());
    assert_eq!(
        stacks_by_account(&moto),
        "['acct-one-queues']\n['acct-two-queues']\n"
    );

    // A role of another account than the environment's is a problem in the file.
    let two_kdl = dir.join("env/two.kdl");
    let text = std::fs::read_to_string(&two_kdl).unwrap();
    std::fs::write(
        &two_kdl,
        text.replace("iam::210987654321", "iam::123456789012"),
    )
    .unwrap();
    let check = support::envc(dir, &["check"]);
    assert_eq!(check.code, 1, "{}", check.all());
    assert!(
        check.stderr.contains("envc::env::deploy-role"),
        "{}",
        check.stderr
    );
}

/// DescribeServices as ECS answers it, with `api`'s counts and rollout changed.
fn api_service(running: i64, rollout: &'static str) -> Fault {
    rewrite(move |body| {
        let mut answer: serde_json::Value = serde_json::from_str(body).unwrap();
        for service in answer["services"].as_array_mut().unwrap() {
            if service["serviceName"] == "balancer-local-api" {
                service["runningCount"] = running.into();
                service["pendingCount"] = 0.into();
                for deployment in service["deployments"].as_array_mut().unwrap() {
                    deployment["rolloutState"] = rollout.into();
                    deployment["rolloutStateReason"] = format!("ECS deployment {rollout}").into();
                }
            }
        }
        answer.to_string()
    })
}

#[test]
fn status_exits_1_when_a_service_runs_fewer_tasks_than_desired_after_its_rollout() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let deployed = envc_at(dir, &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(deployed.code, 0, "{}", deployed.all());
    let healthy = envc_at(dir, &moto.url(), &["status", "local"]);
    assert_eq!(healthy.code, 0, "{}", healthy.all());
    assert!(
        healthy.stdout.contains("balancer-local-api"),
        "{}",
        healthy.stdout
    );

    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new("DescribeServices", api_service(0, "COMPLETED"))],
    );
    let short = envc_at(dir, &proxy.url(), &["status", "local"]);
    assert_eq!(short.code, 1, "{}", short.all());
    assert!(
        short.stdout.contains("<< fewer than desired"),
        "{}",
        short.stdout
    );
    let json = envc_at(dir, &proxy.url(), &["status", "local", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["summary"]["unhealthy"], 1, "{report:#}");
    assert_eq!(report["summary"]["exit_code"], 1, "{report:#}");
    let api = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == "api")
        .unwrap();
    assert_eq!(
        (api["running"].as_i64(), api["desired"].as_i64()),
        (Some(0), Some(1)),
        "{api}"
    );

    // Stopped by the circuit breaker: unhealthy whatever the counts.
    proxy.set_rules(vec![Rule::new(
        "DescribeServices",
        api_service(1, "FAILED"),
    )]);
    let failed = envc_at(dir, &proxy.url(), &["status", "local"]);
    assert_eq!(failed.code, 1, "{}", failed.all());
    assert!(
        failed.stdout.contains("rolled back by the circuit breaker"),
        "{}",
        failed.stdout
    );

    // Still rolling out: in progress, as a stack update is.
    proxy.set_rules(vec![Rule::new(
        "DescribeServices",
        api_service(0, "IN_PROGRESS"),
    )]);
    assert_eq!(envc_at(dir, &proxy.url(), &["status", "local"]).code, 2);
}

#[test]
fn local_deploys_redeploys_updates_only_what_changed_and_destroys() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let url = moto.url();

    let first = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(
        count_lines(&first.stdout, " created "),
        LOCAL_STACKS,
        "{}",
        first.stdout
    );
    // Imports between stacks resolved: the service found the network, cluster and DNS.
    assert!(
        first
            .stdout
            .contains("api.Url = https://api.hyperchonk.test"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("network.VpcId = vpc-"),
        "{}",
        first.stdout
    );

    let status = envc_at(dir, &url, &["status", "local", "--format", "json"]);
    assert_eq!(status.code, 0, "{}", status.all());
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let rows = report["stacks"].as_array().unwrap();
    assert_eq!(rows.len(), LOCAL_STACKS);
    assert!(
        rows.iter().all(|r| r["status"] == "CREATE_COMPLETE"),
        "{rows:#?}"
    );
    // The summary, and the services with their tasks (moto runs one of each).
    assert_eq!(report["summary"]["complete"], LOCAL_STACKS, "{report:#}");
    assert_eq!(report["summary"]["services"], 2, "{report:#}");
    assert_eq!(report["summary"]["exit_code"], 0, "{report:#}");
    // The YAML report holds the same rows, timestamps quoted so no YAML 1.1 reader takes them
    // for dates.
    let yaml = envc_at(dir, &url, &["status", "local", "--format", "yaml"]);
    assert_eq!(yaml.code, 0, "{}", yaml.all());
    let from_yaml: serde_json::Value = serde_yaml_ng::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, report, "{}", yaml.stdout);
    assert!(
        yaml.stdout.contains("  last_updated: \""),
        "{}",
        yaml.stdout
    );
    let tags = moto.python("print(json.dumps(cf.describe_stacks(StackName='balancer-local-api')['Stacks'][0]['Tags']))");
    for tag in ["\"envc:env\"", "\"local\"", "\"team\"", "\"backend\""] {
        assert!(tags.contains(tag), "stack tags: {tags}");
    }

    let again = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        count_lines(&again.stdout, ": no changes"),
        LOCAL_STACKS,
        "{}",
        again.stdout
    );
    assert_eq!(
        count_lines(&again.stdout, " created ") + count_lines(&again.stdout, " updated "),
        0
    );
    assert_eq!(envc_at(dir, &url, &["diff", "local", "--live"]).code, 0);

    // A value staging sets, inherited through staging2: only the queues stack changes.
    // (A database change would do as well on AWS; moto loses an updated DB instance.)
    let staging = dir.join("env/staging.kdl");
    let text =
        std::fs::read_to_string(&staging).unwrap() + "queue \"jobs\" visibility-timeout=600\n";
    std::fs::write(&staging, text).unwrap();
    let refused = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(
        refused.code,
        1,
        "never deploys what check rejects:\n{}",
        refused.all()
    );
    assert!(
        refused.stderr.contains("envc::golden::stale"),
        "{}",
        refused.stderr
    );
    let live = envc_at(dir, &url, &["diff", "local", "--live"]);
    assert_eq!(live.code, 1);
    assert!(
        live.stdout.contains("+      VisibilityTimeout: 600"),
        "{}",
        live.stdout
    );
    assert!(
        live.stdout
            .contains("queues (balancer-local-queues): 0 to add, 1 to modify"),
        "{}",
        live.stdout
    );
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
    let update = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(update.code, 0, "{}", update.all());
    assert!(
        update
            .stdout
            .contains("  queues         updated      UPDATE_COMPLETE"),
        "{}",
        update.stdout
    );
    assert!(
        update
            .stdout
            .contains("~ Modify  JobsQueue  AWS::SQS::Queue"),
        "{}",
        update.stdout
    );
    // The row names the property, with CloudFormation's before and after values.
    assert!(
        update
            .stdout
            .contains("      VisibilityTimeout: 300 → 600\n"),
        "{}",
        update.stdout
    );
    assert_eq!(
        count_lines(&update.stdout, ": no changes"),
        LOCAL_STACKS - 1,
        "{}",
        update.stdout
    );
    assert_eq!(envc_at(dir, &url, &["status", "local"]).code, 0);

    let destroy = envc_at(dir, &url, &["destroy", "local", "--yes"]);
    assert_eq!(destroy.code, 0, "{}", destroy.all());
    assert_eq!(
        count_lines(&destroy.stdout, " deleted "),
        LOCAL_STACKS,
        "{}",
        destroy.stdout
    );
    let gone = envc_at(dir, &url, &["status", "local", "--format", "json"]);
    assert_eq!(gone.code, 1, "nothing deployed is not healthy");
    assert_eq!(
        gone.stdout.matches("NOT_DEPLOYED").count(),
        LOCAL_STACKS,
        "{}",
        gone.stdout
    );
}

#[test]
fn protected_prod_of_an_example_deploys_guarded_and_refuses_destroy() {
    let example = root().join("examples/wallet-service");
    let moto = Moto::start_in_account("333333333333");
    let url = moto.url();

    let deploy = envc_at(&example, &url, &["deploy", "prod", "--yes"]);
    assert_eq!(deploy.code, 0, "{}", deploy.all());
    assert_eq!(
        count_lines(&deploy.stdout, " created "),
        6,
        "{}",
        deploy.stdout
    );
    assert!(
        deploy.stdout.contains("database.Endpoint = wallet-prod-db"),
        "{}",
        deploy.stdout
    );
    let guarded = moto.python(
        "s = cf.describe_stacks(StackName='wallet-prod-database')['Stacks'][0]\nprint(s['EnableTerminationProtection'])\nprint(cf.get_stack_policy(StackName='wallet-prod-database').get('StackPolicyBody', ''))",
    );
    assert!(
        guarded.starts_with("True\n"),
        "termination protection: {guarded}"
    );
    assert!(
        guarded.contains("Update:Replace") && guarded.contains("AWS::RDS::DBInstance"),
        "stack policy: {guarded}"
    );

    let refused = envc_at(&example, &url, &["destroy", "prod", "--yes"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("envc::deploy::guarded"),
        "{}",
        refused.stderr
    );
    let mistyped = envc_at(
        &example,
        &url,
        &["destroy", "prod", "--force", "--confirm", "prd"],
    );
    assert_ne!(mistyped.code, 0);
    assert!(
        mistyped.stderr.contains("envc::deploy::confirmation"),
        "{}",
        mistyped.stderr
    );
    let status = envc_at(&example, &url, &["status", "prod"]);
    assert_eq!(status.code, 0, "nothing was deleted:\n{}", status.stdout);
    assert!(!status.stdout.contains("DELETE"), "{}", status.stdout);
}

#[test]
fn a_protected_stack_that_cannot_be_guarded_is_not_changed() {
    let project = local_project();
    let dir = project.path();
    let local = dir.join("env/local.kdl");
    let protected = std::fs::read_to_string(&local).unwrap() + "\nprotected #true\n";
    std::fs::write(&local, protected).unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
    let moto = Moto::start();
    moto.seed_local();
    let created = envc_at(
        dir,
        &moto.url(),
        &["deploy", "local", "--yes", "--stack", "queues"],
    );
    assert_eq!(created.code, 0, "{}", created.all());

    lengthen_jobs_visibility(dir);
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new(
            "UpdateTerminationProtection",
            Fault::Respond(
                403,
                aws_error(
                    "AccessDenied",
                    "not authorized to perform: cloudformation:UpdateTerminationProtection",
                ),
            ),
        )],
    );
    let refused = envc_at(
        dir,
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "queues"],
    );
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains(
            "cannot turn on termination protection of `balancer-local-queues`: AccessDenied"
        ),
        "{}",
        refused.stderr
    );
    assert_eq!(proxy.requests("ExecuteChangeSet"), 0);
    let left = jobs_visibility_and_change_sets(&moto);
    assert_eq!(
        left,
        ["300"],
        "the queue as it was, and no change set left: {left:?}"
    );
}

#[test]
fn a_protected_environment_is_destroyed_with_force_and_its_typed_name() {
    let project = local_project();
    let dir = project.path();
    let local = dir.join("env/local.kdl");
    std::fs::write(
        &local,
        std::fs::read_to_string(&local).unwrap() + "\nprotected #true\n",
    )
    .unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
    let moto = Moto::start();
    moto.seed_local();
    let url = moto.url();
    assert_eq!(
        envc_at(
            dir,
            &url,
            &["deploy", "local", "--yes", "--stack", "cluster", "--stack", "registry"]
        )
        .code,
        0
    );
    // Credentials that may not turn protection off: said, and nothing deleted.
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new(
            "UpdateTerminationProtection",
            Fault::Respond(403, aws_error("AccessDenied", "not authorized")),
        )],
    );
    let denied = envc_at(
        dir,
        &proxy.url(),
        &["destroy", "local", "--force", "--confirm", "local"],
    );
    assert_ne!(denied.code, 0, "{}", denied.all());
    assert!(
        denied.stderr.contains(
            "cannot turn off termination protection of `balancer-local-cluster`: AccessDenied"
        ),
        "{}",
        denied.stderr
    );
    assert_eq!(proxy.requests("DeleteStack"), 0);

    let destroy = envc_at(
        dir,
        &url,
        &["destroy", "local", "--force", "--confirm", "local"],
    );
    assert_eq!(destroy.code, 0, "{}", destroy.all());
    assert_eq!(
        count_lines(&destroy.stdout, " deleted "),
        2,
        "{}",
        destroy.stdout
    );
}

#[test]
fn without_a_terminal_deploy_needs_yes() {
    let moto = Moto::start();
    let run = envc_at(root(), &moto.url(), &["deploy", "local"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("envc::deploy::confirmation") && run.stderr.contains("--yes"),
        "{}",
        run.stderr
    );
    assert_eq!(
        moto.python("print(len(cf.describe_stacks()['Stacks']))")
            .trim(),
        "0"
    );
}

#[test]
fn dry_run_shows_change_sets_and_changes_nothing() {
    let moto = Moto::start();
    moto.seed_local();
    let url = moto.url();
    let dir = root();
    assert_eq!(
        envc_at(
            dir,
            &url,
            &["deploy", "local", "--yes", "--stack", "cluster"]
        )
        .code,
        0
    );
    let dry = envc_at(
        dir,
        &url,
        &[
            "deploy",
            "local",
            "--dry-run",
            "--stack",
            "cluster",
            "--stack",
            "registry",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout
            .contains("registry (balancer-local-registry), new stack: 1 to add"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("cluster: no changes"), "{}", dry.stdout);
    let stacks =
        moto.python("print(sorted(s['StackName'] for s in cf.describe_stacks()['Stacks']))");
    assert_eq!(stacks.trim(), "['balancer-local-cluster']");
}

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

fn with_status(from: &'static str, to: &'static str) -> Fault {
    rewrite(move |body| {
        body.replace(
            &format!("<StackStatus>{from}</StackStatus>"),
            &format!("<StackStatus>{to}</StackStatus>"),
        )
    })
}

#[test]
fn a_stack_left_in_rollback_complete_is_explained_and_replaced_on_request() {
    let moto = Moto::start();
    moto.seed_local();
    let url = moto.url();
    assert_eq!(
        envc_at(
            root(),
            &url,
            &["deploy", "local", "--yes", "--stack", "cluster"]
        )
        .code,
        0
    );
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
    let moto = Moto::start();
    moto.seed_local();
    let url = moto.url();
    assert_eq!(
        envc_at(
            root(),
            &url,
            &["deploy", "local", "--yes", "--stack", "cluster"]
        )
        .code,
        0
    );

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
        2,
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

#[test]
fn a_fresh_deploy_at_a_terminal_asks_once_and_ctrl_c_at_the_prompt_deletes_its_change_sets() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let url = moto.url();
    // Every stack of every wave is planned and shown, then one question, then all of it.
    let fresh = support::envc_at_terminal(dir, &url, &["deploy", "local"], ("[y/N]", "y\\n"), 180);
    assert_eq!(fresh.code, Some(0), "{}", fresh.shown);
    assert_eq!(fresh.shown.matches("[y/N]").count(), 1, "{}", fresh.shown);
    let (plan, after) = fresh.shown.split_at(fresh.shown.find("[y/N]").unwrap());
    for shown in [
        "wave 1: network, cluster, registry, dns, artifacts, config, queues",
        "wave 4: monitoring",
        "monitoring (balancer-local-monitoring), new stack: ",
        &format!("Deploy these changes to `local` ({LOCAL_STACKS} stacks to create)?"),
    ] {
        assert!(
            plan.contains(shown),
            "{shown:?} is not in the plan:\n{plan}"
        );
    }
    assert!(
        !plan.contains("started"),
        "nothing starts before the answer:\n{plan}"
    );
    assert!(after.contains("monitoring: CREATE_COMPLETE"), "{after}");

    // A change: its change set is in the plan. Ctrl-C at the prompt ends envc at once
    // (it is killed after 30 s otherwise), deletes the change set, and changes nothing.
    lengthen_jobs_visibility(dir);
    let interrupted =
        support::envc_at_terminal(dir, &url, &["deploy", "local"], ("[y/N]", "^C"), 30);
    assert_eq!(interrupted.code, Some(130), "{}", interrupted.shown);
    for shown in [
        "      VisibilityTimeout: 300 → 600",
        "Deploy these changes to `local` (1 stack to update)?",
        "interrupted; deleting the 1 change set this deploy made",
    ] {
        assert!(
            interrupted.shown.contains(shown),
            "{shown:?}:\n{}",
            interrupted.shown
        );
    }
    let change_sets = moto.python(
        "print(sum(len(cf.list_change_sets(StackName=s['StackName'])['Summaries']) for s in cf.describe_stacks()['Stacks']))",
    );
    assert_eq!(change_sets.trim(), "0", "change sets left behind");
    let timeout = moto.python(
        "sqs = boto3.client('sqs', **kw)\nurl = sqs.get_queue_url(QueueName='balancer-local-jobs')['QueueUrl']\nprint(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['VisibilityTimeout'])['Attributes']['VisibilityTimeout'])",
    );
    assert_eq!(timeout.trim(), "300", "the queue was changed");
}

#[test]
fn a_stack_importing_what_an_earlier_wave_first_exports_is_planned_from_its_templates() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let url = moto.url();
    assert_eq!(envc_at(dir, &url, &["deploy", "local", "--yes"]).code, 0);
    // The worker moves to a new queue: `jobs` (wave 2) imports an export `queues` (wave 1)
    // adds, so its change set cannot be made before wave 1 ran.
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap()
        + "queue \"emails\" visibility-timeout=60\nworker \"jobs\" {\n    queue \"emails\"\n}\n";
    std::fs::write(&local, text).unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
    let plan = envc_at(dir, &url, &["deploy", "local", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    for shown in [
        "queues (balancer-local-queues): 1 to add, 0 to modify, 0 to remove",
        "jobs (balancer-local-jobs): 0 to add, ",
        "(from the templates: CloudFormation's change set is made once an earlier wave exports balancer-local-queues-EmailsQueueArn",
        "~ Modify  TaskDefinition",
    ] {
        assert!(plan.stdout.contains(shown), "{shown:?}:\n{}", plan.stdout);
    }
    let deploy = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(deploy.code, 0, "{}", deploy.all());
    for shown in [
        "  queues         updated      UPDATE_COMPLETE",
        "  jobs           updated      UPDATE_COMPLETE",
    ] {
        assert!(
            deploy.stdout.contains(shown),
            "{shown:?}:\n{}",
            deploy.stdout
        );
    }
    let again = envc_at(dir, &url, &["deploy", "local", "--yes"]);
    assert_eq!(
        count_lines(&again.stdout, ": no changes"),
        LOCAL_STACKS,
        "{}",
        again.all()
    );
}

#[test]
fn aws_is_asked_over_tls_checked_against_the_trusted_roots() {
    let moto = Moto::start();
    let certs = tempfile::tempdir().unwrap();
    let cert = certs.path().join("localhost.pem");
    struct Front(std::process::Child);
    impl Drop for Front {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut front = Front(
        std::process::Command::new("python3")
            .arg(root().join("tests/support/tls_front.py"))
            .arg(moto.port.to_string())
            .arg(&cert)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with moto's cryptography"),
    );
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(front.0.stdout.take().unwrap()),
        &mut port,
    )
    .unwrap();
    let endpoint = format!("https://localhost:{}", port.trim());
    let status = |trust: Option<&std::path::Path>| {
        let mut command = support::envc_command(root(), &["status", "local"]);
        command
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        if let Some(trust) = trust {
            command.env("SSL_CERT_FILE", trust);
        }
        support::run(command)
    };
    // Trusted, the TLS stack (rustls with ring) gets moto's answer: nothing deployed yet.
    let trusted = status(Some(&cert));
    assert_eq!(trusted.code, 1, "{}", trusted.all());
    assert!(
        trusted.stdout.contains("network        NOT_DEPLOYED"),
        "{}",
        trusted.all()
    );
    // A certificate no trusted root signed is refused, and nothing is asked.
    let untrusted = status(None);
    assert_eq!(untrusted.code, 3, "{}", untrusted.all());
    assert!(
        untrusted.stderr.contains("certificate"),
        "{}",
        untrusted.all()
    );
}

#[test]
fn large_templates_go_through_the_artifact_bucket() {
    let project = local_project();
    let dir = project.path();
    // A project template well over CloudFormation's 51,200-byte inline limit.
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let mut template = String::from("Resources:\n");
    for i in 0..400 {
        template.push_str(&format!("  Handle{i}:\n    Type: AWS::CloudFormation::WaitConditionHandle\n    Metadata:\n      Note: \"{}\"\n", "x".repeat(120)));
    }
    std::fs::write(dir.join("templates/bulk.yaml.j2"), template).unwrap();
    let stacks = dir.join("stacks.kdl");
    std::fs::write(
        &stacks,
        std::fs::read_to_string(&stacks).unwrap()
            + "stack \"bulk\" template=\"bulk.yaml.j2\" {\n    needs \"artifacts\"\n}\n",
    )
    .unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
    let size = std::fs::metadata(dir.join("golden/local/bulk.yaml"))
        .unwrap()
        .len();
    assert!(size > 51_200, "{size}");

    let moto = Moto::start();
    moto.seed_local();
    let run = envc_at(
        dir,
        &moto.url(),
        &[
            "deploy",
            "local",
            "--yes",
            "--stack",
            "artifacts",
            "--stack",
            "bulk",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let keys = moto.python("s3 = boto3.client('s3', **kw)\nprint([o['Key'] for o in s3.list_objects_v2(Bucket='balancer-local-artifacts-123456789012').get('Contents', [])])");
    assert!(keys.contains("envc/templates/bulk/"), "{keys}");
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

#[test]
fn deploy_dry_run_never_shows_a_credential() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let secret = "hunter2-correct-horse-battery";
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap();
    std::fs::write(
        &local,
        format!("{text}tags {{\n    db-password \"{secret}\"\n}}\nnetwork {{ azs 99 }}\n"),
    )
    .unwrap();
    for args in [
        &["deploy", "local", "--dry-run"][..],
        &["diff", "local", "--live"],
        &["status", "local"],
    ] {
        let run = envc_at(dir, &moto.url(), args);
        assert_ne!(run.code, 0, "{}", run.all());
        assert!(
            !run.all().contains(secret),
            "`envc {}` showed the credential:\n{}",
            args.join(" "),
            run.all()
        );
        assert!(
            run.stderr.contains("envc::secret::plaintext"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn refused_credentials_show_what_aws_answered() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new(
            "DescribeStacks",
            Fault::Respond(
                403,
                aws_error(
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                ),
            ),
        )],
    );
    let run = envc_at(root(), &proxy.url(), &["deploy", "local", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains(
            "InvalidClientTokenId: The security token included in the request is invalid."
        ) && run.stderr.contains("refresh your credentials"),
        "{}",
        run.stderr
    );

    // An answer with no error code in it: its status and body are shown, not "unhandled".
    proxy.set_rules(vec![Rule::new(
        "DescribeStacks",
        Fault::Respond(403, "<html>Request blocked by a proxy</html>".to_string()),
    )]);
    let run = envc_at(root(), &proxy.url(), &["deploy", "local", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("HTTP 403") && run.stderr.contains("Request blocked by a proxy"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("unhandled error"), "{}", run.stderr);
    assert!(!run.stderr.contains("above"), "{}", run.stderr);
}

#[test]
fn an_existing_vpc_gets_the_endpoints_it_asks_for() {
    let project = local_project();
    let dir = project.path();
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap();
    std::fs::write(
        &local,
        text.replace(
            "    ssm-path \"/envc/local/network\"",
            "    ssm-path \"/envc/local/network\"\n    (replace)endpoints \"ecr\" \"logs\" \"secretsmanager\" \"s3\"",
        ),
    )
    .unwrap();
    let rendered = support::envc(dir, &["render", "local", "--stack", "network"]);
    assert_eq!(rendered.code, 0, "{}", rendered.all());
    for endpoint in [
        "S3Endpoint",
        "EcrApiEndpoint",
        "EcrDockerEndpoint",
        "LogsEndpoint",
        "SecretsmanagerEndpoint",
    ] {
        assert!(
            rendered.stdout.contains(&format!("  {endpoint}:")),
            "{endpoint}:\n{}",
            rendered.stdout
        );
    }
    assert!(
        rendered
            .stdout
            .contains("RouteTableIds: !Ref PrivateRouteTableIds"),
        "{}",
        rendered.stdout
    );
    let template = dir.join("network.yaml");
    std::fs::write(&template, &rendered.stdout).unwrap();
    let lint = std::process::Command::new("cfn-lint")
        .arg(&template)
        .output()
        .expect("cfn-lint");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );

    let written = support::envc(dir, &["render", "local", "--write"]);
    assert_eq!(written.code, 0, "{}", written.all());

    let moto = Moto::start();
    moto.seed_local();
    let deployed = envc_at(
        dir,
        &moto.url(),
        &["deploy", "local", "--yes", "--stack", "network"],
    );
    assert_eq!(deployed.code, 0, "{}", deployed.all());
    let endpoints = moto.python(
        "ec2 = boto3.client('ec2', **kw)\nprint(sorted(e['ServiceName'] for e in ec2.describe_vpc_endpoints()['VpcEndpoints']))",
    );
    for service in ["s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager"] {
        assert!(
            endpoints.contains(&format!("com.amazonaws.us-east-1.{service}'")),
            "{service}: {endpoints}"
        );
    }
}

#[test]
fn a_shared_zone_is_imported_from_the_environment_that_creates_it() {
    let project = local_project();
    let dir = project.path();
    // local takes prod's zone, as dev and staging do, instead of a zone of its own.
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap();
    let text = text
        .replace("domain \"api.hyperchonk.test\"\n", "")
        .replace(
            "zone-name \"hyperchonk.test\"",
            "zone-name \"hyperchonk.com\"",
        )
        .replace("    (remove)zone-owner\n", "");
    std::fs::write(&local, text).unwrap();
    let written = support::envc(dir, &["render", "local", "--write"]);
    assert_eq!(written.code, 0, "{}", written.all());

    let moto = Moto::start();
    moto.seed_local();
    let refused = envc_at(dir, &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused
            .stderr
            .contains("imports `balancer-prod-dns-HostedZoneId`, which nothing exports"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("`envc deploy prod`"),
        "{}",
        refused.stderr
    );
    let stacks = moto.python("print(len(cf.describe_stacks()['Stacks']))");
    assert_eq!(
        stacks.trim(),
        "0",
        "nothing is created before the export exists"
    );

    // prod's `dns` stack, as far as moto can make it (it cannot issue certificates).
    moto.python(
        "cf.create_stack(StackName='balancer-prod-dns', TemplateBody=json.dumps({'Resources': {'HostedZone': {'Type': 'AWS::Route53::HostedZone', 'Properties': {'Name': 'hyperchonk.com'}}}, 'Outputs': {'HostedZoneId': {'Value': {'Ref': 'HostedZone'}, 'Export': {'Name': 'balancer-prod-dns-HostedZoneId'}}}}))",
    );
    let deployed = envc_at(dir, &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(deployed.code, 0, "{}", deployed.all());
    let zones = moto.python(
        "r53 = boto3.client('route53', **kw)\nzones = [z for z in r53.list_hosted_zones()['HostedZones'] if z['Name'].rstrip('.') == 'hyperchonk.com']\nprint(len(zones))\nprint(sorted(r['Name'] for r in r53.list_resource_record_sets(HostedZoneId=zones[0]['Id'])['ResourceRecordSets']))",
    );
    let mut lines = zones.lines();
    assert_eq!(
        lines.next(),
        Some("1"),
        "one zone for hyperchonk.com: {zones}"
    );
    assert!(
        lines
            .next()
            .unwrap_or_default()
            .contains("'local-api.hyperchonk.com"),
        "local's record is in prod's zone: {zones}"
    );
}

#[test]
fn an_example_with_project_kinds_deploys_their_stacks() {
    let example = root().join("examples/kinds");
    let moto = Moto::start_in_account("444444444444");
    let deploy = envc_at(&example, &moto.url(), &["deploy", "dev", "--yes"]);
    assert_eq!(deploy.code, 0, "{}", deploy.all());
    assert_eq!(
        count_lines(&deploy.stdout, " created "),
        5,
        "{}",
        deploy.stdout
    );
    // The scheduled function, with its settings from the environment's block.
    let function = moto.python(
        "kw['region_name'] = 'eu-west-1'\nlam = boto3.client('lambda', **kw)\nf = lam.get_function_configuration(FunctionName='reports-dev-nightly-report')\nprint(f['Runtime'], f['MemorySize'], f['Timeout'], f['Environment']['Variables']['REPORT_BUCKET'])\nev = boto3.client('events', **kw)\nprint([r['ScheduleExpression'] for r in ev.list_rules()['Rules']])",
    );
    assert!(
        function.starts_with("python3.13 512 300 reports-dev-output\n"),
        "{function}"
    );
    assert!(function.contains("cron(0 3 * * ? *)"), "{function}");
    // The cache, from the `cache` block base gives every environment.
    let cache = moto.python(
        "kw['region_name'] = 'eu-west-1'\nec = boto3.client('elasticache', **kw)\ng = ec.describe_replication_groups(ReplicationGroupId='reports-dev-cache')['ReplicationGroups'][0]\nprint(g['CacheNodeType'], len(g['MemberClusters']), g['TransitEncryptionEnabled'], g['AtRestEncryptionEnabled'])",
    );
    assert_eq!(cache.trim(), "cache.t4g.micro 1 True True", "{cache}");
}

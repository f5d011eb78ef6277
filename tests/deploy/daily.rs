//! The daily path: an image shipped without a commit, the caller's account checked and a
//! deploy role assumed, and the health of the services `status` reports.

use crate::support;
use support::proxy::{rewrite, Fault, Proxy, Rule};
use support::{envc_at, Moto};

use super::*;

/// The image of every task definition moto holds, by family.
fn task_images(moto: &Moto) -> String {
    moto.python(
        "ecs = boto3.client('ecs', **kw)\n\
         for arn in sorted(ecs.list_task_definitions()['taskDefinitionArns']):\n\
         \x20   d = ecs.describe_task_definition(taskDefinition=arn)['taskDefinition']\n\
         \x20   print(d['family'], d['containerDefinitions'][0].get('image', d['containerDefinitions'][0]))",
    )
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
    assert_eq!(envc_at(dir, &proxy.url(), &["status", "local"]).code, 4);
}

//! An environment's whole life: created, redeployed, updated and destroyed; planned once and
//! asked once; protected environments guarded; dry runs that change nothing.

use crate::support;
use support::proxy::{aws_error, Fault, Proxy, Rule};
use support::{envc_at, root, Moto};

use super::*;

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
    let moto = moto_with_cluster();
    let url = moto.url();
    let dir = root();
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

/// An environment that is not protected is destroyed and made again: nothing it keeps after
/// its stacks holds a fixed name the next deploy needs (the root project's `dev` kept its
/// config secret under its name, so the second deploy failed with "already exists"). dev
/// imports prod's zone: prod's `dns` stack is made first, as far as moto can make it.
#[test]
fn dev_of_the_root_project_is_destroyed_and_made_again() {
    let project = local_project();
    let dir = project.path();
    let moto = Moto::start();
    moto.python(
        "cf.create_stack(StackName='balancer-prod-dns', TemplateBody=json.dumps({'Resources': {'HostedZone': {'Type': 'AWS::Route53::HostedZone', 'Properties': {'Name': 'hyperchonk.com'}}}, 'Outputs': {'HostedZoneId': {'Value': {'Ref': 'HostedZone'}, 'Export': {'Name': 'balancer-prod-dns-HostedZoneId'}}}}))",
    );
    let url = moto.url();
    let first = envc_at(dir, &url, &["deploy", "dev", "--yes"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let created = count_lines(&first.stdout, " created ");
    assert!(created >= 13, "{}", first.stdout);

    let destroy = envc_at(dir, &url, &["destroy", "dev", "--yes"]);
    assert_eq!(destroy.code, 0, "{}", destroy.all());
    assert_eq!(
        count_lines(&destroy.stdout, " deleted "),
        created,
        "{}",
        destroy.stdout
    );
    let secrets = moto.python(
        "sm = boto3.client('secretsmanager', **kw)\nprint(len(sm.list_secrets(IncludePlannedDeletion=True)['SecretList']))",
    );
    assert_eq!(secrets.trim(), "0", "dev's secrets went with its stacks");

    let again = envc_at(dir, &url, &["deploy", "dev", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        count_lines(&again.stdout, " created "),
        created,
        "{}",
        again.stdout
    );
}

#[test]
fn a_short_lived_environment_is_made_deployed_and_destroyed_twice_leaving_nothing() {
    let project = local_project();
    let dir = project.path();
    let moto = Moto::start();
    // What dev imports from prod: its zone.
    moto.python(
        "cf.create_stack(StackName='balancer-prod-dns', TemplateBody=json.dumps({'Resources': {'HostedZone': {'Type': 'AWS::Route53::HostedZone', 'Properties': {'Name': 'hyperchonk.com'}}}, 'Outputs': {'HostedZoneId': {'Value': {'Ref': 'HostedZone'}, 'Export': {'Name': 'balancer-prod-dns-HostedZoneId'}}}}))",
    );
    let golden_before = support::files_under(&dir.join("golden"));
    let made = support::envc(dir, &["env", "new", "pr-7", "--from", "dev"]);
    assert_eq!(made.code, 0, "{}", made.all());
    let golden_after = support::files_under(&dir.join("golden"));
    for (path, text) in &golden_before {
        assert_eq!(
            golden_after.get(path),
            Some(text),
            "{} changed",
            path.display()
        );
    }
    assert!(golden_after.keys().any(|p| p.starts_with("pr-7")));
    assert_eq!(support::envc(dir, &["check"]).code, 0);

    let url = moto.url();
    let left_behind = || {
        moto.python(
            "s3 = boto3.client('s3', **kw)\nsm = boto3.client('secretsmanager', **kw)\n\
             stacks = [s['StackName'] for s in cf.list_stacks()['StackSummaries'] if 'pr-7' in s['StackName'] and s['StackStatus'] != 'DELETE_COMPLETE']\n\
             buckets = [b['Name'] for b in s3.list_buckets()['Buckets'] if 'pr-7' in b['Name']]\n\
             secrets = [s['Name'] for s in sm.list_secrets(IncludePlannedDeletion=True)['SecretList'] if 'pr-7' in s['Name']]\n\
             print(stacks + buckets + secrets)",
        )
    };
    for round in 1..=2 {
        let deploy = envc_at(dir, &url, &["deploy", "pr-7", "--yes"]);
        assert_eq!(deploy.code, 0, "round {round}: {}", deploy.all());
        // Access logs and artifacts arrive: CloudFormation cannot delete a bucket holding
        // them (moto keeps it), so destroy empties the buckets the stacks delete.
        moto.python(
            "s3 = boto3.client('s3', **kw)\n\
             for b in s3.list_buckets()['Buckets']:\n\
             \x20   if 'pr-7' in b['Name']:\n\
             \x20       s3.put_object(Bucket=b['Name'], Key='AWSLogs/x.log', Body=b'1')\n\
             \x20       s3.put_object(Bucket=b['Name'], Key='AWSLogs/x.log', Body=b'2')",
        );
        let destroy = envc_at(dir, &url, &["destroy", "pr-7", "--yes"]);
        assert_eq!(destroy.code, 0, "round {round}: {}", destroy.all());
        assert_eq!(left_behind().trim(), "[]", "round {round}");
    }
}

#[test]
fn a_deployed_stack_the_project_no_longer_renders_is_named_with_how_to_remove_it() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let url = moto.url();
    let queues = envc_at(
        dir,
        &url,
        &["deploy", "local", "--yes", "--stack", "queues"],
    );
    assert_eq!(queues.code, 0, "{}", queues.all());
    // An endpoints stack of an older layout, still deployed; another environment's and
    // another project's are not local's.
    moto.python(
        "body = json.dumps({'Resources': {'Topic': {'Type': 'AWS::SNS::Topic'}}})\n\
         for name, env, project in [('balancer-local-endpoints', 'local', 'balancer'), ('balancer-dev-endpoints', 'dev', 'balancer'), ('other-local-endpoints', 'local', 'other')]:\n\
         \x20   cf.create_stack(StackName=name, TemplateBody=body, Tags=[{'Key': 'envc:project', 'Value': project}, {'Key': 'envc:env', 'Value': env}, {'Key': 'envc:stack', 'Value': 'endpoints'}])",
    );
    let status = envc_at(dir, &url, &["status", "local"]);
    assert_eq!(status.code, 1, "{}", status.all());
    assert!(
        status.stdout.contains("balancer-local-endpoints (stack `endpoints`) is deployed, but `local` no longer renders it; once nothing imports its exports: aws cloudformation delete-stack --stack-name balancer-local-endpoints --region us-east-1"),
        "{}",
        status.stdout
    );
    assert!(
        !status.stdout.contains("balancer-dev-endpoints") && !status.stdout.contains("other-local")
    );
    let dry = envc_at(
        dir,
        &url,
        &["deploy", "local", "--yes", "--dry-run", "--stack", "queues"],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stderr.contains("envc::deploy::left-over"),
        "{}",
        dry.stderr
    );
    assert_eq!(
        dry.stderr.matches("no longer renders it").count(),
        1,
        "{}",
        dry.stderr
    );
}

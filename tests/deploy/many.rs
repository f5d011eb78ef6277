//! Several environments in one deploy: one plan and one question, environments a bounded
//! number at once, and a failure in one that the others finish past.

use crate::support;
use support::proxy::{rewrite, Proxy, Rule};
use support::{envc_at, Moto};

use super::*;

/// A moto where dev, staging and local can deploy: local's VPC and certificate, and the
/// zone prod's `dns` stack exports for the environments whose zone prod owns.
fn moto_for_three() -> Moto {
    let moto = Moto::start();
    moto.seed_local();
    moto.python(
        "cf.create_stack(StackName='balancer-prod-dns', TemplateBody=json.dumps({'Resources': {'HostedZone': {'Type': 'AWS::Route53::HostedZone', 'Properties': {'Name': 'hyperchonk.com'}}}, 'Outputs': {'HostedZoneId': {'Value': {'Ref': 'HostedZone'}, 'Export': {'Name': 'balancer-prod-dns-HostedZoneId'}}}}))",
    );
    moto
}

fn deployed_stacks(moto: &Moto, env: &str) -> usize {
    moto.python(&format!(
        "print(sum(1 for s in cf.describe_stacks()['Stacks'] if s['StackName'].startswith('balancer-{env}-') and s['StackStatus'] == 'CREATE_COMPLETE'))"
    ))
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn three_environments_are_planned_together_and_confirmed_once_at_a_terminal() {
    let project = local_project();
    let moto = moto_for_three();
    let args = ["deploy", "dev", "staging", "local", "--concurrency", "2"];
    let run = support::envc_at_terminal(project.path(), &moto.url(), &args, ("[y/N]", "y\\n"), 240);
    assert_eq!(run.code, Some(0), "{}", run.shown);
    assert_eq!(run.shown.matches("[y/N]").count(), 1, "{}", run.shown);
    let (plan, after) = run.shown.split_at(run.shown.find("[y/N]").unwrap());
    for shown in [
        "dev: account 123456789012, us-east-1",
        "staging: account 123456789012, us-east-1",
        "local: account 123456789012, us-east-1",
        "staging/waf (balancer-staging-waf), new stack: ",
        &format!("Deploy these changes to 3 environments, `dev`, `staging`, `local` ({} stacks to create)?", 13 + 14 + LOCAL_STACKS),
    ] {
        assert!(plan.contains(shown), "{shown:?} is not in the plan:\n{plan}");
    }
    assert!(
        !plan.contains("started"),
        "nothing starts before the answer:\n{plan}"
    );
    for (env, stacks) in [("dev", 13), ("staging", 14), ("local", LOCAL_STACKS)] {
        assert!(
            after.contains(&format!("{env}/monitoring: CREATE_COMPLETE")),
            "{env}: {after}"
        );
        assert_eq!(deployed_stacks(&moto, env), stacks, "{env}");
        let row = after
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{env} ")))
            .unwrap_or_else(|| panic!("no summary row for {env}:\n{after}"));
        assert!(
            row.contains("deployed") && row.contains(&format!("{stacks} created")),
            "{row}"
        );
    }
}

/// staging's cluster stack ends ROLLBACK_COMPLETE, as a failed create does.
fn staging_fails(moto: &Moto) -> Proxy {
    Proxy::start(
        moto.port,
        vec![Rule::new(
            "DescribeStacks",
            rewrite(|body| {
                body.replace(
                    "<StackStatus>CREATE_COMPLETE</StackStatus>",
                    "<StackStatus>ROLLBACK_COMPLETE</StackStatus>",
                )
            }),
        )
        .stack("balancer-staging-cluster")],
    )
}

#[test]
fn a_failing_environment_is_named_and_the_others_finish_within_max_failures() {
    let project = local_project();
    let moto = moto_for_three();
    let proxy = staging_fails(&moto);
    let args = [
        "deploy",
        "dev",
        "staging",
        "local",
        "--yes",
        "--concurrency",
        "2",
        "--max-failures",
        "1",
    ];
    let run = envc_at(project.path(), &proxy.url(), &args);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("1 of 3 environments failed: `staging`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("staging:\n")
            || run
                .stderr
                .contains("`balancer-staging-cluster` ended ROLLBACK_COMPLETE"),
        "{}",
        run.all()
    );
    let row = |env: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("  {env} ")))
            .unwrap_or_else(|| panic!("no row for {env}:\n{}", run.stdout))
            .to_string()
    };
    assert!(
        row("staging").contains("FAILED") && row("staging").contains("failed: cluster"),
        "{}",
        row("staging")
    );
    assert!(row("dev").contains("deployed"), "{}", row("dev"));
    assert!(row("local").contains("deployed"), "{}", row("local"));
    assert_eq!(deployed_stacks(&moto, "dev"), 13);
    assert_eq!(deployed_stacks(&moto, "local"), LOCAL_STACKS);
}

#[test]
fn without_failures_allowed_no_environment_starts_after_one_failed() {
    let project = local_project();
    let moto = moto_for_three();
    let proxy = staging_fails(&moto);
    // staging deploys first, alone: local waits for it, and after its failure never starts.
    let args = ["deploy", "staging", "local", "--yes", "--concurrency", "1"];
    let run = envc_at(project.path(), &proxy.url(), &args);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("1 of 2 environments failed: `staging`"),
        "{}",
        run.stderr
    );
    let local = run
        .stdout
        .lines()
        .find(|l| l.starts_with("  local "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(local.contains("skipped"), "{local}");
    assert_eq!(deployed_stacks(&moto, "local"), 0);
    let change_sets = moto.python(
        "print(sum(len(cf.list_change_sets(StackName=s['StackName'])['Summaries']) for s in cf.describe_stacks()['Stacks']))",
    );
    assert_eq!(
        change_sets.trim(),
        "0",
        "a skipped environment leaves no change set"
    );
}

#[test]
fn environments_are_named_by_pattern_and_one_matching_nothing_is_refused() {
    let project = local_project();
    let none = support::envc(project.path(), &["deploy", "pr-*", "--dry-run"]);
    assert_eq!(none.code, 2, "{}", none.all());
    assert!(
        none.stderr.contains("no environment matches `pr-*`"),
        "{}",
        none.stderr
    );
    assert!(
        none.stderr
            .contains("environments are: base, dev, local, prod, staging, staging2"),
        "{}",
        none.stderr
    );
    let moto = moto_for_three();
    let both = envc_at(
        project.path(),
        &moto.url(),
        &["deploy", "staging*", "--dry-run"],
    );
    assert_eq!(both.code, 0, "{}", both.all());
    for env in ["staging", "staging2"] {
        assert!(
            both.stdout.contains(&format!("\n{env}: account"))
                || both.stdout.contains(&format!(" {env}: account")),
            "{env}: {}",
            both.stdout
        );
    }
    assert_eq!(
        deployed_stacks(&moto, "staging"),
        0,
        "a dry run changes nothing"
    );
}

//! The pull-request view: `envc cost`, replacements predicted offline against the golden
//! files of a git commit (in `diff --base` and in `check`), and the one comment that holds
//! every environment a change touches.

use std::path::Path;

use serde_json::Value;

use crate::support::{copy_project, envc, root};

#[path = "../crates/envc-core/benches/generate.rs"]
mod generate;

/// A git repository of `dir` on branch `main`, everything committed.
fn commit_all(dir: &Path, message: &str) {
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=envc", "-c", "user.email=envc@example.com"])
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?} failed");
    };
    if !dir.join(".git").exists() {
        git(&["init", "-q", "-b", "main"]);
    }
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", message]);
}

/// The root project in a fresh repository, committed on `main`.
fn root_in_git() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    std::fs::write(dir.path().join(".gitignore"), ".envc/\n").unwrap();
    commit_all(dir.path(), "the project");
    dir
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn append(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    let old = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, old + text).unwrap();
}

fn price(region: &str, key: &str) -> f64 {
    let snapshot: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("data/aws-prices.json")).unwrap(),
    )
    .unwrap();
    snapshot["regions"][region][key]["usd"]
        .as_f64()
        .unwrap_or_else(|| panic!("the snapshot has no {key} in {region}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.001
}

#[test]
fn the_wallet_service_costs_what_its_resources_cost_at_the_snapshots_prices() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(&root().join("examples/wallet-service"), dir.path());
    let run = envc(dir.path(), &["cost", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let staging = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env"] == "staging")
        .expect("staging is estimated");
    let line = |stack: &str, id: &str| -> &Value {
        staging["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["stack"] == stack && l["id"] == id)
            .unwrap_or_else(|| panic!("no line for {stack}.{id}"))
    };
    let hours = 730.0;
    let p = |key: &str| price("us-east-1", key);
    // Two tasks of 0.25 vCPU and 0.5 GB, scaling to four.
    let task =
        (0.25 * p("fargate.linux-x86.vcpu-hour") + 0.5 * p("fargate.linux-x86.gb-hour")) * hours;
    let service = &line("service", "Service")["monthly"];
    assert!(
        close(service["low"].as_f64().unwrap(), 2.0 * task),
        "{service}"
    );
    assert!(
        close(service["high"].as_f64().unwrap(), 4.0 * task),
        "{service}"
    );
    // An internet-facing ALB holds a public IPv4 address in each of its two zones.
    let balancer = line("service", "LoadBalancer")["monthly"]["low"]
        .as_f64()
        .unwrap();
    assert!(close(
        balancer,
        (p("elb.application.hour") + 2.0 * p("vpc.public-ipv4.hour")) * hours
    ));
    // Four interface endpoints, each in two zones; the S3 gateway endpoint is free.
    for id in [
        "EcrApiEndpoint",
        "EcrDockerEndpoint",
        "LogsEndpoint",
        "SecretsmanagerEndpoint",
    ] {
        let endpoint = line("network", id)["monthly"]["low"].as_f64().unwrap();
        assert!(
            close(endpoint, 2.0 * p("vpc.interface-endpoint.hour") * hours),
            "{id}"
        );
    }
    assert_eq!(line("network", "S3Endpoint")["pricing"], "free");
    // db.t3.small, Single-AZ, 50 GB of gp3.
    let database = line("database", "Instance")["monthly"]["low"]
        .as_f64()
        .unwrap();
    let expected = p("rds.postgres.single-az.db.t3.small.hour") * hours
        + 50.0 * p("rds.storage.gp3.single-az.gb-month");
    assert!(close(database, expected), "{database} != {expected}");
    // No NAT gateway: the endpoints stand in for it.
    assert!(!staging["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["type"] == "AWS::EC2::NatGateway"));
    // What is billed by use is listed with its unit price, not guessed.
    let logs = line("service", "LogGroup");
    assert_eq!(logs["pricing"], "usage");
    assert!(logs["usage"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["unit"] == "GB"));
}

#[test]
fn the_root_projects_environments_are_priced_per_stack_and_within_their_budgets() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let run = envc(dir.path(), &["cost"]);
    assert_eq!(run.code, 0, "{}", run.all());
    for env in ["dev", "staging", "prod"] {
        assert!(
            run.stdout.contains(&format!("\n{env} (us-east-1): "))
                || run.stdout.starts_with(&format!("{env} (us-east-1): ")),
            "{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("NatGateway"), "{}", run.stdout);
    assert!(run.stdout.contains("depends on usage"), "{}", run.stdout);
    // The budgets hold the estimates: `check` warns of none.
    let check = envc(dir.path(), &["check", "--deny-warnings"]);
    assert_eq!(check.code, 0, "{}", check.all());
    // Under a budget the estimate is over, `check` warns at the budget.
    edit(
        dir.path(),
        "env/prod.kdl",
        "budget-usd 300",
        "budget-usd 20",
    );
    let check = envc(dir.path(), &["check", "prod", "--format", "json"]);
    let over = json_lines(&check.stdout)
        .into_iter()
        .find(|d| d["code"] == "envc::cost::over-budget")
        .unwrap_or_else(|| panic!("{}", check.all()));
    assert_eq!(over["severity"], "warning");
    assert_eq!(
        (over["file"].as_str(), over["line"].as_u64()),
        (Some("env/prod.kdl"), Some(43)),
        "{over}"
    );
}

/// The review of `dir` against HEAD, as markdown.
fn markdown(dir: &Path, env: &str) -> String {
    let run = envc(
        dir,
        &["diff", env, "--base", "HEAD", "--format", "markdown"],
    );
    assert_eq!(run.code, 1, "a change is a difference: {}", run.all());
    run.stdout
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not json: {l}")))
        .collect()
}

/// `check ENV` in JSON after rendering the change, as a user does before committing it.
fn check_json(dir: &Path, env: &str) -> (i32, Vec<Value>) {
    let render = envc(dir, &["render", "--write"]);
    assert_eq!(render.code, 0, "{}", render.all());
    let run = envc(dir, &["check", env, "--format", "json"]);
    (run.code, json_lines(&run.stdout))
}

fn replacements(json: &[Value]) -> Vec<&Value> {
    json.iter()
        .filter(|d| d["code"] == "envc::change::replace")
        .collect()
}

#[test]
fn a_new_instance_class_is_an_update_in_place() {
    let repo = root_in_git();
    let dir = repo.path();
    edit(
        dir,
        "env/prod.kdl",
        "instance-class \"db.t3.medium\"",
        "instance-class \"db.t3.large\"",
    );
    let comment = markdown(dir, "prod");
    assert!(
        comment.contains("Nothing is replaced or deleted."),
        "{comment}"
    );
    assert!(
        comment.contains("- `Instance` `AWS::RDS::DBInstance` updated in place"),
        "{comment}"
    );
    assert!(
        comment.contains("`DBInstanceClass`: `db.t3.medium` → `db.t3.large`"),
        "{comment}"
    );
    let (code, json) = check_json(dir, "prod");
    assert_eq!(code, 0, "{json:?}");
    assert!(replacements(&json).is_empty(), "{json:?}");
}

#[test]
fn a_new_subnet_group_name_replaces_the_database_through_the_cascade_and_check_refuses_it_in_prod()
{
    let repo = root_in_git();
    let dir = repo.path();
    let setting = "DBSubnetGroupName \"balancer-prod-db-subnets\"";
    append(
        dir,
        "env/prod.kdl",
        &format!("\noverride \"database\" {{\n    SubnetGroup {{\n        {setting}\n    }}\n}}\n"),
    );
    let comment = markdown(dir, "prod");
    assert!(
        comment.contains("`database` `Instance` (`AWS::RDS::DBInstance`, holds data) **will be replaced**: `DBSubnetGroupName` refers to `SubnetGroup`, which is replaced — **prod** (protected)"),
        "{comment}"
    );
    assert!(
        comment
            .contains("`database` `SubnetGroup` (`AWS::RDS::DBSubnetGroup`) **will be replaced**"),
        "{comment}"
    );

    let (code, json) = check_json(dir, "prod");
    assert_eq!(code, 1, "{json:?}");
    let found = replacements(&json);
    assert_eq!(found.len(), 1, "{json:?}");
    assert_eq!(found[0]["severity"], "error");
    let text = std::fs::read_to_string(dir.join("env/prod.kdl")).unwrap();
    let (number, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(setting))
        .unwrap();
    let column = line.find("\"balancer").unwrap() + 1;
    assert_eq!(
        (
            found[0]["file"].as_str(),
            found[0]["line"].as_u64(),
            found[0]["column"].as_u64()
        ),
        (
            Some("env/prod.kdl"),
            Some(number as u64 + 1),
            Some(column as u64)
        ),
        "{}",
        found[0]
    );

    // Said in words, it passes (a warning remains, to remove the words once deployed).
    append(dir, "env/prod.kdl", "\nallow-replace \"database\"\n");
    let (code, json) = check_json(dir, "prod");
    assert_eq!(code, 0, "{json:?}");
    assert_eq!(replacements(&json)[0]["severity"], "warning");
}

#[test]
fn a_new_identifier_replaces_the_instance_and_an_unprotected_environment_is_warned() {
    let repo = root_in_git();
    let dir = repo.path();
    append(dir, "env/dev.kdl", "\noverride \"database\" {\n    Instance {\n        DBInstanceIdentifier \"balancer-dev-db2\"\n    }\n}\n");
    let comment = markdown(dir, "dev");
    assert!(
        comment.contains("`database` `Instance` (`AWS::RDS::DBInstance`, holds data) **will be replaced**: `DBInstanceIdentifier` changes and cannot be updated in place — **dev**"),
        "{comment}"
    );
    let (code, json) = check_json(dir, "dev");
    assert_eq!(code, 0, "{json:?}");
    let found = replacements(&json);
    assert_eq!(found.len(), 1, "{json:?}");
    assert_eq!(found[0]["severity"], "warning");
}

/// A project in a folder below the repository's root reads its golden files at the base
/// as one at the root does: no change is none, and a replacement is found.
#[test]
fn a_project_below_the_repositorys_root_is_compared_with_its_own_golden_files() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path().join("infra/balancer");
    std::fs::create_dir_all(&dir).unwrap();
    copy_project(root(), &dir);
    std::fs::write(repo.path().join(".gitignore"), ".envc/\n").unwrap();
    commit_all(repo.path(), "the project, in a folder");
    let same = envc(&dir, &["diff", "--base", "HEAD"]);
    assert_eq!(same.code, 0, "{}", same.all());
    assert!(
        same.all().contains("no changes since HEAD"),
        "{}",
        same.all()
    );
    append(&dir, "env/dev.kdl", "\noverride \"database\" {\n    Instance {\n        DBInstanceIdentifier \"balancer-dev-db2\"\n    }\n}\n");
    let (_, json) = check_json(&dir, "dev");
    assert_eq!(replacements(&json).len(), 1, "{json:?}");
}

#[test]
fn cost_base_gives_the_monthly_delta_of_more_tasks() {
    let repo = root_in_git();
    let dir = repo.path();
    edit(dir, "env/prod.kdl", "desired 2", "desired 4");
    edit(
        dir,
        "env/prod.kdl",
        "scaling min=2 max=10",
        "scaling min=4 max=10",
    );
    let render = envc(dir, &["render", "--write"]);
    assert_eq!(render.code, 0, "{}", render.all());
    commit_all(dir, "more tasks");
    let run = envc(dir, &["cost", "prod", "--base", "HEAD~1"]);
    assert_eq!(run.code, 0, "{}", run.all());
    // Two more tasks of 1 vCPU and 2 GB.
    let p = |key: &str| price("us-east-1", key);
    let delta =
        2.0 * (p("fargate.linux-x86.vcpu-hour") + 2.0 * p("fargate.linux-x86.gb-hour")) * 730.0;
    // Scaling to ten still tops out at ten: only the low end moves.
    let said = format!("(+{delta:.2} at the low end, +0.00 at the high end) since HEAD~1");
    assert!(run.stdout.contains(&said), "{said}\n{}", run.stdout);
}

#[test]
fn a_change_to_a_thousand_environments_fits_one_comment_and_keeps_every_replacement() {
    let dir = tempfile::tempdir().unwrap();
    generate::write_project_with_golden(dir.path(), 1000);
    std::fs::write(dir.path().join(".gitignore"), ".envc/\n").unwrap();
    commit_all(dir.path(), "a thousand environments");
    // A database name (create-only) replaces every database; a larger class is in place.
    edit(
        dir.path(),
        "env/base.kdl",
        "instance-class \"db.t3.micro\"",
        "instance-class \"db.t3.small\"\n    name \"ledger\"",
    );
    // The comment and the review it is made of, from one run (`envc diff --format markdown`
    // prints exactly this).
    let base = envc::change::BaseRef::Given("HEAD".to_string());
    let Ok((_, review)) = envc::review::review(dir.path(), &[], &base) else {
        panic!("the review is made");
    };
    let comment =
        envc::change::comment::markdown(&review, envc::change::comment::GITHUB_COMMENT_LIMIT);
    assert!(comment.len() < 65_536, "{} bytes", comment.len());
    let review = serde_json::to_value(&review).unwrap();
    let environments = review["environments"].as_array().unwrap();
    assert_eq!(environments.len(), 1000);
    let mut risky = 0;
    for env in environments {
        let name = env["env"].as_str().unwrap();
        for stack in env["stacks"].as_array().unwrap() {
            for resource in stack["resources"].as_array().unwrap() {
                if !["replace", "may-replace", "delete"]
                    .contains(&resource["action"].as_str().unwrap())
                {
                    continue;
                }
                risky += 1;
                let head = format!(
                    "`{}` `{}` (",
                    stack["stack"].as_str().unwrap(),
                    resource["id"].as_str().unwrap()
                );
                let line = comment.lines().find(|l| {
                    l.starts_with("- ")
                        && l.contains(&head)
                        && (l.contains(&format!("**{name}**"))
                            || l.contains("all 1000 environments"))
                });
                assert!(line.is_some(), "no line for {head} in {name}");
            }
        }
    }
    assert!(risky >= 1000, "every database is replaced: {risky}");
}

/// The `envc …` command lines of a workflow's job, `${{ … }}` and `$ENV` made values.
fn workflow_commands(file: &str, job: &str) -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let workflow: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let steps = workflow["jobs"][job]["steps"].as_sequence().unwrap();
    let mut commands = Vec::new();
    for run in steps.iter().filter_map(|s| s["run"].as_str()) {
        for line in run
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("envc "))
        {
            let line = line.split(" > ").next().unwrap();
            let words: Vec<String> = line
                .split_whitespace()
                .map(|w| match w.trim_matches('"') {
                    w if w.contains("${{") => "HEAD".to_string(),
                    "$ENV" => "pr-7".to_string(),
                    w => w.to_string(),
                })
                .collect();
            commands.push(words);
        }
    }
    for words in &commands {
        use clap::Parser;
        envc::cli::Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{file}: {words:?}: {e}"));
    }
    (text, commands)
}

#[test]
fn the_pull_request_environment_workflow_makes_deploys_and_destroys_with_commands_envc_has() {
    let (_, commands) = workflow_commands("docs/github-pr-environment.yml", "environment");
    let verbs: Vec<&str> = commands.iter().map(|c| c[1].as_str()).collect();
    assert_eq!(verbs, ["env", "deploy", "destroy"]);
}

#[test]
fn the_pull_request_workflow_runs_commands_envc_has() {
    let (text, commands) = workflow_commands("docs/github-workflow.yml", "review");
    assert!(commands.iter().any(|c| c[1] == "check"), "{commands:?}");
    assert!(
        commands
            .iter()
            .any(|c| c[1] == "diff" && c.contains(&"markdown".to_string())),
        "{commands:?}"
    );
    assert!(
        text.contains(envc::change::comment::MARKER),
        "the workflow finds its comment by the marker"
    );
}

#[test]
fn the_price_snapshot_is_refreshed_from_price_list_offer_files_and_covers_every_shipped_row() {
    let out = tempfile::tempdir().unwrap();
    let written = out.path().join("prices.json");
    let status = std::process::Command::new("python3")
        .arg(root().join("scripts/aws-prices.py"))
        .args([
            "--offers",
            "tests/prices/offers",
            "--regions",
            "us-east-1",
            "--date",
            "2026-12-01",
            "--out",
        ])
        .arg(&written)
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let read = |path: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(
        read(&written),
        read(&root().join("tests/prices/expected.json"))
    );
    // A refresh writes every row envc ships (and the Rust side looks up), no fewer.
    let shipped = read(&root().join("data/aws-prices.json"));
    let keys = |v: &Value| -> Vec<String> {
        v["regions"]["us-east-1"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(keys(&shipped), keys(&read(&written)));
}

//! Rendering the example projects: golden files, cfn-lint, and what a change to one
//! environment does to the golden files of it and its children.

use crate::support;

use support::{copy_project, files_under, root};

use std::path::{Path, PathBuf};
use std::process::Command;

fn envc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let run = support::envc(dir, args);
    (run.code, run.stdout, run.stderr)
}

/// The root project and every example project.
fn projects() -> Vec<PathBuf> {
    let mut projects = vec![root().to_path_buf()];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("stacks.kdl").is_file())
        .collect();
    examples.sort();
    projects.extend(examples);
    projects
}

#[test]
fn every_project_checks_clean_with_current_golden_files() {
    let projects = projects();
    assert!(
        projects.len() >= 4,
        "the root project and three examples: {projects:?}"
    );
    for project in projects {
        let (code, stdout, stderr) = envc(&project, &["check"]);
        assert_eq!(code, 0, "{}:\n{stdout}{stderr}", project.display());
        let golden = files_under(&project.join("golden"));
        assert!(!golden.is_empty(), "{} has golden files", project.display());
    }
}

#[test]
fn cfn_lint_with_informational_rules_finds_nothing_in_any_golden_template() {
    let mut templates = Vec::new();
    for project in projects() {
        // Templates only: `golden/.envc-revision` records what wrote them.
        let golden = files_under(&project.join("golden"));
        for relative in golden
            .keys()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        {
            templates.push(project.join("golden").join(relative));
        }
    }
    // Informational rules too (`I…`, like explicit deletion policies for stateful resources).
    let output = Command::new("cfn-lint")
        .args(["--format", "parseable"])
        .args(&templates)
        // Last: the option takes every argument after it.
        .args(["--include-checks", "I"])
        .output()
        .expect("cfn-lint must be installed (scripts/test installs it into .venv)");
    let report = String::from_utf8_lossy(&output.stdout);
    let errors: Vec<&str> = report.lines().filter(|l| l.contains(":E")).collect();
    assert!(errors.is_empty(), "cfn-lint errors:\n{}", errors.join("\n"));
    // Warnings and informational findings are allowed only where a project explains them;
    // none are expected today.
    assert!(report.trim().is_empty(), "cfn-lint findings:\n{report}");
    assert!(
        output.status.success(),
        "cfn-lint failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn checkov_fails_nothing_in_any_golden_template_and_every_skip_says_why() {
    for project in projects() {
        let output = Command::new("checkov")
            .arg("-d")
            .arg(project.join("golden"))
            .args(["--framework", "cloudformation", "--compact", "-o", "json"])
            // No network: checkov would otherwise fetch its guideline mappings.
            .env("BC_SKIP_MAPPING", "TRUE")
            .output()
            .expect("checkov must be installed (scripts/test installs it into .venv)");
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
                panic!(
                    "{}: checkov printed no JSON ({e}):\n{}",
                    project.display(),
                    String::from_utf8_lossy(&output.stderr)
                )
            });
        let results = &report["results"];
        let failed: Vec<String> = results["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| format!("{} {} {}", f["check_id"], f["file_path"], f["resource"]))
            .collect();
        assert!(
            failed.is_empty(),
            "{}: checkov findings:\n{}",
            project.display(),
            failed.join("\n")
        );
        assert!(
            report["summary"]["passed"].as_u64().unwrap_or(0) > 0,
            "{}: checkov checked nothing: {report}",
            project.display()
        );
        for skipped in results["skipped_checks"].as_array().into_iter().flatten() {
            let reason = skipped["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default();
            assert!(
                reason.len() > 20,
                "{}: {} is skipped without a reason in {}",
                project.display(),
                skipped["check_id"],
                skipped["file_path"]
            );
        }
    }
}

#[test]
fn staging2_differs_from_staging_only_in_names_domain_and_cidr() {
    let staging = files_under(&root().join("golden/staging"));
    let staging2 = files_under(&root().join("golden/staging2"));
    assert_eq!(
        staging.keys().collect::<Vec<_>>(),
        staging2.keys().collect::<Vec<_>>()
    );
    for (file, text) in &staging2 {
        let normalised = text
            .replace("staging2", "staging")
            .replace("Staging2", "Staging")
            .replace("10.2.", "10.1.");
        assert_eq!(
            &normalised,
            &staging[file],
            "golden/staging2/{} differs beyond names and CIDR",
            file.display()
        );
        assert_ne!(
            text,
            &staging[file],
            "golden/staging2/{} should carry its own names",
            file.display()
        );
    }
}

#[test]
fn a_change_in_staging_makes_staging_and_staging2_stale_until_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let staging = dir.path().join("env/staging.kdl");
    let text = std::fs::read_to_string(&staging)
        .unwrap()
        .replace("storage-gb 50", "storage-gb 60");
    std::fs::write(&staging, text).unwrap();

    let (code, _, stderr) = envc(dir.path(), &["check"]);
    assert_eq!(code, 1, "{stderr}");
    for env in ["staging", "staging2", "local"] {
        assert!(
            stderr.contains(&format!("`golden/{env}/database.yaml` is stale")),
            "{env}:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("+++ golden/{env}/database.yaml (rendered)")),
            "a diff for {env}:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("-      AllocatedStorage: \"50\"\n+      AllocatedStorage: \"60\""),
        "{stderr}"
    );
    assert!(
        !stderr.contains("golden/prod/"),
        "prod does not inherit staging:\n{stderr}"
    );

    let (code, stdout, _) = envc(dir.path(), &["diff", "staging2"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("AllocatedStorage: \"60\""), "{stdout}");

    let (code, stdout, _) = envc(dir.path(), &["render", "--write"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "wrote golden/local/database.yaml\nwrote golden/staging/database.yaml\nwrote golden/staging2/database.yaml\n"
    );
    assert_eq!(envc(dir.path(), &["check"]).0, 0);
    assert_eq!(envc(dir.path(), &["diff", "staging2"]).0, 0);
}

#[test]
fn a_broken_template_writes_no_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    std::fs::write(
        dir.path().join("env/dev.kdl"),
        std::fs::read_to_string(dir.path().join("env/dev.kdl"))
            .unwrap()
            .replace("cidr \"10.0.0.0/16\"", "cidr \"10.0.0.0/17\""),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(dir.path().join("templates/cluster.yaml.j2"), "Resources:\n  Cluster:\n    Type: AWS::ECS::Cluster\n    Properties:\n      ClusterName: {{ clustr_name }}\n").unwrap();
    let before = files_under(&dir.path().join("golden"));
    let (code, _, stderr) = envc(dir.path(), &["render", "--write"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("envc::render::template"), "{stderr}");
    assert!(stderr.contains("templates/cluster.yaml.j2:5:"), "{stderr}");
    assert_eq!(
        files_under(&dir.path().join("golden")),
        before,
        "golden files untouched"
    );
}

/// An environment's golden folder that is a file fails the write before any file is written:
/// the environments before it are not left rewritten.
#[test]
fn a_golden_folder_that_is_a_file_writes_no_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let base = dir.path().join("env/base.kdl");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replacen("memory 512", "memory 1024", 1)).unwrap();
    std::fs::remove_dir_all(dir.path().join("golden/staging")).unwrap();
    std::fs::write(dir.path().join("golden/staging"), "not a folder\n").unwrap();
    let before = files_under(&dir.path().join("golden"));
    let (code, _, stderr) = envc(dir.path(), &["render", "--write"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("`golden/staging` is a file"), "{stderr}");
    assert_eq!(
        files_under(&dir.path().join("golden")),
        before,
        "golden files untouched"
    );
}

/// `render --write` writes only into golden folders of the project's own and deletes only
/// left-over golden files: a `golden` link to the project root once deleted `src/` and
/// `benches/` as "folders of no environment".
#[test]
fn render_write_deletes_only_left_over_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let golden = dir.path().join("golden");
    std::fs::rename(&golden, dir.path().join("kept")).unwrap();
    std::os::unix::fs::symlink(".", &golden).unwrap();
    let paths = || files_under(dir.path()).into_keys().collect::<Vec<_>>();
    let before = paths();
    let (code, stdout, stderr) = envc(dir.path(), &["--no-cache", "render", "--write"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("`golden` is a symbolic link"), "{stderr}");
    assert_eq!(paths(), before, "nothing written or deleted");

    std::fs::remove_file(&golden).unwrap();
    std::fs::rename(dir.path().join("kept"), &golden).unwrap();
    std::fs::create_dir(golden.join("notes")).unwrap();
    std::fs::write(golden.join("notes/README.md"), "ours\n").unwrap();
    std::fs::create_dir(golden.join("gone")).unwrap();
    std::fs::copy(golden.join("dev/ci.yaml"), golden.join("gone/ci.yaml")).unwrap();
    std::fs::write(golden.join("gone/NOTES.txt"), "ours too\n").unwrap();
    std::fs::copy(golden.join("dev/ci.yaml"), golden.join("dev/legacy.yaml")).unwrap();
    let (code, stdout, stderr) = envc(dir.path(), &["render", "--write"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout, "deleted golden/dev/legacy.yaml\ndeleted golden/gone/ci.yaml\n",
        "deletions are said as such"
    );
    assert!(golden.join("notes/README.md").is_file());
    assert!(golden.join("gone/NOTES.txt").is_file());

    let (code, _, stderr) = envc(dir.path(), &["render", "--write", "--stack", "ci"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("takes no `--stack`"), "{stderr}");
}

/// A Python worker's placeholder code is Python and it may read its parameter with the
/// SDKs' one-parameter call; a service meant to run no task has no alarm for too few.
#[test]
fn placeholders_permissions_and_alarms_follow_what_the_files_say() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(&root().join("examples/fargate-lambda-aurora"), dir.path());
    let dev = dir.path().join("env/dev.kdl");
    let mut text = std::fs::read_to_string(&dev).unwrap();
    text.push_str("\nworker \"notifications\" {\n    lambda-runtime \"python3.12\"\n    secret \"TOKEN\" ssm=\"/notify/dev/token\"\n}\n");
    std::fs::write(&dev, text).unwrap();
    let (code, stdout, stderr) = envc(dir.path(), &["render", "dev", "--stack", "notifications"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("def handler(event, context):"), "{stdout}");
    assert!(!stdout.contains("exports.handler"), "{stdout}");
    assert!(stdout.contains("Action: ssm:GetParameter\n"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let (_, before, _) = envc(dir.path(), &["render", "dev", "--stack", "monitoring"]);
    assert!(before.contains("ApiTooFewTasks:"), "{before}");
    let dev = dir.path().join("env/dev.kdl");
    let text = std::fs::read_to_string(&dev).unwrap();
    let text = text.replace("    scaling min=1 max=2 cpu-target=75\n", "    desired 0\n");
    std::fs::write(&dev, text).unwrap();
    let (code, after, stderr) = envc(dir.path(), &["render", "dev", "--stack", "monitoring"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!after.contains("ApiTooFewTasks:"), "{after}");
    assert!(after.contains("ApiHighCpu:"), "{after}");
}

/// In the China regions, GitHub's token is asked for STS's China name, and the deploy role
/// trusts that audience: `sts.amazonaws.com` there fails with "Incorrect token audience".
#[test]
fn the_deploy_role_trusts_the_audience_of_its_partition() {
    let (code, global, stderr) = envc(root(), &["render", "dev", "--stack", "ci"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        global.contains("githubusercontent.com:aud: sts.amazonaws.com\n"),
        "{global}"
    );

    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let stacks = dir.path().join("stacks.kdl");
    let text = std::fs::read_to_string(&stacks).unwrap();
    std::fs::write(
        &stacks,
        text.replace("region \"us-east-1\"", "region \"cn-north-1\""),
    )
    .unwrap();
    let (code, china, stderr) = envc(dir.path(), &["render", "dev", "--stack", "ci"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        china.contains("githubusercontent.com:aud: sts.amazonaws.com.cn\n"),
        "{china}"
    );
    assert!(china.contains("arn:aws-cn:iam::"), "{china}");
}

#[test]
fn render_prints_one_stack_and_graph_draws_the_waves() {
    let (code, stdout, _) = envc(root(), &["render", "staging2", "--stack", "network"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        std::fs::read_to_string(root().join("golden/staging2/network.yaml")).unwrap()
    );
    let (code, stdout, _) = envc(root(), &["graph", "prod"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("graph TD\n"), "{stdout}");
    assert!(stdout.contains("    network --> database\n"), "{stdout}");
    assert!(stdout.contains("    api --> waf\n"), "{stdout}");
    let (code, stdout, _) = envc(root(), &["graph", "dev", "--format", "dot"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"network\" -> \"database\";"), "{stdout}");
    assert!(!stdout.contains("waf"), "dev has no WAF: {stdout}");
    let (code, _, stderr) = envc(root(), &["render", "base"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is abstract"), "{stderr}");
}

/// The hosted zone a certificate is validated in, read from the golden `dns` templates: the
/// stack's own `HostedZone`, or the one of the environment it imports the zone from.
fn certificate_zone(
    project: &str,
    dns_stack: &str,
    template: &serde_yaml_ng::Value,
) -> Option<ZoneRef> {
    use serde_yaml_ng::Value;
    let certificate = &template["Resources"]["Certificate"]["Properties"];
    let zone = &certificate["DomainValidationOptions"][0]["HostedZoneId"];
    match zone {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => Some(ZoneRef::Own),
        Value::Tagged(tagged) if tagged.tag == "!ImportValue" => {
            let export = tagged.value.as_str()?;
            let owner = export
                .strip_prefix(&format!("{project}-"))?
                .strip_suffix(&format!("-{dns_stack}-HostedZoneId"))?;
            Some(ZoneRef::Of(owner.to_string()))
        }
        Value::String(_) => Some(ZoneRef::Existing),
        _ => None,
    }
}

enum ZoneRef {
    Own,
    Of(String),
    Existing,
}

#[test]
fn each_account_creates_a_zone_once_and_every_certificate_is_validated_in_it() {
    for project in projects() {
        let checked = envc::check(&project, &[]);
        let stacks = &checked.validated.stacks.as_ref().expect("stacks.kdl").model;
        let Some((dns_stack, _)) = stacks
            .stack
            .iter()
            .find(|(_, s)| s.builtin() == Some(envc::model::StackKind::Dns))
        else {
            continue;
        };
        let read = |env: &str| -> serde_yaml_ng::Value {
            let path = project
                .join("golden")
                .join(env)
                .join(format!("{dns_stack}.yaml"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            serde_yaml_ng::from_str(&text).expect("golden YAML")
        };
        let zone_name = |template: &serde_yaml_ng::Value| {
            template["Resources"]["HostedZone"]["Properties"]["Name"]
                .as_str()
                .map(str::to_string)
        };
        let mut created: std::collections::BTreeMap<(String, String), Vec<String>> =
            Default::default();
        for env in &checked.validated.envs {
            let template = read(&env.name);
            if let Some(zone) = zone_name(&template) {
                created
                    .entry((env.model.account.clone(), zone))
                    .or_default()
                    .push(env.name.clone());
            }
            let Some(domain) =
                template["Resources"]["Certificate"]["Properties"]["DomainName"].as_str()
            else {
                continue;
            };
            let zone = match certificate_zone(&stacks.project, dns_stack, &template) {
                Some(ZoneRef::Own) => zone_name(&template),
                Some(ZoneRef::Of(owner)) => zone_name(&read(&owner)),
                Some(ZoneRef::Existing) => continue,
                None => None,
            };
            let zone = zone.unwrap_or_else(|| {
                panic!(
                    "{}: the certificate of `{}` names no zone that is created",
                    project.display(),
                    env.name
                )
            });
            assert!(
                domain == zone || domain.ends_with(&format!(".{zone}")),
                "{}: `{}` validates {domain} in {zone}",
                project.display(),
                env.name
            );
        }
        for ((account, zone), envs) in created {
            assert_eq!(
                envs.len(),
                1,
                "{}: {zone} is created in account {account} by {envs:?}",
                project.display()
            );
        }
    }
}

/// A project template that extends a built-in and fills one block changes the render by
/// that block's text and nothing else, for every built-in kind.
#[test]
fn a_block_of_every_built_in_can_be_overridden_alone() {
    const MARKER: &str = "  OverrideMarker:\n    Type: AWS::CloudFormation::WaitConditionHandle\n";
    let project = tempfile::tempdir().unwrap();
    copy_project(root(), project.path());
    let dir = project.path();
    // staging renders every stack of the root project, one of each built-in kind.
    let before = files_under(&dir.join("golden/staging"));
    let kinds: Vec<String> = std::fs::read_dir(root().join("builtin"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml.j2"))
        .collect();
    assert_eq!(kinds.len(), 14, "{kinds:?}");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    for kind in &kinds {
        std::fs::write(
            dir.join("templates").join(kind),
            format!(
                "{{% extends \"builtin/{kind}\" %}}\n{{% block extra_resources %}}\n{MARKER}{{% endblock %}}\n"
            ),
        )
        .unwrap();
    }
    let (code, stdout, stderr) = envc(dir, &["render", "staging", "--write"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let after = files_under(&dir.join("golden/staging"));
    assert_eq!(
        before.len(),
        14,
        "one stack of each kind: {:?}",
        before.keys()
    );
    for (file, text) in &after {
        assert!(
            text.contains(MARKER),
            "{}: the block is not in the render",
            file.display()
        );
        assert_eq!(
            &text.replacen(MARKER, "", 1),
            &before[file],
            "{}: the override changed more than its block",
            file.display()
        );
    }
}

/// The built-ins' macros run as Rust functions; `builtin/_macros.j2` is their definition. A
/// project's copy of it (a comment added, so that it is the project's own) renders every
/// golden file of the root as the functions do, and an edit of the copy shows in the render.
#[test]
fn a_projects_own_macros_replace_the_built_in_functions() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let written = std::fs::read_to_string(root().join("builtin/_macros.j2")).unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    let own = dir.path().join("templates/_macros.j2");
    std::fs::write(&own, format!("{written}{{# the project's copy #}}\n")).unwrap();
    let (code, stdout, stderr) = envc(dir.path(), &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    std::fs::write(
        &own,
        written.replace("(rendered by envc)", "(rendered by our macros)"),
    )
    .unwrap();
    let (code, stdout, stderr) = envc(dir.path(), &["render", "staging2", "--stack", "queues"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("balancer staging2: queues (rendered by our macros)"),
        "{stdout}"
    );
}

/// A project's `_macros.j2` copied before envc's built-ins called a macro it lacks: the call
/// is refused with the macro's name and envc's definition of it to add.
#[test]
fn a_macro_the_projects_own_macros_lack_is_named_with_its_definition() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let written = std::fs::read_to_string(root().join("builtin/_macros.j2")).unwrap();
    let start = written.find("{% macro alarm(").unwrap();
    let end = start + written[start..].find("{%- endmacro %}").unwrap();
    let without = format!("{}{}", &written[..start], &written[end + 15..]);
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(dir.path().join("templates/_macros.j2"), without).unwrap();
    let (code, stdout, stderr) = envc(dir.path(), &["--no-cache", "check"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "failed for stack `monitoring` of `dev`: it calls `m.alarm`, which the project's \
             `templates/_macros.j2` does not define"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("{% macro alarm(id, description"),
        "{stderr}"
    );
    assert!(!stderr.contains("has no method"), "{stderr}");
}

/// examples/kinds adds the X-Ray daemon to the built-in service through two of its blocks;
/// without its template the render differs by exactly those lines.
#[test]
fn the_examples_service_override_adds_only_its_blocks() {
    let project = tempfile::tempdir().unwrap();
    let example = root().join("examples/kinds");
    copy_project(&example, project.path());
    std::fs::remove_file(project.path().join("templates/service.yaml.j2")).unwrap();
    let (code, plain, stderr) = envc(project.path(), &["render", "dev", "--stack", "web"]);
    assert_eq!(code, 0, "{stderr}");
    let overridden = std::fs::read_to_string(example.join("golden/dev/web.yaml")).unwrap();
    let added: Vec<&str> = {
        let plain: Vec<&str> = plain.lines().collect();
        let mut rest = plain.iter().peekable();
        overridden
            .lines()
            .filter(|line| {
                if rest.peek() == Some(&line) {
                    rest.next();
                    false
                } else {
                    true
                }
            })
            .collect()
    };
    assert!(
        added.iter().any(|l| l.contains("Name: xray-daemon")),
        "{added:?}"
    );
    assert!(
        added.iter().any(|l| l.contains("xray:PutTraceSegments")),
        "{added:?}"
    );
    assert_eq!(
        overridden.lines().count() - plain.lines().count(),
        added.len(),
        "only added lines: {added:?}"
    );
    assert!(added.len() < 30, "{added:?}");
}

/// What AWS needs that cfn-lint, checkov and moto let through, held over every golden file:
/// a topic that alarms publish to is not under an AWS managed key (whose policy admits no
/// service, so CloudWatch could not publish:
/// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
/// and a new VPC's public subnets (the load balancer's) span at least two zones
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones).
#[test]
fn alarms_can_notify_and_load_balancers_span_two_zones_in_every_golden_file() {
    let mut networks = 0;
    for project in projects() {
        for (relative, text) in support::files_under(&project.join("golden")) {
            let shown = project.join("golden").join(&relative);
            let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", shown.display()));
            let resources = template["Resources"]
                .as_mapping()
                .cloned()
                .unwrap_or_default();
            for (name, resource) in &resources {
                let kind = resource["Type"].as_str().unwrap_or_default();
                let key = resource["Properties"]["KmsMasterKeyId"]
                    .as_str()
                    .unwrap_or_default();
                assert!(
                    !(kind == "AWS::SNS::Topic" && key.starts_with("alias/aws/")),
                    "{}: topic {name:?} is under {key}, which no AWS service can publish with",
                    shown.display()
                );
            }
            let public_zones: std::collections::BTreeSet<String> = resources
                .values()
                .filter(|r| r["Type"] == "AWS::EC2::Subnet")
                .filter(|r| r["Properties"]["MapPublicIpOnLaunch"] == true)
                .map(|r| format!("{:?}", r["Properties"]["AvailabilityZone"]))
                .collect();
            if resources.values().any(|r| r["Type"] == "AWS::EC2::Subnet") {
                networks += 1;
                assert!(
                    public_zones.len() >= 2,
                    "{}: public subnets in {} zone(s)",
                    shown.display(),
                    public_zones.len()
                );
            }
        }
    }
    assert!(networks >= 10, "only {networks} golden networks seen");
}

/// The rule layer (what AWS refuses or silently ignores: names, keys, zones, quotas) finds
/// nothing in any project of the repository, nor in a copy of the root project whose `dev` is
/// renamed to an environment name of the longest length envc accepts (40 characters) or to
/// `feature-login-redesign-2026`: every name the built-ins derive fits AWS's limits.
#[test]
fn the_rule_layer_finds_nothing_in_any_project_even_with_a_forty_character_environment() {
    let findings = |project: &Path| -> Vec<String> {
        let checked = envc::run(project, &[], envc::Stages::Render);
        assert!(
            !checked.rendered.is_empty(),
            "{}: nothing rendered",
            project.display()
        );
        checked
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    };
    for project in projects() {
        assert_eq!(
            findings(&project),
            Vec::<String>::new(),
            "{}",
            project.display()
        );
    }
    for long in [
        "feature-login-redesign-2026",
        "feature-login-redesign-2026-checkout-abc",
    ] {
        assert!(long.len() == 27 || long.len() == 40);
        let copy = tempfile::tempdir().unwrap();
        support::copy_project(root(), copy.path());
        std::fs::remove_dir_all(copy.path().join("golden")).unwrap();
        std::fs::rename(
            copy.path().join("env/dev.kdl"),
            copy.path().join(format!("env/{long}.kdl")),
        )
        .unwrap();
        let stacks = std::fs::read_to_string(copy.path().join("stacks.kdl")).unwrap();
        std::fs::write(
            copy.path().join("stacks.kdl"),
            format!("{stacks}\ngolden #false\n"),
        )
        .unwrap();
        let found = findings(copy.path());
        assert_eq!(found, Vec::<String>::new(), "with `{long}`");
        // The rules ran: the names they read are this environment's.
        let checked = envc::run(copy.path(), &[long.to_string()], envc::Stages::Render);
        let body = &checked.rendered[0]
            .stacks
            .iter()
            .find(|s| s.stack == "api")
            .expect("api stack")
            .body;
        assert!(body.contains(&format!("balancer-{long}")), "{body}");
    }
}

/// An `override` sets a property the built-in has no setting for, in prod only: the golden
/// diff is that one line of prod's database file, and `explain` names where it was set.
#[test]
fn an_override_in_prod_changes_one_line_of_one_golden_file() {
    let copy = tempfile::tempdir().unwrap();
    copy_project(root(), copy.path());
    let before = files_under(&copy.path().join("golden"));
    let prod = copy.path().join("env/prod.kdl");
    let text = std::fs::read_to_string(&prod).unwrap()
        + "\noverride \"database\" {\n    Instance {\n        MaxAllocatedStorage 500\n    }\n}\n";
    std::fs::write(&prod, text).unwrap();

    let written = support::envc(copy.path(), &["render", "--write"]);
    assert_eq!(written.code, 0, "{}", written.all());
    let after = files_under(&copy.path().join("golden"));
    let changed: Vec<&PathBuf> = after
        .iter()
        .filter(|(path, text)| before.get(*path) != Some(*text))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(changed, [&PathBuf::from("prod/database.yaml")]);
    let old = &before[&PathBuf::from("prod/database.yaml")];
    let new = &after[&PathBuf::from("prod/database.yaml")];
    let added: Vec<&str> = new
        .lines()
        .filter(|l| !old.lines().any(|o| o == *l))
        .collect();
    assert_eq!(added, ["      MaxAllocatedStorage: 500"]);
    assert_eq!(new.lines().count(), old.lines().count() + 1);

    let explained = support::envc(
        copy.path(),
        &[
            "explain",
            "prod",
            "override.database.Instance.MaxAllocatedStorage",
        ],
    );
    assert_eq!(explained.code, 0, "{}", explained.all());
    let line = std::fs::read_to_string(&prod)
        .unwrap()
        .lines()
        .position(|l| l.contains("MaxAllocatedStorage"))
        .unwrap()
        + 1;
    assert!(
        explained.stdout.contains(&format!("env/prod.kdl:{line}:")),
        "{}",
        explained.stdout
    );
}

#[test]
fn golden_files_of_an_older_envc_are_reported_once_as_an_upgrade_with_the_changelog() {
    let dir = tempfile::tempdir().unwrap();
    support::copy_project(support::root(), dir.path());
    // As the release before render revision 2 wrote them: no revision recorded, and dev's
    // access-log bucket retained.
    std::fs::remove_file(dir.path().join("golden/.envc-revision")).unwrap();
    let api = dir.path().join("golden/dev/api.yaml");
    let text = std::fs::read_to_string(&api).unwrap();
    let at = text.find("  AccessLogBucket:").unwrap();
    let old = text[..at].to_string()
        + &text[at..]
            .replacen("DeletionPolicy: Delete", "DeletionPolicy: Retain", 1)
            .replacen(
                "UpdateReplacePolicy: Delete",
                "UpdateReplacePolicy: Retain",
                1,
            );
    std::fs::write(&api, old).unwrap();
    let (code, stdout, stderr) = envc(dir.path(), &["check"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let shown = format!("{stdout}{stderr}");
    let upgrade = shown
        .find("envc::golden::upgrade")
        .expect("the upgrade is named");
    assert_eq!(shown.matches("envc::golden::upgrade").count(), 1, "{shown}");
    assert!(
        upgrade < shown.find("envc::golden::stale").unwrap(),
        "{shown}"
    );
    assert!(shown.contains("render revision 1"), "{shown}");
    let entry = envc::golden::changelog_since(1);
    assert_eq!(entry[0].0, envc::golden::RENDER_REVISION);
    assert!(
        shown.contains("The access-log bucket of an unprotected environment goes with its stack"),
        "{shown}"
    );
    // Written again, the revision is recorded and nothing more is said.
    assert_eq!(envc(dir.path(), &["render", "--write"]).0, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("golden/.envc-revision")).unwrap(),
        format!("render-revision {}\n", envc::golden::RENDER_REVISION)
    );
    let (code, stdout, stderr) = envc(dir.path(), &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn every_render_revision_has_a_changelog_entry() {
    let entries = envc::golden::changelog_since(0);
    let revisions: Vec<u32> = entries.iter().map(|(r, _)| *r).collect();
    let expected: Vec<u32> = (1..=envc::golden::RENDER_REVISION).rev().collect();
    assert_eq!(
        revisions, expected,
        "CHANGELOG.md has one section per render revision, newest first"
    );
    assert!(entries.iter().all(|(_, text)| text.len() > 40));
}

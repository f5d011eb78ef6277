//! The CLI on the example project at the repository root.

use crate::support;

use support::{copy_project, root};

use std::path::Path;

fn envc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let run = support::envc(dir, args);
    (run.code, run.stdout, run.stderr)
}

/// `path:line:col` of the first occurrence of `needle` in a file of the example.
fn location_of(file: &str, needle: &str, column_offset: usize) -> String {
    let text = std::fs::read_to_string(root().join(file)).expect("read example file");
    let (line, text) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .expect("needle in file");
    format!(
        "{file}:{}:{}",
        line + 1,
        text.find(needle).unwrap() + 1 + column_offset
    )
}

#[test]
fn example_project_checks_clean() {
    let (code, stdout, stderr) = envc(root(), &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("5 environments checked, no problems"),
        "{stdout}"
    );
    assert_eq!(stderr, "");
}

#[test]
fn committed_schema_is_current() {
    let (code, _, stderr) = envc(root(), &["schema", "--check"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn stale_docs_fail_docs_check_and_check_until_rewritten() {
    let project = tempfile::tempdir().unwrap();
    copy_project(root(), project.path());
    let dir = project.path();
    assert_eq!(envc(dir, &["docs", "--check"]).0, 0, "fresh docs");
    // A new setting in the model is a new row: here, the committed document lacks one.
    let path = dir.join("docs/settings.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let row = text
        .lines()
        .find(|l| l.starts_with("| `network.azs`"))
        .unwrap()
        .to_string();
    std::fs::write(&path, text.replace(&format!("{row}\n"), "")).unwrap();
    let (code, _, stderr) = envc(dir, &["docs", "--check"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("docs/settings.md` is stale"), "{stderr}");
    assert!(
        stderr.contains(&format!("+{row}")),
        "the diff shows the missing row: {stderr}"
    );
    let (code, _, stderr) = envc(dir, &["check"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("envc::docs::stale"), "{stderr}");
    let (code, _, stderr) = envc(dir, &["docs"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(envc(dir, &["check"]).0, 0);
}

#[test]
fn explain_names_the_parent_file_for_an_inherited_value() {
    let (code, stdout, _) = envc(root(), &["explain", "staging2", "database.instance-class"]);
    assert_eq!(code, 0);
    let staging = location_of("env/staging.kdl", "\"db.t3.small\"", 0);
    assert!(
        stdout.contains(&staging),
        "expected {staging} in:\n{stdout}"
    );
    assert!(stdout.contains("inherited by staging2"), "{stdout}");
    let first = stdout.lines().next().unwrap();
    assert_eq!(first, "staging2 database.instance-class = \"db.t3.small\"");
}

#[test]
fn explain_shows_both_sides_of_an_override() {
    let (code, stdout, _) = envc(root(), &["explain", "staging2", "network.cidr"]);
    assert_eq!(code, 0);
    let own = location_of("env/staging2.kdl", "\"10.2.0.0/16\"", 0);
    let parent = location_of("env/staging.kdl", "\"10.1.0.0/16\"", 0);
    assert!(
        stdout.contains(&own) && stdout.contains(&parent),
        "{stdout}"
    );
    assert!(
        stdout.find(&own) < stdout.find(&parent),
        "newest first:\n{stdout}"
    );
}

#[test]
fn late_bound_references_see_the_child() {
    let (_, stdout, _) = envc(root(), &["explain", "staging2", "domain"]);
    assert!(
        stdout.starts_with("staging2 domain = \"staging2-api.hyperchonk.com\""),
        "{stdout}"
    );
    assert!(stdout.contains("${env}-api.hyperchonk.com"), "{stdout}");
    let (_, stdout, _) = envc(
        root(),
        &["explain", "staging2", "service.api.secret.CONFIG_JSON.from"],
    );
    assert!(stdout.contains("\"balancer-staging2-config\""), "{stdout}");
}

#[test]
fn explain_of_a_block_lists_every_value() {
    let (code, stdout, _) = envc(root(), &["explain", "prod", "service.api.scaling"]);
    assert_eq!(code, 0);
    for key in [
        "min = 2",
        "max = 10",
        "cpu-target = 70",
        "memory-target = 80",
    ] {
        assert!(stdout.contains(key), "{key} missing:\n{stdout}");
    }
}

#[test]
fn explain_reaches_a_key_holding_a_dot_written_bare_or_quoted() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let dev = dir.path().join("env/dev.kdl");
    let mut text = std::fs::read_to_string(&dev).unwrap();
    text.push_str("\ntags {\n    \"cost.center\" \"42\"\n}\n");
    let line = text.lines().count() - 1;
    std::fs::write(&dev, text).unwrap();
    let expected = format!(
        "dev tags.\"cost.center\" = \"42\"\n  set by   dev          at env/dev.kdl:{line}:19  \"42\"\n"
    );
    for written in ["tags.cost.center", "tags.\"cost.center\""] {
        let (code, stdout, stderr) = envc(dir.path(), &["explain", "dev", written]);
        assert_eq!(code, 0, "{written}: {stderr}");
        assert_eq!(stdout, expected, "{written}");
    }
    // Only dev sets it: another environment has no such value, and says so.
    let (code, _, stderr) = envc(dir.path(), &["explain", "staging", "tags.cost.center"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("has no value at `tags.cost.center`"),
        "{stderr}"
    );
}

#[test]
fn one_mistake_in_a_parent_is_reported_for_each_child_once() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let staging = dir.path().join("env/staging.kdl");
    let text = std::fs::read_to_string(&staging)
        .unwrap()
        .replace("cpu 512", "cpu 500");
    std::fs::write(&staging, text).unwrap();
    let (code, stdout, _) = envc(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["code"], "envc::service::fargate-size");
    assert_eq!(lines[0]["file"], "env/staging.kdl");
    assert_eq!(
        lines[0]["notes"],
        serde_json::json!([
            "inherited by environment `local`",
            "inherited by environment `staging2`"
        ])
    );
}

/// A problem past column 65,535, where miette's padding panics, is reported with its place
/// as a note instead of a snippet, by `check` and by `fmt --check`.
#[test]
fn a_problem_on_a_line_too_long_to_show_is_reported_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let path = dir.path().join("env/dev.kdl");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().count() + 1;
    let spaces = " ".repeat(66_000);
    for (added, code, args) in [
        ("bogus 1", "envc::schema::unknown-key", &["check"][..]),
        ("}", "envc::parse::syntax", &["fmt", "--check", "env"][..]),
    ] {
        std::fs::write(&path, format!("{text}{spaces}{added}\n")).unwrap();
        let (exit, stdout, stderr) = envc(dir.path(), args);
        assert_eq!(exit, 1, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(code), "{args:?}: {stderr}");
        let place = format!(":{line}:66001: ");
        assert!(
            stderr.contains(&place),
            "{args:?}: no `{place}` in {stderr}"
        );
        assert!(stderr.contains("its line is too long to show"), "{stderr}");
    }
}

#[test]
fn a_very_long_name_is_quoted_by_its_ends_and_length_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    let path = dir.path().join("env/dev.kdl");
    let text = std::fs::read_to_string(&path).unwrap();
    let long = "x".repeat(20_000);
    std::fs::write(
        &path,
        format!("{text}bogus{long}end 1\nregion \"${{{long}}}\"\n"),
    )
    .unwrap();
    for format in ["human", "json", "github"] {
        let (exit, stdout, stderr) = envc(dir.path(), &["check", "--format", format]);
        assert_eq!(exit, 1, "{format}: {stdout}{stderr}");
        let output = stdout + &stderr;
        for (code, length) in [
            ("unknown-key", "(20,008 characters)"),
            ("unknown-ref", "(20,003 characters)"),
        ] {
            assert!(output.contains(code), "{format}: {output}");
            assert!(output.contains(length), "{format}: no {length} in {output}");
        }
        assert!(
            output.contains("xxxxend` (20,008 characters)"),
            "{format}: {output}"
        );
        // Two diagnostics of a few lines each, not two copies of each name.
        assert!(output.len() < 4_000, "{format}: {} bytes", output.len());
    }
}

#[test]
fn arguments_a_command_cannot_take_get_a_coded_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    for (args, code, text) in [
        (
            &["diff", "--live", "local", "dev"][..],
            "envc::usage",
            "takes one environment, not 2",
        ),
        (
            &["drift", "local", "--stack", "nosuch"][..],
            "envc::stack::unknown",
            "its stacks: network",
        ),
        (
            &["render"][..],
            "envc::usage",
            "`render` prints one environment, and none was named",
        ),
        (
            &["init", "--starter", "graphql-apy"][..],
            "envc::usage",
            "did you mean `graphql-api`?",
        ),
    ] {
        let (exit, stdout, stderr) = envc(dir.path(), args);
        assert_eq!(exit, 2, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains(code) && stderr.contains(text),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn stale_schema_fails_check_and_schema_rewrites_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    std::fs::write(dir.path().join("schema/env.schema.json"), "{}\n").unwrap();
    let (code, _, stderr) = envc(dir.path(), &["check"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("envc::schema::stale"), "{stderr}");
    let (code, _, stderr) = envc(dir.path(), &["schema", "--check"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("+++"), "shows a diff: {stderr}");
    assert_eq!(envc(dir.path(), &["schema"]).0, 0);
    assert_eq!(envc(dir.path(), &["check"]).0, 0);
}

#[test]
fn dash_c_runs_on_another_directory_and_names_files_from_here() {
    let parent = tempfile::tempdir().unwrap();
    let project = parent.path().join("proj");
    copy_project(root(), &project);
    std::fs::write(project.join("env/dev.kdl"), "extends \"bse\"\n").unwrap();
    let (code, stdout, _) = envc(
        parent.path(),
        &["-C", "proj", "check", "--format", "github"],
    );
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("::error file=proj/env/dev.kdl,line=1,col=9,"),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean `base`?"), "{stdout}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=envc", "-c", "user.email=envc@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn render_one_env_writes_only_that_envs_golden_folder() {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    copy_project(root(), dir);
    // A change every environment inherits, and a folder no environment owns.
    let base = dir.join("env/base.kdl");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replace("backup-days 7", "backup-days 9")).unwrap();
    std::fs::create_dir_all(dir.join("golden/gone")).unwrap();
    std::fs::write(dir.join("golden/gone/network.yaml"), "x").unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "before"]);

    let (code, stdout, stderr) = envc(dir, &["render", "staging", "--write"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let changed = git(dir, &["status", "--porcelain"]);
    assert!(!changed.is_empty(), "nothing written:\n{stdout}");
    for line in changed.lines() {
        assert!(
            line[3..].starts_with("golden/staging/"),
            "`render staging --write` touched {line}"
        );
    }

    // A whole-project write updates every environment and removes only folders of
    // environments that no longer exist.
    let (code, stdout, stderr) = envc(dir, &["render", "--write"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!dir.join("golden/gone").exists(), "{stdout}");
    for env in ["dev", "staging", "staging2", "prod", "local"] {
        assert!(
            dir.join("golden").join(env).join("network.yaml").is_file(),
            "{env}"
        );
    }
    let (code, _, stderr) = envc(dir, &["check"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_project_without_golden_files_fails_check_unless_it_opts_out() {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    copy_project(root(), dir);
    std::fs::remove_dir_all(dir.join("golden")).unwrap();
    let (code, _, stderr) = envc(dir, &["check"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("envc::golden::absent"), "{stderr}");

    let stacks = dir.join("stacks.kdl");
    let text = std::fs::read_to_string(&stacks).unwrap();
    std::fs::write(&stacks, format!("{text}golden #false\n")).unwrap();
    let (code, stdout, stderr) = envc(dir, &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn init_makes_a_project_that_checks_clean_from_each_starter() {
    for starter in [
        "graphql-api",
        "fargate-lambda-aurora",
        "existing-vpc-aurora",
        "wallet-service",
    ] {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("acme-api");
        std::fs::create_dir(&dir).unwrap();
        let (code, stdout, stderr) = envc(&dir, &["init", "--starter", starter]);
        assert_eq!(code, 0, "{starter}: {stdout}{stderr}");
        for file in [
            ".gitignore",
            ".github/workflows/envc.yml",
            "stacks.kdl",
            "env/base.kdl",
            "env/dev.kdl",
            "env/prod.kdl",
        ] {
            assert!(dir.join(file).is_file(), "{starter}: {file}");
        }
        assert!(std::fs::read_to_string(dir.join("stacks.kdl"))
            .unwrap()
            .contains("project \"acme-api\""));
        assert!(dir.join("golden/dev").is_dir() && dir.join("golden/prod").is_dir());
        let (code, stdout, stderr) = envc(&dir, &["check"]);
        assert_eq!(code, 0, "{starter}: {stdout}{stderr}");
        // A second init changes nothing.
        let before = support::files_under(&dir);
        let (code, _, stderr) = envc(&dir, &["init", "--starter", starter]);
        assert_eq!(code, 2);
        assert!(stderr.contains("already has a `stacks.kdl`"), "{stderr}");
        assert_eq!(support::files_under(&dir), before);
    }
}

#[test]
fn new_kind_scaffolds_a_kind_a_project_can_use_at_once() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("acme");
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(envc(&dir, &["init", "--starter", "wallet-service"]).0, 0);
    let (code, stdout, stderr) = envc(&dir, &["new-kind", "audit-queue"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(dir.join("kinds/audit-queue.schema.json").is_file());
    let stacks = std::fs::read_to_string(dir.join("stacks.kdl")).unwrap();
    std::fs::write(
        dir.join("stacks.kdl"),
        stacks + "stack \"audit\" kind=\"audit-queue\"\n",
    )
    .unwrap();
    let base = std::fs::read_to_string(dir.join("env/base.kdl")).unwrap();
    std::fs::write(
        dir.join("env/base.kdl"),
        base + "audit {\n    retention-days 7\n}\n",
    )
    .unwrap();
    for args in [&["schema"][..], &["render", "--write"]] {
        let (code, stdout, stderr) = envc(&dir, args);
        assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
    }
    let (code, stdout, stderr) = envc(&dir, &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let golden = std::fs::read_to_string(dir.join("golden/dev/audit.yaml")).unwrap();
    assert!(
        golden.contains("MessageRetentionPeriod: 604800"),
        "{golden}"
    );
    // The name is taken now.
    assert_eq!(envc(&dir, &["new-kind", "audit-queue"]).0, 2);
    // A name environments use already would make a settings block no environment can have.
    for taken in ["tags", "extends", "queue"] {
        let (code, _, stderr) = envc(&dir, &["new-kind", taken]);
        assert_eq!(code, 2, "{taken}: {stderr}");
        assert!(
            stderr.contains("a name every environment has already"),
            "{stderr}"
        );
        assert!(!dir.join(format!("kinds/{taken}.yaml.j2")).exists());
    }
}

#[test]
fn explain_shows_where_a_project_kinds_setting_comes_from() {
    let example = root().join("examples/kinds");
    let (code, stdout, stderr) = envc(&example, &["explain", "prod", "cache.node-type"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("set by   prod"), "{stdout}");
    assert!(stdout.contains("env/prod.kdl:"), "{stdout}");
    assert!(stdout.contains("overrode base"), "{stdout}");
    assert!(stdout.contains("\"cache.t4g.micro\""), "{stdout}");
    let (code, stdout, _) = envc(&example, &["explain", "staging", "cache.node-type"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("(inherited by staging)"), "{stdout}");
    // A setting the environment leaves to the kind's default: where the schema gives it.
    let (code, stdout, stderr) = envc(&example, &["explain", "dev", "cache.snapshot-days"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("set by   kind redis   at kinds/redis.schema.json:"),
        "{stdout}"
    );
}

/// A reference sees a project kind's default as it sees a value written in a file, and a
/// template sees an optional setting without a default as none, and every block in `config`.
#[test]
fn references_and_templates_see_a_project_kinds_defaults() {
    let copy = tempfile::tempdir().unwrap();
    support::copy_project(&root().join("examples/kinds"), copy.path());
    let dev = copy.path().join("env/dev.kdl");
    let text = std::fs::read_to_string(&dev).unwrap()
        + "nightly-report {\n    environment {\n        SNAPSHOT_DAYS \"${cache.snapshot-days}\"\n    }\n}\n";
    std::fs::write(&dev, text).unwrap();
    let (code, stdout, stderr) = envc(
        copy.path(),
        &["explain", "dev", "nightly-report.environment.SNAPSHOT_DAYS"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("= \"1\""), "{stdout}");
    // An optional `notes` without a default, left unset: none, not undefined (which a
    // template in strict mode cannot test).
    let schema = copy.path().join("kinds/redis.schema.json");
    let text = std::fs::read_to_string(&schema).unwrap().replace(
        "\"properties\": {",
        "\"properties\": {\n    \"notes\": { \"type\": \"string\" },",
    );
    std::fs::write(&schema, text).unwrap();
    let kind = copy.path().join("kinds/redis.yaml.j2");
    let template = std::fs::read_to_string(&kind).unwrap().replace(
        "Resources:\n",
        "Resources:\n{% if settings.notes is not none or config['nightly-report'].memory != 512 %}{{ fail('notes', 'unexpected') }}{% endif %}\n",
    );
    std::fs::write(&kind, template).unwrap();
    let (code, _, stderr) = envc(copy.path(), &["render", "dev"]);
    assert_eq!(code, 0, "{stderr}");
}

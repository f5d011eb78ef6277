//! The validation, render and rules caches (`.envc/cache/`): a cached run says exactly what a
//! fresh one says, any change to what a render reads is seen, and a damaged cache is only a
//! miss.

use crate::support;

use std::path::Path;

use support::{copy_project, envc, envc_command, files_under, root, run};

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    dir
}

fn cache_files(dir: &Path) -> Vec<String> {
    files_under(&dir.join(".envc"))
        .into_keys()
        .map(|p| p.display().to_string())
        .collect()
}

/// Replaces `from` (which must be there) with `to` in a file of the project.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let edited = text.replace(from, to);
    assert_ne!(edited, text, "`{from}` is not in {}", path.display());
    std::fs::write(path, edited).unwrap();
}

fn uncached(dir: &Path, args: &[&str]) -> support::Run {
    let mut command = envc_command(dir, args);
    command.env("ENVC_NO_CACHE", "1");
    run(command)
}

#[test]
fn a_cached_check_says_what_a_fresh_one_says() {
    let dir = project();
    let first = envc(dir.path(), &["check"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let files = cache_files(dir.path());
    assert!(
        files.iter().any(|f| f.starts_with("cache/render/")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.starts_with("cache/validate/")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.starts_with("cache/rules/")),
        "{files:?}"
    );
    assert!(files.contains(&".gitignore".to_string()), "{files:?}");
    let second = envc(dir.path(), &["check"]);
    assert_eq!((second.code, second.all()), (first.code, first.all()));
    let rendered = envc(dir.path(), &["render", "staging2", "--stack", "api"]);
    let fresh = uncached(dir.path(), &["render", "staging2", "--stack", "api"]);
    assert_eq!(rendered.stdout, fresh.stdout);
    assert!(!fresh.stdout.is_empty());
}

#[test]
fn no_cache_reads_and_writes_nothing() {
    let dir = project();
    let run = envc(dir.path(), &["--no-cache", "check"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!dir.path().join(".envc").exists());
}

#[test]
fn a_changed_value_or_template_is_rendered_again() {
    let dir = project();
    assert_eq!(envc(dir.path(), &["check"]).code, 0);

    let staging = dir.path().join("env/staging.kdl");
    let text = std::fs::read_to_string(&staging).unwrap();
    std::fs::write(&staging, format!("{text}\nqueue \"extra\"\n")).unwrap();
    let changed = envc(dir.path(), &["check"]);
    assert_eq!(changed.code, 1, "{}", changed.all());
    assert!(
        changed
            .all()
            .contains("golden/staging/queues.yaml` is stale"),
        "{}",
        changed.all()
    );
    assert_eq!(changed.all(), uncached(dir.path(), &["check"]).all());
    std::fs::write(&staging, text).unwrap();
    assert_eq!(envc(dir.path(), &["check"]).code, 0);

    // A project template that overrides the built-in, changed.
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::copy(
        root().join("builtin/registry.yaml.j2"),
        dir.path().join("templates/registry.yaml.j2"),
    )
    .unwrap();
    edit(
        &dir.path().join("templates/registry.yaml.j2"),
        "ScanOnPush: {{",
        "ScanOnPush: {{ \"false\" if true else ",
    );
    let changed = envc(dir.path(), &["check"]);
    assert_eq!(changed.code, 1, "{}", changed.all());
    assert!(
        changed.all().contains("registry.yaml` is stale"),
        "{}",
        changed.all()
    );
}

#[test]
fn a_problem_between_cached_and_fresh_stacks_points_into_fresh_renders() {
    let dir = project();
    assert_eq!(envc(dir.path(), &["check"]).code, 0);
    // Only the database stack's own context changes; its imports of `network` now dangle.
    let stacks = dir.path().join("stacks.kdl");
    edit(
        &stacks,
        "stack \"database\" kind=\"database\" {\n    needs \"network\"\n}",
        "stack \"database\" kind=\"database\"",
    );
    let cached = envc(dir.path(), &["check", "--format", "json"]);
    let fresh = uncached(dir.path(), &["check", "--format", "json"]);
    assert_eq!(cached.code, 1, "{}", cached.all());
    assert!(
        cached.stdout.contains("does not need it"),
        "{}",
        cached.stdout
    );
    assert_eq!(cached.stdout, fresh.stdout);
}

#[test]
fn a_damaged_cache_is_a_miss() {
    let dir = project();
    assert_eq!(envc(dir.path(), &["check"]).code, 0);
    for file in cache_files(dir.path()) {
        if file.starts_with("cache/") {
            std::fs::write(dir.path().join(".envc").join(file), "{ not json").unwrap();
        }
    }
    let run = envc(dir.path(), &["check"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.all(), uncached(dir.path(), &["check"]).all());
}

#[test]
fn a_value_the_schema_rejects_is_caught_after_a_cached_run() {
    let dir = project();
    assert_eq!(envc(dir.path(), &["check"]).code, 0);
    let files = cache_files(dir.path());
    assert!(
        files.iter().any(|f| f.starts_with("cache/validate/")),
        "{files:?}"
    );
    let staging = dir.path().join("env/staging.kdl");
    edit(&staging, "storage-gb 50", "storage-gb \"lots\"");
    let cached = envc(dir.path(), &["check"]);
    assert_eq!(cached.code, 1, "{}", cached.all());
    assert!(cached.all().contains("envc::schema::"), "{}", cached.all());
    assert_eq!(cached.all(), uncached(dir.path(), &["check"]).all());
}

/// Two environments of one account and region, each naming its ECR repository `name`.
fn registry_project(dir: &Path, dev: &str, prod: &str) {
    let stacks = "project \"wallet\"\nregion \"us-east-1\"\nstack \"registry\" kind=\"registry\"\ngolden #false\n";
    std::fs::write(dir.join("stacks.kdl"), stacks).unwrap();
    std::fs::create_dir_all(dir.join("env")).unwrap();
    for (env, cidr, name) in [("dev", "10.0.0.0/16", dev), ("prod", "10.1.0.0/16", prod)] {
        let text = format!(
            "account \"123456789012\"\nnetwork {{\n    cidr \"{cidr}\"\n}}\nregistry {{\n    repository \"{name}\"\n}}\n"
        );
        std::fs::write(dir.join("env").join(format!("{env}.kdl")), text).unwrap();
    }
}

#[test]
fn a_name_two_environments_take_is_found_from_the_rules_cache() {
    let dir = tempfile::tempdir().unwrap();
    registry_project(dir.path(), "wallet-dev", "wallet-prod");
    let clean = envc(dir.path(), &["check"]);
    assert_eq!(clean.code, 0, "{}", clean.all());
    // prod now takes dev's name: dev's facts come from the cache, prod's are read afresh.
    edit(
        &dir.path().join("env/prod.kdl"),
        "wallet-prod",
        "wallet-dev",
    );
    let fresh = uncached(dir.path(), &["check"]);
    assert_eq!(fresh.code, 1, "{}", fresh.all());
    assert!(
        fresh.all().contains("envc::aws::name-taken"),
        "{}",
        fresh.all()
    );
    let half_cached = envc(dir.path(), &["check"]);
    assert_eq!(
        (half_cached.code, half_cached.all()),
        (fresh.code, fresh.all())
    );
    // Both are cached now (neither has a problem of its own): the same finding, placed alike.
    let cached = envc(dir.path(), &["check"]);
    assert_eq!((cached.code, cached.all()), (fresh.code, fresh.all()));
}

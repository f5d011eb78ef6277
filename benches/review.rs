//! Speed of the pull-request view: `envc cost` for every environment of the root example,
//! and the markdown comment of a `base.kdl` change across 1,000 generated environments
//! (golden files read from git at the base, everything rendered again, compared, priced).
//! Run with `cargo bench --bench review`.

#[path = "../crates/envc-core/benches/generate.rs"]
mod generate;

use std::path::Path;
use std::process::{Command, Stdio};

use divan::Bencher;

fn main() {
    divan::main();
}

fn envc(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_envc"));
    command.args(args).current_dir(dir).stdout(Stdio::null());
    command
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=envc", "-c", "user.email=envc@example.com"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

#[divan::bench(sample_count = 20)]
fn cost_root_example_process(bencher: Bencher) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    bencher.bench(|| assert!(envc(root, &["cost"]).status().unwrap().success()));
}

#[divan::bench(sample_count = 3)]
fn markdown_diff_of_a_base_change_across_1000_environments_process(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    generate::write_project_with_golden(dir.path(), 1000);
    std::fs::write(dir.path().join(".gitignore"), ".envc/\n").unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "-q", "-m", "a thousand environments"],
    );
    let base = dir.path().join("env/base.kdl");
    let text = std::fs::read_to_string(&base).unwrap();
    let changed = text.replacen(
        "instance-class \"db.t3.micro\"",
        "instance-class \"db.t3.small\"\n    name \"ledger\"",
        1,
    );
    assert_ne!(text, changed);
    std::fs::write(&base, changed).unwrap();
    bencher.bench(|| {
        let status = envc(
            dir.path(),
            &["diff", "--base", "HEAD", "--format", "markdown"],
        )
        .status()
        .unwrap();
        assert_eq!(status.code(), Some(1), "a change is a difference");
    });
}

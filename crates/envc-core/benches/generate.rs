//! A generator of synthetic envc projects shaped like the root example: N environments with
//! `extends` chains up to five deep under an abstract base, each with all the example's stacks.
// Each benchmark (and the review test) that includes this file uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The sizes (environments) the benchmarks generate projects of.
pub const SIZES: &[usize] = &[10, 100, 1000];

/// The repository's root, the root example, from whichever package's bench includes this file.
pub fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists())
        .expect("the workspace root holds Cargo.lock")
}

/// Writes a project with `envs` environments into `dir` (which must exist).
pub fn write_project(dir: &Path, envs: usize) {
    let root = repository_root();
    std::fs::create_dir_all(dir.join("env")).unwrap();
    std::fs::copy(root.join("stacks.kdl"), dir.join("stacks.kdl")).unwrap();
    // The example's zone is prod's; here the first environment owns it.
    let base = std::fs::read_to_string(root.join("env/base.kdl")).unwrap();
    let base = base.replace("zone-owner \"prod\"", "zone-owner \"e0\"");
    std::fs::write(dir.join("env/base.kdl"), base).unwrap();
    for i in 0..envs {
        let parent = if i % 5 == 0 {
            "base".to_string()
        } else {
            format!("e{}", i - 1)
        };
        // Distinct /20 ranges: 10.0.0.0/20, 10.0.16.0/20, …; 10.0.0.0/8 holds 4,096 of them,
        // so each further 4,096 environments are in an account of their own.
        let cidr = format!("10.{}.{}.0/20", (i % 4096) / 16, (i % 16) * 16);
        let depth = i % 5;
        let mut text = format!("// generated environment {i}, depth {depth}\nextends \"{parent}\"\n\nnetwork {{\n    cidr \"{cidr}\"\n}}\n");
        if i >= 4096 {
            // A zone is imported within its account: the first environment of each owns it.
            let first = i / 4096 * 4096;
            let account = 123_456_789_012u64 + (i / 4096) as u64;
            text.push_str(&format!(
                "\naccount \"{account}\"\n\ndns {{\n    zone-owner \"e{first}\"\n}}\n"
            ));
        }
        match depth {
            1 => text.push_str("\ndatabase {\n    instance-class \"db.t3.small\"\n    storage-gb 50\n}\n"),
            2 => text.push_str("\nservice \"api\" {\n    cpu 512\n    memory 1024\n    scaling min=1 max=3 cpu-target=70\n}\n\nwaf {\n    rate-limit 2000\n}\n"),
            3 => text.push_str("\nservice \"api\" {\n    scaling max=6\n}\n\nmonitoring {\n    budget-usd 300\n}\n"),
            4 => text.push_str("\nqueue \"jobs\" visibility-timeout=600\n\nworker \"jobs\" {\n    scaling max=4\n}\n"),
            _ => {}
        }
        std::fs::write(dir.join("env").join(format!("e{i}.kdl")), text).unwrap();
    }
}

/// Writes the project and its golden files (rendered by envc itself).
pub fn write_project_with_golden(dir: &Path, envs: usize) {
    write_project(dir, envs);
    let checked = envc_core::run(dir, &[], envc_core::Stages::Render);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(
        errors.is_empty(),
        "the generated project has problems: {errors:#?}"
    );
    let names: Vec<String> = checked.rendered.iter().map(|r| r.name.clone()).collect();
    envc_core::golden::write(dir, &checked.rendered, Some(&names)).unwrap();
}

/// A generated project of `envs` environments with its golden files, made once per run of
/// the benchmarks and removed when it ends.
pub fn project(envs: usize) -> PathBuf {
    static DIRS: OnceLock<Mutex<Vec<(usize, tempfile::TempDir)>>> = OnceLock::new();
    let mut dirs = DIRS.get_or_init(Default::default).lock().unwrap();
    if let Some((_, dir)) = dirs.iter().find(|(n, _)| *n == envs) {
        return dir.path().to_path_buf();
    }
    let dir = tempfile::tempdir().unwrap();
    write_project_with_golden(dir.path(), envs);
    let path = dir.path().to_path_buf();
    dirs.push((envs, dir));
    path
}

//! The CLI as a user runs it: a corpus case (`tests/cases/*.case`: `# args:` and `--- path`
//! sections) becomes a project folder, and `envc ARGS` runs on it in process, masking and
//! printing included. Commands that reach AWS or serve (deploy, run, status, diff --live,
//! lsp) are skipped. It must return an exit code without panicking or hanging.
#![no_main]

use std::path::{Component, Path};

use clap::Parser;
use libfuzzer_sys::fuzz_target;

/// Commands that read or write the project only.
const OFFLINE: &[&str] = &[
    "check", "explain", "render", "diff", "fmt", "docs", "schema", "new-kind",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut args = vec!["check".to_string()];
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(given) = line.strip_prefix("# args:") {
            args = given.split_whitespace().map(String::from).collect();
        } else if let Some(name) = line.strip_prefix("--- ") {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    let offline = args.first().is_some_and(|a| OFFLINE.contains(&a.as_str()));
    if !offline || args.iter().any(|a| a == "--live" || a == "-C" || a.starts_with('/')) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/_default");
    std::fs::create_dir_all(dir.path().join("env")).expect("env dir");
    std::fs::copy(root.join("stacks.kdl"), dir.path().join("stacks.kdl")).expect("stacks.kdl");
    for (name, body) in &files {
        // Only paths inside the project: the fuzzer never writes elsewhere.
        let path = Path::new(name);
        if name.is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_))) {
            return;
        }
        let target = dir.path().join(path);
        if let Some(parent) = target.parent() {
            if std::fs::create_dir_all(parent).is_err() {
                return;
            }
        }
        if std::fs::write(&target, body).is_err() {
            return;
        }
    }
    let mut argv = vec!["envc".to_string(), "--no-cache".to_string(), "-C".to_string()];
    argv.push(dir.path().display().to_string());
    argv.extend(args);
    let Ok(cli) = envc::cli::Cli::try_parse_from(&argv) else { return };
    let code = envc::cli::run(cli);
    assert!((0..=2).contains(&code), "exit code {code} for {argv:?}");
    envc::cli::forget_credentials();
});

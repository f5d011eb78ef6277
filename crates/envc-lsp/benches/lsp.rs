//! Speed of `envc lsp`, in process: an edit of a buffer to its problems, and a hover. Each
//! figure is measured over many edits and printed as min / median / p95 / max, since the
//! goals are about the slow edits too. Run with `cargo bench --bench lsp`.
//!
//! - an edit of a child environment of the root project (`env/staging2.kdl`): every edit
//!   sets a new value, so nothing is served from a cache that an earlier edit filled;
//! - an edit of `env/base.kdl` of a generated project of 1,000 environments (all of them
//!   inherit it);
//! - a hover on a setting of `env/base.kdl` of the root project;
//! - the full check (render and golden files) that follows an edit on its own thread.
//!
//! The server runs on an in-memory connection, as `envc lsp` runs on stdio, without its
//! background thread for the first three (which measure what an editor waits for).

#[path = "../../envc-core/benches/generate.rs"]
mod generate;

use std::path::Path;
use std::time::{Duration, Instant};

use envc_lsp::{position::uri_of, Encoding, Server};

// As the `envc` binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use serde_json::json;

fn main() {
    let root = tempfile::tempdir().unwrap();
    copy_root_project(root.path());
    let generated = tempfile::tempdir().unwrap();
    generate::write_project_with_golden(generated.path(), 1000);

    edit_of_a_child_env(root.path());
    edit_of_base(generated.path());
    hover_on_a_setting(root.path());
    full_check_after_an_edit(root.path());
}

/// An edit of `env/staging2.kdl` of the root project to its problems.
fn edit_of_a_child_env(root: &Path) {
    let child = root.join("env/staging2.kdl");
    let text = std::fs::read_to_string(&child).unwrap();
    report(
        "edit of a child env (root project) to diagnostics",
        300,
        |server, i| {
            server.set_buffer(
                &uri_of(&child),
                Some(format!(
                    "{text}\nmonitoring {{\n    budget-usd {}\n}}\n",
                    100 + i
                )),
            );
        },
        root,
        false,
    );
}

/// An edit of `env/base.kdl` of the generated project (1,000 environments) to its problems.
fn edit_of_base(generated: &Path) {
    let base = generated.join("env/base.kdl");
    let text = std::fs::read_to_string(&base).unwrap();
    report(
        "edit of base.kdl (1,000 environments) to diagnostics",
        30,
        |server, i| {
            let edited = text.replace("backup-days 7", &format!("backup-days {}", 1 + i % 30));
            server.set_buffer(&uri_of(&base), Some(edited));
        },
        generated,
        false,
    );
}

/// A hover on `instance-class` in `env/base.kdl` of the root project.
fn hover_on_a_setting(root: &Path) {
    let base = root.join("env/base.kdl");
    let text = std::fs::read_to_string(&base).unwrap();
    let line = text[..text.find("instance-class").unwrap()]
        .matches('\n')
        .count();
    let params = json!({
        "textDocument": { "uri": uri_of(&base) },
        "position": { "line": line, "character": 8 },
    });
    report(
        "hover on a setting (root project, 5 environments)",
        2000,
        |server, _| {
            let answer = server
                .handle_json("textDocument/hover", params.clone())
                .unwrap();
            assert!(answer["contents"]["value"]
                .as_str()
                .unwrap()
                .contains("(here)"));
        },
        root,
        false,
    );
}

/// The full check (render and golden files) of the root project with an edited child.
fn full_check_after_an_edit(root: &Path) {
    let child = root.join("env/staging2.kdl");
    report(
        "full check after an edit of a child env (render + golden)",
        30,
        |_, i| {
            let mut overlay = envc_core::parse::Overlay::new();
            let edited = format!(
                "{}\nmonitoring {{\n    budget-usd {}\n}}\n",
                std::fs::read_to_string(&child).unwrap(),
                500 + i
            );
            overlay.insert("env/staging2.kdl".into(), edited);
            let checked = envc_core::run_with(root, &overlay, &[], envc_core::Stages::Check, true);
            assert!(!checked.diagnostics.is_empty());
        },
        root,
        false,
    );
}

/// Times `runs` calls of `step` on a server of `project` (after a few untimed ones) and
/// prints the spread.
fn report(
    what: &str,
    runs: usize,
    mut step: impl FnMut(&mut Server, usize),
    project: &Path,
    background: bool,
) {
    // `cargo bench --bench lsp -- WORD` runs only the figures whose name holds WORD.
    if let Some(word) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        if !what.contains(&word) {
            return;
        }
    }
    let (server_side, client) = lsp_server::Connection::memory();
    let mut server = Server::new(
        server_side,
        project.to_path_buf(),
        Encoding::Utf16,
        background,
    );
    let drain = std::thread::spawn(move || while client.receiver.recv().is_ok() {});
    for i in 0..3 {
        step(&mut server, runs + i);
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|i| {
            let start = Instant::now();
            step(&mut server, i);
            start.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<60} min {:>9.3?}  median {:>9.3?}  p95 {:>9.3?}  max {:>9.3?}  ({runs} runs)",
        times[0],
        at(0.5),
        at(0.95),
        times[times.len() - 1]
    );
    drop(server);
    let _ = drain.join();
}

fn copy_root_project(to: &Path) {
    let root = generate::repository_root();
    for dir in ["env", "golden", "schema", "docs"] {
        copy_dir(&root.join(dir), &to.join(dir));
    }
    std::fs::copy(root.join("stacks.kdl"), to.join("stacks.kdl")).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

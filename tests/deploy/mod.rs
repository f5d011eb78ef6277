//! Deploys the scenario files (tests/scenarios/) cannot express, against a real local
//! emulator: moto on a free port of 127.0.0.1, and a fault-injecting proxy in front of it.

mod connection;
mod daily;
mod drift;

use crate::support;
use support::{copy_project, root, Moto};

const LOCAL_STACKS: usize = 13;

fn local_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    dir
}

/// A copy of the root project, and a moto seeded with what `local` expects.
fn local_on_moto() -> (tempfile::TempDir, Moto) {
    let moto = Moto::start();
    moto.seed_local();
    (local_project(), moto)
}

/// staging's `jobs` queue at 600 s instead of 300, rendered: a change to the queues stack
/// alone.
fn lengthen_jobs_visibility(dir: &std::path::Path) {
    let staging = dir.join("env/staging.kdl");
    let text =
        std::fs::read_to_string(&staging).unwrap() + "queue \"jobs\" visibility-timeout=600\n";
    std::fs::write(&staging, text).unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
}

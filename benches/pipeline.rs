//! Speed of the `envc check` process, on the root example and on generated projects of 10,
//! 100 and 1,000 environments, fresh (`ENVC_NO_CACHE=1`) and with the validation and render
//! caches warm. Run with `cargo bench --bench pipeline`; each stage in process is
//! `cargo bench -p envc-core --bench stages`.

#[path = "../crates/envc-core/benches/generate.rs"]
mod generate;

use generate::{project, SIZES};

use std::path::Path;

use divan::Bencher;

/// `ENVC_GENERATE="<envs> <dir>" cargo bench --bench pipeline` writes a generated project
/// (with its golden files) into `<dir>` and exits, for timing the `envc` binary on it.
fn main() {
    if let Ok(spec) = std::env::var("ENVC_GENERATE") {
        let (envs, dir) = spec
            .split_once(' ')
            .expect("ENVC_GENERATE is \"<envs> <dir>\"");
        let envs: usize = envs.parse().expect("ENVC_GENERATE starts with a number");
        std::fs::create_dir_all(dir).unwrap();
        generate::write_project_with_golden(Path::new(dir), envs);
        return;
    }
    divan::main();
}

fn envc_process(dir: &Path, cached: bool) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_envc"));
    command
        .arg("check")
        .current_dir(dir)
        .stdout(std::process::Stdio::null());
    if cached {
        command.env_remove("ENVC_NO_CACHE");
    } else {
        command.env("ENVC_NO_CACHE", "1");
    }
    command
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The whole `envc check` of the root example, as a user runs it: a new process, with the
/// caches warm (as in an editor or CI re-run).
#[divan::bench(sample_count = 30)]
fn check_root_example_process(bencher: Bencher) {
    bench_process(bencher, root(), true);
}

/// The same with nothing cached: every document validated and every stack rendered.
#[divan::bench(sample_count = 30)]
fn check_root_example_process_no_cache(bencher: Bencher) {
    bench_process(bencher, root(), false);
}

/// `envc check` of a generated project, a new process, fresh and with the caches warm.
#[divan::bench(args = SIZES, sample_count = 5)]
fn check_generated_process_no_cache(bencher: Bencher, envs: usize) {
    bench_process(bencher, &project(envs), false);
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn check_generated_process(bencher: Bencher, envs: usize) {
    bench_process(bencher, &project(envs), true);
}

/// Times `envc check` in `dir` as a new process; with the caches, warmed by one run first.
fn bench_process(bencher: Bencher, dir: &Path, cached: bool) {
    if cached {
        assert!(envc_process(dir, true).status().unwrap().success());
    }
    bencher.bench(|| {
        let status = envc_process(dir, cached).status().unwrap();
        assert!(status.success());
    });
}

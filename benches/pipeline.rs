//! Speed of `envc check` and of each stage, on the root example and on generated projects
//! of 10, 100 and 1,000 environments, fresh (`ENVC_NO_CACHE=1`) and with the validation
//! and render caches warm. Run with `cargo bench`.

#[path = "generate.rs"]
mod generate;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
    // In-process benchmarks measure fresh work unless they say otherwise (`*_cached`).
    std::env::set_var("ENVC_NO_CACHE", "1");
    divan::main();
}

/// Runs `f` with the caches on (divan runs one benchmark at a time).
fn with_cache<T>(f: impl FnOnce() -> T) -> T {
    std::env::remove_var("ENVC_NO_CACHE");
    let out = f();
    std::env::set_var("ENVC_NO_CACHE", "1");
    out
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

const SIZES: &[usize] = &[10, 100, 1000];

/// Generated projects, one per size, made once per run.
fn project(envs: usize) -> PathBuf {
    static DIRS: OnceLock<std::sync::Mutex<Vec<(usize, tempfile::TempDir)>>> = OnceLock::new();
    let dirs = DIRS.get_or_init(Default::default);
    let mut dirs = dirs.lock().unwrap();
    if let Some((_, dir)) = dirs.iter().find(|(n, _)| *n == envs) {
        return dir.path().to_path_buf();
    }
    let dir = tempfile::tempdir().unwrap();
    generate::write_project_with_golden(dir.path(), envs);
    let path = dir.path().to_path_buf();
    dirs.push((envs, dir));
    path
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

/// Everything `envc check` does, in process: parse, resolve, validate, render, golden compare.
#[divan::bench(args = SIZES, sample_count = 5)]
fn check(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    bencher.bench(|| {
        let checked = envc::check(&dir, &[]);
        assert_eq!(checked.exit_code(), 0);
    });
}

/// In process, with the caches warm.
#[divan::bench(args = SIZES, sample_count = 5)]
fn check_cached(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    with_cache(|| {
        envc::check(&dir, &[]);
        bencher.bench(|| {
            let checked = envc::check(&dir, &[]);
            assert_eq!(checked.exit_code(), 0);
        });
    });
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn parse(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    bencher.bench(|| {
        let mut sources = envc::source::SourceMap::default();
        envc::parse::load_project(&dir, &mut sources)
    });
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn resolve(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    let mut sources = envc::source::SourceMap::default();
    let (parsed, _) = envc::parse::load_project(&dir, &mut sources);
    let shapes = envc::resolve::Shapes::from_model();
    bencher.bench(|| envc::resolve::resolve_project(&parsed, &sources, &shapes));
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn validate(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    let mut sources = envc::source::SourceMap::default();
    let (parsed, _) = envc::parse::load_project(&dir, &mut sources);
    let (resolved, _) =
        envc::resolve::resolve_project(&parsed, &sources, &envc::resolve::Shapes::from_model());
    let schemas = envc::validate::Schemas::compile();
    bencher.bench(|| envc::validate::validate_project(&resolved, &schemas, None, &[]));
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn render(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    let checked = envc::run(&dir, &[], envc::Stages::Validate);
    let renderer = envc::render::Renderer::new(&dir).unwrap();
    bencher.bench(|| {
        let mut sources = envc::source::SourceMap::default();
        let mut found = Vec::new();
        let rendered = envc::render::render_project(
            &renderer,
            &checked.validated,
            None,
            &[],
            &mut sources,
            &mut found,
        );
        assert!(found.is_empty());
        rendered
    });
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn golden_compare(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    let checked = envc::run(&dir, &[], envc::Stages::Render);
    bencher.bench(|| {
        let mut sources = envc::source::SourceMap::default();
        let found = envc::golden::compare(
            &dir,
            &checked.rendered,
            envc::golden::GoldenUse::Committed {
                built_in_kinds: true,
            },
            &mut sources,
        );
        assert!(found.is_empty());
    });
}

/// Every golden file of the root example, read by envc's YAML reader and by serde_yaml_ng.
fn golden_texts() -> Vec<String> {
    let mut texts = Vec::new();
    for env in std::fs::read_dir(root().join("golden")).unwrap() {
        for file in std::fs::read_dir(env.unwrap().path()).unwrap() {
            texts.push(std::fs::read_to_string(file.unwrap().path()).unwrap());
        }
    }
    texts
}

#[divan::bench(sample_count = 20)]
fn yaml_read_envc(bencher: Bencher) {
    let texts = golden_texts();
    bencher.bench(|| {
        for text in &texts {
            divan::black_box(envc::render::yaml::parse(text).unwrap());
        }
    });
}

#[divan::bench(sample_count = 20)]
fn yaml_read_serde_yaml_ng(bencher: Bencher) {
    let texts = golden_texts();
    bencher.bench(|| {
        for text in &texts {
            divan::black_box(serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).unwrap());
        }
    });
}

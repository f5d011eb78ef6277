//! Speed of each stage of `envc check` in process (parse, resolve, validate, render, golden
//! compare, and the whole check), on generated projects of 10, 100 and 1,000 environments,
//! fresh (`ENVC_NO_CACHE=1`) and with the caches warm. Run with
//! `cargo bench -p envc-core --bench stages`; it builds without the AWS SDK.

#[path = "generate.rs"]
mod generate;

use generate::{project, SIZES};

use std::path::Path;

use divan::Bencher;

fn main() {
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

fn root() -> &'static Path {
    generate::repository_root()
}

/// Everything `envc check` does, in process: parse, resolve, validate, render, golden compare.
#[divan::bench(args = SIZES, sample_count = 5)]
fn check(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    bencher.bench(|| {
        let checked = envc_core::check(&dir, &[]);
        assert_eq!(checked.exit_code(), 0);
    });
}

/// In process, with the caches warm.
#[divan::bench(args = SIZES, sample_count = 5)]
fn check_cached(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    with_cache(|| {
        envc_core::check(&dir, &[]);
        bencher.bench(|| {
            let checked = envc_core::check(&dir, &[]);
            assert_eq!(checked.exit_code(), 0);
        });
    });
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn parse(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    bencher.bench(|| {
        let mut sources = envc_core::source::SourceMap::default();
        envc_core::parse::load_project(&dir, &mut sources)
    });
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn resolve(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    let mut sources = envc_core::source::SourceMap::default();
    let (parsed, _) = envc_core::parse::load_project(&dir, &mut sources);
    let shapes = envc_core::resolve::Shapes::from_model();
    bencher.bench(|| envc_core::resolve::resolve_project(&parsed, &sources, &shapes));
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn validate(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    let mut sources = envc_core::source::SourceMap::default();
    let (parsed, _) = envc_core::parse::load_project(&dir, &mut sources);
    let (resolved, _) = envc_core::resolve::resolve_project(
        &parsed,
        &sources,
        &envc_core::resolve::Shapes::from_model(),
    );
    let schemas = envc_core::validate::Schemas::compile();
    bencher.bench(|| envc_core::validate::validate_project(&resolved, &schemas, None, &[]));
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn render(bencher: Bencher, envs: usize) {
    let dir = project(envs);
    let checked = envc_core::run(&dir, &[], envc_core::Stages::Validate);
    let renderer = envc_core::render::Renderer::new(&dir).unwrap();
    bencher.bench(|| {
        let mut sources = envc_core::source::SourceMap::default();
        let mut found = Vec::new();
        let rendered = envc_core::render::render_project(
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
    let checked = envc_core::run(&dir, &[], envc_core::Stages::Render);
    bencher.bench(|| {
        let mut sources = envc_core::source::SourceMap::default();
        let found = envc_core::golden::compare(
            &dir,
            &checked.rendered,
            envc_core::golden::GoldenUse::Committed {
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
            divan::black_box(envc_core::render::yaml::parse(text).unwrap());
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

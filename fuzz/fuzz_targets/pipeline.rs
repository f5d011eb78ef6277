//! Arbitrary bytes as an environment file, through parse → resolve → validate → render.
//! The seed corpus is the example's files (`fuzz/seeds`); libFuzzer mutates them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Each input is a new project: the caches would only add writes to every run.
    std::env::set_var("ENVC_NO_CACHE", "1");
    let Ok(text) = std::str::from_utf8(data) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::create_dir_all(dir.path().join("env")).expect("env dir");
    std::fs::copy(root.join("stacks.kdl"), dir.path().join("stacks.kdl")).expect("stacks.kdl");
    std::fs::copy(root.join("env/base.kdl"), dir.path().join("env/base.kdl")).expect("base.kdl");
    std::fs::write(dir.path().join("env/fuzz.kdl"), text).expect("fuzz.kdl");
    let checked = envc_core::run(dir.path(), &[], envc_core::Stages::Render);
    for diagnostic in &checked.diagnostics {
        for label in diagnostic.primary.iter().chain(&diagnostic.secondary) {
            let file = &checked.sources.file(label.span.file).text;
            assert!(label.span.start <= label.span.end && label.span.end <= file.len());
        }
    }
    let errors = checked.diagnostics.iter().any(|d| d.is_error());
    assert_eq!(checked.exit_code(), i32::from(errors));
});

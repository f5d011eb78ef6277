//! The crates stay the stages' boundaries: the core (parse to golden files) builds with no
//! async runtime and no AWS SDK, and the language server with no AWS SDK, so their tests,
//! benchmarks and fuzz targets never compile the SDK.

/// Every package `package` builds with (its normal, build and dev dependencies), by name.
fn dependencies_of(package: &str) -> Vec<String> {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let output = std::process::Command::new(cargo)
        .args(["tree", "--offline", "--locked", "-p", package])
        .args([
            "-e",
            "normal,build,dev",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    let names: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(names.iter().any(|name| name == package), "{tree}");
    names
}

fn offending<'a>(names: &'a [String], refused: &[&str]) -> Vec<&'a str> {
    let mut found: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| refused.iter().any(|prefix| name.starts_with(prefix)))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_core_builds_without_an_async_runtime_or_the_aws_sdk() {
    let names = dependencies_of("envc-core");
    assert!(names.iter().any(|name| name == "minijinja"), "{names:?}");
    assert_eq!(
        offending(&names, &["tokio", "aws-", "hyper", "envc-deploy"]),
        Vec::<&str>::new()
    );
}

#[test]
fn the_language_server_builds_without_an_async_runtime_or_the_aws_sdk() {
    let names = dependencies_of("envc-lsp");
    assert!(names.iter().any(|name| name == "envc-core"), "{names:?}");
    assert_eq!(
        offending(&names, &["tokio", "aws-", "hyper", "envc-deploy"]),
        Vec::<&str>::new()
    );
}

#[test]
fn the_deploy_stage_is_where_the_aws_sdk_is() {
    // The check above is worth something only if the names it looks for are the SDK's.
    let names = dependencies_of("envc-deploy");
    let found = offending(&names, &["tokio", "aws-sdk-cloudformation"]);
    assert!(found.contains(&"tokio"), "{found:?}");
    assert!(found.contains(&"aws-sdk-cloudformation"), "{found:?}");
}

//! `envc secret`: the configuration secret filled key by key on moto, values never shown,
//! and keys containers read but the secret lacks found before a deploy starts their tasks.

use std::io::Write;
use std::process::Stdio;

use crate::support;
use support::{envc_at, envc_command, Moto};

use super::*;

const VALUE: &str = "postgres://app:Zq8-not-shown-7Kp@db.internal:5432/app";

/// `envc secret set` with `value` on its standard input.
fn set_from_stdin(
    dir: &std::path::Path,
    moto: &Moto,
    key: Option<&str>,
    value: &str,
) -> support::Run {
    let mut args = vec!["secret", "set", "local"];
    args.extend(key);
    args.push("--stdin");
    let mut command = envc_command(dir, &args);
    command
        .env("AWS_ENDPOINT_URL", moto.url())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{value}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    support::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn stored(moto: &Moto) -> serde_json::Value {
    let text = moto.python(
        "sm = boto3.client('secretsmanager', **kw)\nprint(sm.get_secret_value(SecretId='balancer-local-config')['SecretString'])",
    );
    serde_json::from_str(text.trim()).unwrap()
}

#[test]
fn a_key_is_set_from_stdin_merged_listed_and_never_shown() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let url = moto.url();
    let config = envc_at(
        dir,
        &url,
        &["deploy", "local", "--yes", "--stack", "config"],
    );
    assert_eq!(config.code, 0, "{}", config.all());
    // The api reads DATABASE_URL from the configuration secret.
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap()
        + "\nservice \"api\" {\n    secret \"DATABASE_URL\" from=\"${config-secret}\" key=\"DATABASE_URL\"\n}\n";
    std::fs::write(&local, text).unwrap();

    let before = envc_at(dir, &url, &["secret", "list", "local"]);
    assert_eq!(before.code, 1, "{}", before.all());
    assert!(
        before.stdout.contains("balancer-local-config (0 keys):"),
        "{}",
        before.stdout
    );
    assert!(
        before
            .stdout
            .contains("  DATABASE_URL  MISSING: read by api, migration;"),
        "{}",
        before.stdout
    );

    let status = envc_at(dir, &url, &["status", "local"]);
    assert!(
        status
            .stdout
            .contains("balancer-local-config lacks DATABASE_URL, which containers read"),
        "{}",
        status.all()
    );
    assert_eq!(status.code, 1, "{}", status.all());

    let set = set_from_stdin(dir, &moto, Some("DATABASE_URL"), VALUE);
    assert_eq!(set.code, 0, "{}", set.all());
    assert!(
        set.stdout
            .contains("set DATABASE_URL in `balancer-local-config` (1 key in all)"),
        "{}",
        set.stdout
    );
    assert_eq!(stored(&moto)["DATABASE_URL"], VALUE);

    // A second key from a file keeps the first.
    std::fs::write(dir.join("token.txt"), "tok-123\n").unwrap();
    let file = envc_at(
        dir,
        &url,
        &[
            "secret",
            "set",
            "local",
            "API_TOKEN",
            "--from-file",
            "token.txt",
        ],
    );
    assert_eq!(file.code, 0, "{}", file.all());
    let keys = stored(&moto);
    assert_eq!(
        (keys["DATABASE_URL"].as_str(), keys["API_TOKEN"].as_str()),
        (Some(VALUE), Some("tok-123"))
    );

    let after = envc_at(dir, &url, &["secret", "list", "local"]);
    assert_eq!(after.code, 0, "{}", after.all());
    assert!(
        after
            .stdout
            .contains("  DATABASE_URL  (read by api, migration)"),
        "{}",
        after.stdout
    );
    assert!(after.stdout.contains("  API_TOKEN\n"), "{}", after.stdout);
    let json = envc_at(dir, &url, &["secret", "list", "local", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.all());

    // Without a KEY the input must be a JSON object; a value is never an argument.
    let refused = set_from_stdin(dir, &moto, None, "not json");
    assert_eq!(refused.code, 1, "{}", refused.all());
    let empty = set_from_stdin(dir, &moto, Some(""), "x");
    assert_eq!(empty.code, 2, "{}", empty.all());
    let argument = envc_at(
        dir,
        &url,
        &["secret", "set", "local", "DATABASE_URL", VALUE],
    );
    assert_eq!(argument.code, 2, "{}", argument.all());
    for run in [&before, &set, &file, &after, &json, &refused] {
        assert!(
            !run.all().contains(VALUE) && !run.all().contains("tok-123"),
            "{}",
            run.all()
        );
    }
}

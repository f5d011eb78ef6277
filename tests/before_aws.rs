//! Values AWS would refuse are refused before any client is built: a `--region` that is no
//! AWS region or one of another partition than the environment's, on every command that asks
//! AWS. The recording proxy in front of moto sees no request, and envc exits 2.

use crate::support;

use support::proxy::Proxy;
use support::{envc_at, root, Moto};

#[test]
fn a_region_aws_would_refuse_is_refused_before_any_request() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port, Vec::new());
    let refused: [(&[&str], &str); 6] = [
        (
            &["deploy", "local", "--yes", "--region", "us-east1"],
            "did you mean `us-east-1`?",
        ),
        (
            &["diff", "local", "--live", "--region", "eu-west-9"],
            "`eu-west-9` is not an AWS region",
        ),
        (
            &["status", "local", "--region", "cn-north-1"],
            "`--region cn-north-1` is in partition `aws-cn`, but `local` is in `aws` (us-east-1)",
        ),
        (
            &["destroy", "local", "--yes", "--region", "us-gov-west-1"],
            "in partition `aws-us-gov`",
        ),
        (
            &["run", "migration", "local", "--region", "us-east-1a"],
            "did you mean `us-east-1`?",
        ),
        (&["run", "migratoin", "local"], "did you mean `migration`?"),
    ];
    for (args, shown) in refused {
        let run = envc_at(root(), &proxy.url(), args);
        assert_eq!(run.code, 2, "{args:?}:\n{}", run.all());
        assert!(
            run.stderr.contains(shown),
            "{args:?}: {shown:?}\n{}",
            run.stderr
        );
        let seen = proxy.seen.lock().unwrap().clone();
        assert!(seen.is_empty(), "{args:?} reached AWS: {seen:?}");
    }
    // The environment's region is shown where it is set, beside the `--region` refused.
    let other = envc_at(
        root(),
        &proxy.url(),
        &["status", "local", "--region", "cn-north-1"],
    );
    assert!(
        other.stderr.contains("─[stacks.kdl:3:8]")
            && other
                .stderr
                .contains("`local`'s region, without `--region`"),
        "{}",
        other.stderr
    );
    assert!(proxy.seen.lock().unwrap().is_empty());
    // The proxy does see what is sent: a region of the environment's partition is asked.
    let status = envc_at(
        root(),
        &proxy.url(),
        &["status", "local", "--region", "eu-west-1"],
    );
    assert!(
        proxy.requests("DescribeStacks") > 0,
        "{:?}\n{}",
        proxy.seen.lock().unwrap(),
        status.all()
    );
}

/// An `--image-tag` holding terminal escape sequences is refused before AWS is asked, and the
/// refusal shows the sequences written out: none reaches the terminal to run.
#[test]
fn escape_sequences_in_an_argument_are_shown_not_run() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port, Vec::new());
    let tag = "v1\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}\u{202e}";
    let run = envc_at(
        root(),
        &proxy.url(),
        &["deploy", "local", "--yes", "--image-tag", tag],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("`v1\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}\\u{202e}` is not an image tag"),
        "{}",
        run.stderr
    );
    let raw = |c: char| run.all().contains(c);
    assert!(!raw('\u{1b}') && !raw('\u{7}') && !raw('\u{9b}') && !raw('\u{202e}'));
    assert!(proxy.seen.lock().unwrap().is_empty());
}

/// Each `deploy-role` the corpus refuses (`tests/cases/deploy-role-*.case`) is refused by
/// `deploy` too, before any request: the recording proxy sees none.
#[test]
fn every_refused_deploy_role_stops_deploy_before_any_request() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port, Vec::new());
    let mut roles = Vec::new();
    for entry in std::fs::read_dir(root().join("tests/cases")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("deploy-role-") && name.ends_with(".case") {
            let text = std::fs::read_to_string(&path).unwrap();
            let line = text
                .lines()
                .find(|l| l.starts_with("deploy-role "))
                .unwrap();
            roles.push((name, line.to_string()));
        }
    }
    assert!(roles.len() >= 8, "{roles:?}");
    for (case, line) in roles {
        let project = tempfile::tempdir().unwrap();
        support::copy_project(root(), project.path());
        let local = project.path().join("env/local.kdl");
        let text = std::fs::read_to_string(&local).unwrap();
        std::fs::write(&local, format!("{text}\n{line}\n")).unwrap();
        let run = envc_at(project.path(), &proxy.url(), &["deploy", "local", "--yes"]);
        // A problem in a project file, as `check` reports it: 1 (2 is for arguments).
        assert_eq!(run.code, 1, "{case}: {}", run.all());
        assert!(run.stderr.contains("deploy-role"), "{case}: {}", run.stderr);
        let seen = proxy.seen.lock().unwrap().clone();
        assert!(seen.is_empty(), "{case} reached AWS: {seen:?}");
    }
}

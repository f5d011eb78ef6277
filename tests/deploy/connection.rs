//! How envc reaches AWS: over TLS checked against the trusted roots, large templates through
//! the artifact bucket, and credentials that never show, even when AWS refuses them.

use crate::support;
use support::proxy::{aws_error, Fault, Proxy, Rule};
use support::{envc_at, root, Moto};

use super::*;

#[test]
fn aws_is_asked_over_tls_checked_against_the_trusted_roots() {
    let moto = Moto::start();
    let certs = tempfile::tempdir().unwrap();
    let cert = certs.path().join("localhost.pem");
    struct Front(std::process::Child);
    impl Drop for Front {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut front = Front(
        std::process::Command::new("python3")
            .arg(root().join("tests/support/tls_front.py"))
            .arg(moto.port.to_string())
            .arg(&cert)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with moto's cryptography"),
    );
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(front.0.stdout.take().unwrap()),
        &mut port,
    )
    .unwrap();
    let endpoint = format!("https://localhost:{}", port.trim());
    let status = |trust: Option<&std::path::Path>| {
        let mut command = support::envc_command(root(), &["status", "local"]);
        command
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        if let Some(trust) = trust {
            command.env("SSL_CERT_FILE", trust);
        }
        support::run(command)
    };
    // Trusted, the TLS stack (rustls with ring) gets moto's answer: nothing deployed yet.
    let trusted = status(Some(&cert));
    assert_eq!(trusted.code, 1, "{}", trusted.all());
    assert!(
        trusted.stdout.contains("network        NOT_DEPLOYED"),
        "{}",
        trusted.all()
    );
    // A certificate no trusted root signed is refused, and nothing is asked.
    let untrusted = status(None);
    assert_eq!(untrusted.code, 3, "{}", untrusted.all());
    assert!(
        untrusted.stderr.contains("certificate"),
        "{}",
        untrusted.all()
    );
}

#[test]
fn large_templates_go_through_the_artifact_bucket() {
    let project = local_project();
    let dir = project.path();
    // A project template well over CloudFormation's 51,200-byte inline limit.
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let mut template = String::from("Resources:\n");
    for i in 0..400 {
        template.push_str(&format!("  Handle{i}:\n    Type: AWS::CloudFormation::WaitConditionHandle\n    Metadata:\n      Note: \"{}\"\n", "x".repeat(120)));
    }
    std::fs::write(dir.join("templates/bulk.yaml.j2"), template).unwrap();
    let stacks = dir.join("stacks.kdl");
    std::fs::write(
        &stacks,
        std::fs::read_to_string(&stacks).unwrap()
            + "stack \"bulk\" template=\"bulk.yaml.j2\" {\n    needs \"artifacts\"\n}\n",
    )
    .unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
    let size = std::fs::metadata(dir.join("golden/local/bulk.yaml"))
        .unwrap()
        .len();
    assert!(size > 51_200, "{size}");

    let moto = Moto::start();
    moto.seed_local();
    let run = envc_at(
        dir,
        &moto.url(),
        &[
            "deploy",
            "local",
            "--yes",
            "--stack",
            "artifacts",
            "--stack",
            "bulk",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let keys = moto.python("s3 = boto3.client('s3', **kw)\nprint([o['Key'] for o in s3.list_objects_v2(Bucket='balancer-local-artifacts-123456789012').get('Contents', [])])");
    assert!(keys.contains("envc/templates/bulk/"), "{keys}");
}

#[test]
fn deploy_dry_run_never_shows_a_credential() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let secret = "hunter2-correct-horse-battery";
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap();
    std::fs::write(
        &local,
        format!("{text}tags {{\n    db-password \"{secret}\"\n}}\nnetwork {{ azs 99 }}\n"),
    )
    .unwrap();
    for args in [
        &["deploy", "local", "--dry-run"][..],
        &["diff", "local", "--live"],
        &["status", "local"],
    ] {
        let run = envc_at(dir, &moto.url(), args);
        assert_ne!(run.code, 0, "{}", run.all());
        assert!(
            !run.all().contains(secret),
            "`envc {}` showed the credential:\n{}",
            args.join(" "),
            run.all()
        );
        assert!(
            run.stderr.contains("envc::secret::plaintext"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn refused_credentials_show_what_aws_answered() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new(
            "DescribeStacks",
            Fault::Respond(
                403,
                aws_error(
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                ),
            ),
        )],
    );
    let run = envc_at(root(), &proxy.url(), &["deploy", "local", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains(
            "InvalidClientTokenId: The security token included in the request is invalid."
        ) && run.stderr.contains("refresh your credentials"),
        "{}",
        run.stderr
    );

    // An answer with no error code in it: its status and body are shown, not "unhandled".
    proxy.set_rules(vec![Rule::new(
        "DescribeStacks",
        Fault::Respond(403, "<html>Request blocked by a proxy</html>".to_string()),
    )]);
    let run = envc_at(root(), &proxy.url(), &["deploy", "local", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("HTTP 403") && run.stderr.contains("Request blocked by a proxy"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("unhandled error"), "{}", run.stderr);
    assert!(!run.stderr.contains("above"), "{}", run.stderr);
}

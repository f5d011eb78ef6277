//! envc reaches AWS over TLS checked against the trusted roots: moto behind a TLS front
//! (tests/support/tls_front.py), which a scenario file (tests/scenarios/) cannot start.

use crate::support;
use support::{root, Moto};

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

//! A credential placed anywhere in a project never appears in the output of any command, in
//! any format: a property test over credential shapes, files and places in them, run
//! through the real binary.

use crate::support;

use proptest::prelude::*;
use support::{copy_project, root};

/// Commands whose output the credential must not reach (`dev` and `staging2` hold the
/// project's most inherited files).
const COMMANDS: &[&[&str]] = &[
    &["check"],
    &["check", "--format", "json"],
    &["check", "--format", "github"],
    &["check", "staging2"],
    &["render", "dev"],
    &["diff", "dev"],
    &["explain", "dev", "tags"],
    &["explain", "staging2", "service"],
    &["graph", "dev"],
];

#[derive(Debug, Clone)]
struct Credential {
    /// What must never be shown.
    secret: String,
    /// The text written into the file (the secret, or a URL holding it).
    written: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Recognisable anywhere by its shape: masked even in templates and golden files,
    /// which envc shows but does not read as settings.
    Shape,
    /// An AWS secret access key: recognised as a setting's value, under any name.
    AwsSecretKey,
    /// A password: recognised by the name of the setting that holds it.
    Named,
}

fn alnum(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![b'a'..=b'z', b'A'..=b'Z', b'0'..=b'9'], len)
        .prop_map(|bytes| String::from_utf8(bytes).unwrap())
}

fn upper_digits(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![b'A'..=b'Z', b'0'..=b'9'], len)
        .prop_map(|bytes| String::from_utf8(bytes).unwrap())
}

fn credential() -> impl Strategy<Value = Credential> {
    let shaped = |secret: String, written: String| Credential {
        secret,
        written,
        kind: Kind::Shape,
    };
    prop_oneof![
        upper_digits(16).prop_map(move |s| shaped(format!("AKIA{s}"), format!("AKIA{s}"))),
        alnum(36).prop_map(move |s| shaped(format!("ghp_{s}"), format!("ghp_{s}"))),
        alnum(24).prop_map(move |s| shaped(format!("sk_live_{s}"), format!("sk_live_{s}"))),
        alnum(14).prop_map(move |s| shaped(format!("xoxb-{s}"), format!("xoxb-{s}"))),
        alnum(12).prop_map(move |s| shaped(
            format!("pw{s}"),
            format!("postgres://app:pw{s}@db:5432/app")
        )),
        alnum(12).prop_map(move |s| shaped(format!("pw{s}"), format!("redis://:pw{s}@cache:6379"))),
        alnum(36).prop_map(|s| Credential {
            // 40 characters with upper and lower case and digits.
            secret: format!("A1b/{s}"),
            written: format!("A1b/{s}"),
            kind: Kind::AwsSecretKey,
        }),
        alnum(14).prop_map(|s| Credential {
            secret: format!("Pw{s}"),
            written: format!("Pw{s}"),
            kind: Kind::Named,
        }),
    ]
}

/// The key a credential is written under: one that names a credential, or a harmless one
/// (only a credential recognisable by shape is one there).
fn key_for(credential: &Credential, pick: usize) -> &'static str {
    const NAMED: &[&str] = &["DB_PASSWORD", "api-token", "client-secret", "password"];
    const HARMLESS: &[&str] = &["note", "DATABASE_URL", "owner"];
    if credential.kind != Kind::Named {
        HARMLESS[pick % HARMLESS.len()]
    } else {
        NAMED[pick % NAMED.len()]
    }
}

const KDL_FILES: &[&str] = &[
    "env/base.kdl",
    "env/dev.kdl",
    "env/staging.kdl",
    "env/staging2.kdl",
    "stacks.kdl",
];

const SHOWN_FILES: &[&str] = &["templates/network.yaml.j2", "golden/dev/network.yaml"];

/// Writes `line` before line `at` (of the file's lines, wrapping).
fn insert_line(text: &str, at: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let at = at % (lines.len() + 1);
    lines.insert(at, line);
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_credential_anywhere_is_never_shown(
        credential in credential(),
        file in 0..KDL_FILES.len() + SHOWN_FILES.len(),
        line in any::<usize>(),
        key in any::<usize>(),
        broken in any::<bool>(),
    ) {
        let project = tempfile::tempdir().unwrap();
        let dir = project.path();
        copy_project(root(), dir);
        // A project template (an override of the built-in) is a file the credential can be in.
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::copy(root().join("builtin/network.yaml.j2"), dir.join("templates/network.yaml.j2")).unwrap();
        let in_kdl = file < KDL_FILES.len();
        // Templates and golden files are not settings: only a shaped credential is known
        // there.
        prop_assume!(in_kdl || credential.kind == Kind::Shape);
        let name = if in_kdl { KDL_FILES[file] } else { SHOWN_FILES[file - KDL_FILES.len()] };
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let written = if in_kdl {
            format!("{} \"{}\"", key_for(&credential, key), credential.written)
        } else {
            format!("# {}", credential.written)
        };
        let mut text = insert_line(&text, line, &written);
        if broken && in_kdl {
            // A syntax error elsewhere in the same file.
            text = insert_line(&text, line / 7, "network { cidr \"10.9.0.0/16\"");
        }
        std::fs::write(&path, text).unwrap();
        for args in COMMANDS {
            let run = support::envc(dir, args);
            prop_assert!(
                !run.stdout.contains(&credential.secret) && !run.stderr.contains(&credential.secret),
                "`envc {}` showed the credential written as {written:?} in {name}:\n{}",
                args.join(" "),
                run.all()
            );
        }
    }
}

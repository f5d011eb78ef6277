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
        split in any::<bool>(),
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
        // Written over two lines (a `\` continuation inside the quotes), each half of it
        // must not be shown either: the report's gutter would stand between them.
        let split = split && in_kdl && credential.written == credential.secret;
        let (first, second) = credential.secret.split_at(credential.secret.len() / 2);
        let written = if split {
            format!("{} \"{first}\\\n        {second}\"", key_for(&credential, key))
        } else if in_kdl {
            format!("{} \"{}\"", key_for(&credential, key), credential.written)
        } else {
            format!("# {}", credential.written)
        };
        let shown = |output: &str| {
            output.contains(&credential.secret)
                || (split && (output.contains(first) || output.contains(second)))
        };
        let mut text = text;
        if broken && in_kdl {
            // A syntax error elsewhere in the same file (first, so that it does not go
            // between the lines of a credential written over two).
            text = insert_line(&text, line / 7, "network { cidr \"10.9.0.0/16\"");
        }
        let text = insert_line(&text, line, &written);
        std::fs::write(&path, text).unwrap();
        for args in COMMANDS {
            let run = support::envc(dir, args);
            prop_assert!(
                !shown(&run.stdout) && !shown(&run.stderr),
                "`envc {}` showed the credential written as {written:?} in {name}:\n{}",
                args.join(" "),
                run.all()
            );
        }
    }
}

/// Where a credential reaches envc in ways no file shows at once.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// A harmless-looking value that `${…}` composes into a connection string.
    Composed,
    /// The default of a project kind's setting named as a credential.
    KindDefault,
    /// A file of any name given to `fmt --check`, broken or not.
    AnyFile,
    /// Malformed and refused messages to the language server.
    LspMessage,
}

/// Frames `body` as the language server protocol does.
fn frame(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// What `envc lsp` writes, given `input` on standard input.
fn lsp_output(dir: &std::path::Path, input: &str) -> String {
    use std::io::Write;
    let mut child = support::envc_command(dir, &["lsp"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Sets `place` up in the project in `dir` with `secret`; the commands to run after.
fn place_credential(
    dir: &std::path::Path,
    place: Place,
    secret: &str,
    broken: bool,
) -> Vec<Vec<String>> {
    let append = |relative: &str, text: &str| {
        let path = dir.join(relative);
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(path, before + text).unwrap();
    };
    let commands = |list: &[&str]| -> Vec<Vec<String>> {
        list.iter()
            .map(|c| c.split(' ').map(String::from).collect())
            .collect()
    };
    match place {
        Place::Composed => {
            append(
                "env/dev.kdl",
                &format!("tags {{ part \"{secret}\" }}\nservice \"api\" {{ environment {{ DSN \"postgres://app:${{tags.part}}@db/app\" }} }}\n"),
            );
            commands(&[
                "check",
                "check --format json",
                "render dev",
                "diff dev",
                "explain dev tags",
                "explain dev tags.part",
                "explain dev service",
            ])
        }
        Place::KindDefault => {
            assert_eq!(support::envc(dir, &["new-kind", "vault"]).code, 0);
            let path = dir.join("kinds/vault.schema.json");
            let mut schema: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            schema["properties"]["admin-password"] = serde_json::json!({"type": "string", "description": "The admin password.", "default": secret});
            std::fs::write(&path, serde_json::to_string_pretty(&schema).unwrap()).unwrap();
            let template = dir.join("kinds/vault.yaml.j2");
            let text = std::fs::read_to_string(&template).unwrap().replace(
                "      SqsManagedSseEnabled: true",
                "      SqsManagedSseEnabled: true\n      Tags:\n        - Key: admin\n          Value: {{ settings.admin_password | tojson }}",
            );
            std::fs::write(template, text).unwrap();
            append("stacks.kdl", "\nstack \"vault\" kind=\"vault\"\n");
            append(
                "env/base.kdl",
                if broken { "vault {\n" } else { "vault {}\n" },
            );
            commands(&[
                "check",
                "render dev",
                "diff dev",
                "explain dev vault",
                "docs --check",
                "schema --check",
                "check --format github",
            ])
        }
        Place::AnyFile => {
            let text = format!(
                "note   1\npassword   \"{secret}\"\n{}",
                if broken { "x {\n" } else { "" }
            );
            std::fs::write(dir.join("notes.txt"), text).unwrap();
            commands(&["fmt --check notes.txt", "fmt notes.txt"])
        }
        Place::LspMessage => Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_credential_composed_defaulted_or_sent_is_never_shown(
        suffix in alnum(14),
        shaped in upper_digits(16),
        place in prop_oneof![
            Just(Place::Composed),
            Just(Place::KindDefault),
            Just(Place::AnyFile),
            Just(Place::LspMessage),
        ],
        broken in any::<bool>(),
    ) {
        let secret = format!("Pw{suffix}");
        let project = tempfile::tempdir().unwrap();
        let dir = project.path();
        copy_project(root(), dir);
        let commands = place_credential(dir, place, &secret, broken);
        for args in &commands {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = support::envc(dir, &args);
            prop_assert!(
                !run.all().contains(&secret),
                "`envc {}` showed the credential placed as {place:?}:\n{}",
                args.join(" "),
                run.all()
            );
        }
        if let Place::LspMessage = place {
            let key = format!("AKIA{shaped}");
            let input = [
                frame(&format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{{\"password\":\"{secret}\"")),
                frame(&format!("{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{{\"capabilities\":{{}},\"processId\":\"{secret}\"}}}}")),
                frame("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{\"capabilities\":{}}}"),
                frame("{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}"),
                frame(&format!("{{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/hover\",\"params\":{{\"textDocument\":\"{secret}\"}}}}")),
                frame(&format!("{{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"{key}\",\"params\":{{}}}}")),
                frame(&format!("{{\"jsonrpc\":\"2.0\",\"id\":\"6\",\"result\":\"{secret}\"}}")),
                frame("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"shutdown\"}"),
                frame("{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}"),
            ]
            .concat();
            let shown = lsp_output(dir, &input);
            prop_assert!(shown.contains("\"id\":5"), "the server answered:\n{shown}");
            // A request before `initialized` ends the server; its reason names no parameter.
            let early = [
                frame("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"capabilities\":{}}}"),
                frame(&format!("{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"textDocument/hover\",\"params\":{{\"textDocument\":\"{secret}\"}}}}")),
            ]
            .concat();
            let shown = shown + &lsp_output(dir, &early);
            prop_assert!(shown.contains("expected initialized notification"), "{shown}");
            prop_assert!(
                !shown.contains(&secret) && !shown.contains(&key),
                "the language server showed a credential it was sent:\n{shown}"
            );
        }
    }
}

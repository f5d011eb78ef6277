//! The bad-input corpus: every case in `tests/cases/*.case` runs the real binary and its
//! output is snapshot-tested. Every case must exit non-zero without panicking, and every
//! diagnostic must carry a code and (for file problems) a location inside the file.

use std::path::Path;
use std::process::Command;

struct Case {
    /// `# bare`: no default `stacks.kdl` and no `env/`.
    bare: bool,
    /// `# fifo: PATH`: named pipes to make.
    fifos: Vec<String>,
    /// `# symlink: PATH -> TARGET`: links to make; a TARGET of `outside` is a file outside
    /// the project whose text must never be shown.
    symlinks: Vec<(String, String)>,
    args: Vec<String>,
    exit: i32,
    files: Vec<(String, String)>,
}

fn parse_case(text: &str) -> Case {
    let mut case = Case {
        bare: false,
        fifos: Vec::new(),
        symlinks: Vec::new(),
        args: vec!["check".to_string()],
        exit: 1,
        files: Vec::new(),
    };
    for line in text.lines() {
        if let Some(args) = line.strip_prefix("# args:") {
            case.args = args.split_whitespace().map(String::from).collect();
        } else if line == "# bare" {
            case.bare = true;
        } else if let Some(path) = line.strip_prefix("# fifo:") {
            case.fifos.push(path.trim().to_string());
        } else if let Some(link) = line.strip_prefix("# symlink:") {
            let (path, target) = link.split_once("->").expect("# symlink: PATH -> TARGET");
            case.symlinks
                .push((path.trim().to_string(), target.trim().to_string()));
        } else if let Some(exit) = line.strip_prefix("# exit:") {
            case.exit = exit.trim().parse().expect("exit code");
        } else if let Some(name) = line.strip_prefix("--- ") {
            case.files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = case.files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    case
}

fn run(dir: &Path, args: &[String]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_envc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // Deploy cases never reach AWS: fake credentials, and no instance metadata lookups.
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // No profiles, whatever the machine has in `~/.aws`.
        .env("AWS_CONFIG_FILE", "/nonexistent/envc-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/envc-test/credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run envc");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn materialise(case: &Case) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let defaults = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/_default");
    if case.bare {
        // Only the files the case gives.
    } else if !case.files.iter().any(|(name, _)| name == "stacks.kdl") {
        std::fs::copy(defaults.join("stacks.kdl"), dir.path().join("stacks.kdl"))
            .expect("copy default");
    }
    if !case.bare {
        std::fs::create_dir_all(dir.path().join("env")).expect("env dir");
    }
    for (name, body) in &case.files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, unescape_bytes(body)).expect("write case file");
    }
    for fifo in &case.fifos {
        let made = Command::new("mkfifo")
            .arg(dir.path().join(fifo))
            .status()
            .expect("mkfifo");
        assert!(made.success(), "mkfifo {fifo}");
    }
    for (path, target) in &case.symlinks {
        let target = if target == "outside" {
            let outside = std::env::temp_dir().join(format!("envc-outside-{}", std::process::id()));
            std::fs::write(&outside, format!("{OUTSIDE_TEXT} \"1\"\n")).expect("outside file");
            outside
        } else {
            std::path::PathBuf::from(target)
        };
        let link = dir.path().join(path);
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, link).expect("symlink");
    }
    dir
}

/// The text of the file outside the project that `# symlink: PATH -> outside` links to.
const OUTSIDE_TEXT: &str = "outside-the-project";

/// Case files are text: `\xNN` in a file's body writes that byte (invalid UTF-8, say).
fn unescape_bytes(body: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(body.len());
    let mut rest = body.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\' && tail.first() == Some(&b'x') && tail.len() >= 3 {
            if let Ok(byte) = u8::from_str_radix(std::str::from_utf8(&tail[1..3]).unwrap_or(""), 16)
            {
                bytes.push(byte);
                rest = &tail[3..];
                continue;
            }
        }
        bytes.push(b);
        rest = tail;
    }
    bytes
}

#[test]
fn bad_inputs() {
    let mut failures = Vec::new();
    insta::glob!("cases/*.case", |path| {
        let checked = std::panic::catch_unwind(|| check_case(path));
        if let Err(panic) = checked {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", path.display()));
        }
    });
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_case(path: &Path) {
    let case = parse_case(&std::fs::read_to_string(path).expect("read case"));
    let dir = materialise(&case);
    let (exit, stdout, stderr) = run(dir.path(), &case.args);
    assert!(
        !stderr.contains("panicked"),
        "{}: envc panicked:\n{stderr}",
        path.display()
    );
    assert_eq!(
        exit,
        case.exit,
        "{}: exit code\n{stdout}\n{stderr}",
        path.display()
    );

    // The same input through the JSON format: every diagnostic is complete and in range.
    if case.args.first().map(String::as_str) == Some("check")
        && !case.args.iter().any(|a| a == "--format")
    {
        check_json(path, &case, dir.path(), exit);
    }

    // Deploy output is timestamped; the snapshot keeps the rest.
    let stdout = without_times(&stdout);
    // Nothing a case marks as secret, and nothing from outside the project, is shown.
    check_never_shown(path, &case, dir.path(), &stdout, &stderr);
    assert!(
        !stdout.contains(OUTSIDE_TEXT) && !stderr.contains(OUTSIDE_TEXT),
        "{}: shows a file outside the project",
        path.display()
    );
    let snapshot = format!("exit: {exit}\n--- stdout\n{stdout}--- stderr\n{stderr}");
    insta::assert_snapshot!(snapshot);
}

/// Runs the case's `check` again with `--format json`: the same exit, and at least one
/// diagnostic, each complete ([`check_json_diagnostic`]).
fn check_json(path: &Path, case: &Case, dir: &Path, exit: i32) {
    let mut json_args = case.args.clone();
    json_args.extend(["--format".to_string(), "json".to_string()]);
    let (json_exit, json_out, _) = run(dir, &json_args);
    assert_eq!(json_exit, exit, "{}: json exit code", path.display());
    let lines: Vec<&str> = json_out.lines().collect();
    assert!(
        !lines.is_empty(),
        "{}: no diagnostics in JSON output",
        path.display()
    );
    for line in lines {
        check_json_diagnostic(line, dir);
    }
}

/// One diagnostic of the JSON format has a code, a message and a severity, and its place
/// (where it has one) is inside its file.
fn check_json_diagnostic(line: &str, dir: &Path) {
    let d: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
    assert!(
        d["code"].as_str().is_some_and(|c| c.starts_with("envc::")),
        "{line}"
    );
    assert!(
        d["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{line}"
    );
    assert!(d["severity"].is_string(), "{line}");
    if let Some(file) = d["file"].as_str() {
        let bytes = std::fs::read(dir.join(file)).expect("diagnostic file exists");
        let text = String::from_utf8_lossy(&bytes);
        let line_no = d["line"].as_u64().expect("line") as usize;
        let end_line = d["end_line"].as_u64().expect("end_line") as usize;
        assert!(
            line_no >= 1 && line_no <= text.lines().count().max(1),
            "{line}"
        );
        assert!(
            end_line >= line_no && end_line <= text.lines().count().max(1) + 1,
            "{line}"
        );
        assert!(d["column"].as_u64().expect("column") >= 1, "{line}");
    }
}

/// `stdout` with the time that starts a line of deploy output as `<time>`.
fn without_times(stdout: &str) -> String {
    stdout
        .lines()
        .map(|l| match l.split_once(' ') {
            Some((time, rest))
                if time.len() == 20 && time.ends_with('Z') && time.as_bytes()[4] == b'-' =>
            {
                format!("<time> {rest}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect::<String>()
}

/// No text of a `# never-shown:` line of the case is in its output, nor (for `check`) in
/// its output in the JSON and GitHub formats.
fn check_never_shown(path: &Path, case: &Case, dir: &Path, stdout: &str, stderr: &str) {
    for line in std::fs::read_to_string(path).expect("read case").lines() {
        if let Some(secret) = line.strip_prefix("# never-shown:") {
            let secret = secret.trim();
            for (format, text) in [("human", stdout), ("human", stderr)] {
                assert!(
                    !text.contains(secret),
                    "{}: {format} output shows `{secret}`:\n{text}",
                    path.display()
                );
            }
            for format in ["json", "github"] {
                if case.args.first().map(String::as_str) == Some("check") {
                    let mut args = case.args.clone();
                    args.extend(["--format".to_string(), format.to_string()]);
                    let (_, out, err) = run(dir, &args);
                    assert!(
                        !out.contains(secret) && !err.contains(secret),
                        "{}: {format} output shows `{secret}`:\n{out}{err}",
                        path.display()
                    );
                }
            }
        }
    }
}

/// Every text of `dir` (recursively) whose name ends with one of `endings`; for a file of a
/// crate's `src/`, only its tests (what follows its first `#[cfg(test)]`).
fn texts_under(dir: &Path, endings: &[&str], out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            texts_under(&path, endings, out);
        } else if endings.iter().any(|e| path.to_string_lossy().ends_with(e)) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let in_src = path.components().any(|c| c.as_os_str() == "src");
            match text.find("#[cfg(test)]") {
                Some(at) if in_src => out.push_str(&text[at..]),
                None if in_src => {}
                _ => out.push_str(&text),
            }
        }
    }
}

/// Every diagnostic code is shown by a corpus case (its snapshot) or asserted by a test (a
/// scenario of tests/scenarios/, or a unit test for what no input can reach); a code with neither fails
/// here, listed.
#[test]
fn every_diagnostic_code_has_a_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = String::new();
    texts_under(&root.join("tests"), &[".snap", ".rs", ".case"], &mut cases);
    texts_under(&root.join("tests/scenarios"), &[".kdl"], &mut cases);
    texts_under(&root.join("src"), &[".rs"], &mut cases);
    texts_under(&root.join("crates"), &[".rs"], &mut cases);
    let without: Vec<&str> = envc::diagnostic::Code::ALL
        .iter()
        .map(|code| code.as_str())
        .filter(|text| {
            !cases.contains(&format!("{text}\n")) && !cases.contains(&format!("\"{text}\""))
        })
        .collect();
    assert!(
        without.is_empty(),
        "diagnostic codes no case shows and no test asserts: {without:#?}\nadd a corpus case (tests/cases/) or assert the code in the test that reaches it"
    );
}

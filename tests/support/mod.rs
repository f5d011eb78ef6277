//! What the integration tests share: running envc, copying projects, a moto server on a free
//! port of 127.0.0.1, and a fault-injecting proxy in front of it.

#![allow(dead_code)]

pub mod lsp_client;
pub mod proxy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn envc_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_envc"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("ENVC_NO_CACHE");
    command
}

pub fn envc(dir: &Path, args: &[&str]) -> Run {
    run(envc_command(dir, args))
}

pub fn run(mut command: Command) -> Run {
    let output = command.stdin(Stdio::null()).output().expect("run envc");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn files_under(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), text);
            }
        }
    }
    files
}

/// Copies a project's own files (not `target/` or examples) into `to`.
pub fn copy_project(from: &Path, to: &Path) {
    for dir in ["docs", "env", "golden", "kinds", "schema", "templates"] {
        for (relative, text) in files_under(&from.join(dir)) {
            let path = to.join(dir).join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
    std::fs::copy(from.join("stacks.kdl"), to.join("stacks.kdl")).unwrap();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server on 127.0.0.1, stopped when dropped (also when a test fails).
pub struct Moto {
    child: Child,
    pub port: u16,
    /// What moto's server printed (its request lines and tracebacks), shown when a test
    /// fails.
    log: tempfile::NamedTempFile,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_in(None)
    }

    /// A moto whose every request is in `account` (`MOTO_ACCOUNT_ID`), for a project whose
    /// environment is in that account: envc refuses credentials of another.
    pub fn start_in_account(account: &str) -> Moto {
        Moto::start_in(Some(account))
    }

    fn start_in(account: Option<&str>) -> Moto {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("a file for moto's log");
        // moto's server with the CloudFormation models it lacks (tests/support/moto_server.py).
        let mut command = Command::new("python3");
        if let Some(account) = account {
            command.env("MOTO_ACCOUNT_ID", account);
        }
        let child = command
            .arg(root().join("tests/support/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("moto's log"))
            .spawn()
            .expect("python3 with moto must be installed (scripts/test installs it into .venv)");
        let moto = Moto { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What env/local.kdl expects to exist: the VPC in SSM and the server certificate.
    pub fn seed_local(&self) {
        let status = Command::new("python3")
            .arg(root().join("scripts/moto-seed.py"))
            .arg(self.url())
            .stdout(Stdio::null())
            .status()
            .expect("python3 with boto3 (scripts/test puts .venv first on PATH)");
        assert!(status.success(), "seeding moto failed");
    }

    /// Asks moto through boto3 and returns what the snippet prints (`cf` is a
    /// CloudFormation client).
    pub fn python(&self, snippet: &str) -> String {
        let program = format!(
            "import boto3, json\nkw = dict(endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\ncf = boto3.client('cloudformation', **kw)\n{snippet}\n",
            self.url()
        );
        let output = Command::new("python3")
            .arg("-c")
            .arg(program)
            .output()
            .expect("python3");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!("--- the last lines moto printed ---\n{}", tail.join("\n"));
        }
    }
}

/// envc against an endpoint, with the fake credentials emulators take.
pub fn envc_at(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let mut command = envc_command(dir, args);
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
    run(command)
}

/// Starts `command` (stdin empty, output kept), waits until `ready` (within a minute), then
/// sends it SIGINT as Ctrl-C does, and returns its exit code and standard error.
pub fn interrupted_when(mut command: Command, ready: impl Fn() -> bool) -> (Option<i32>, String) {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "envc never got to where it is interrupted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let signal = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

/// What a terminal showed of one envc run (`tests/support/at_terminal.py`).
#[derive(Debug)]
pub struct AtTerminal {
    /// Everything shown, with the terminal's `\r\n` line ends.
    pub shown: String,
    /// `None` when envc did not end within the time given (it was killed).
    pub code: Option<i32>,
}

/// envc against an endpoint on a pseudo-terminal: `keys` (`^C` is Ctrl-C, `\n` Enter) are
/// typed when `prompt` first shows. envc is killed if it has not ended after `within`
/// seconds.
pub fn envc_at_terminal(
    dir: &Path,
    endpoint: &str,
    args: &[&str],
    (prompt, keys): (&str, &str),
    within: u32,
) -> AtTerminal {
    let output = Command::new("python3")
        .arg(root().join("tests/support/at_terminal.py"))
        .args([
            prompt,
            keys,
            &within.to_string(),
            "--",
            env!("CARGO_BIN_EXE_envc"),
        ])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("python3 runs tests/support/at_terminal.py");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    AtTerminal {
        shown: report["shown"].as_str().unwrap_or_default().to_string(),
        code: report["code"].as_i64().map(|c| c as i32),
    }
}

/// Replaces up to `cut` bytes at each edit's place in `text` with its piece (places snap to
/// character boundaries): how the differential tests of the readers mutate real files.
pub fn apply_edits(text: &mut String, edits: Vec<(proptest::sample::Index, usize, &str)>) {
    for (at, cut, piece) in edits {
        let mut start = at.index(text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + cut).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(start..end, piece);
    }
}

/// The text of every `.kdl` file of the root project and the examples.
pub fn project_kdl_texts() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut projects = vec![root.to_path_buf()];
        for example in std::fs::read_dir(root.join("examples")).unwrap() {
            projects.push(example.unwrap().path());
        }
        let mut texts = Vec::new();
        for project in projects {
            texts.push(std::fs::read_to_string(project.join("stacks.kdl")).unwrap());
            for file in std::fs::read_dir(project.join("env")).unwrap() {
                texts.push(std::fs::read_to_string(file.unwrap().path()).unwrap());
            }
        }
        texts
    })
}

/// Characters and fragments that sit on the edges of what the fast reader knows.
pub const KDL_PIECES: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    ";",
    "{",
    "}",
    "{ }",
    "(",
    ")",
    "(replace)",
    "(remove)",
    "(x)",
    "=",
    " = ",
    "\"",
    "\\",
    " \\\n",
    "\\n",
    "\\u{e9}",
    "\\s",
    "#",
    "#true",
    "#false",
    "#null",
    "#inf",
    "#nan",
    "/-",
    "//",
    "/*",
    "*/",
    "/* c */",
    "\"\"\"",
    "#\"",
    "0",
    "007",
    "0x1F",
    "1e3",
    "1.5",
    "-1",
    "+1",
    ".5",
    "1_0",
    "-",
    "true",
    "null",
    "é",
    "\u{a0}",
    "\u{2028}",
    "\u{feff}",
    "\u{200e}",
    "\u{7f}",
    "\u{0}",
    "x",
    "k=v",
    "a.b",
    "[",
    "]",
];

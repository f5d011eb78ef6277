//! Deploy and CLI scenarios as data. Each `tests/scenarios/*.kdl` is a project, the emulator
//! (moto, and the fault-injecting proxy in front of it), the commands run in order and what
//! each must show; `build.rs` makes one test per file, so a new scenario is a file. The
//! format is in `tests/scenarios/README.md`.

use std::path::Path;

use kdl::{KdlDocument, KdlNode, KdlValue};

use crate::support::proxy::Proxy;
use crate::support::{self, copy_project, root, Moto, Run};

mod expect;
mod proxy_rules;
use expect::expect;
use proxy_rules::rule;

include!(concat!(env!("OUT_DIR"), "/scenarios.rs"));

/// Runs `tests/scenarios/<name>.kdl`, step by step; the first unmet expectation fails it.
fn run_scenario(name: &str) {
    let path = root().join("tests/scenarios").join(format!("{name}.kdl"));
    let text = std::fs::read_to_string(&path).expect("read the scenario");
    let document: KdlDocument = text
        .parse()
        .unwrap_or_else(|problem| panic!("{}: not KDL: {problem:?}", path.display()));
    let mut world = World::default();
    for node in document.nodes() {
        world.step(node);
    }
}

/// What a scenario has set up so far.
#[derive(Default)]
struct World {
    project: Option<tempfile::TempDir>,
    moto: Option<Moto>,
    proxy: Option<Proxy>,
    /// moto behind TLS (`tls-front`): the front's process, its endpoint and certificate.
    tls: Option<TlsFront>,
    /// The files of a folder of the project as `remember` saw them.
    remembered:
        std::collections::BTreeMap<String, std::collections::BTreeMap<std::path::PathBuf, String>>,
}

impl World {
    fn step(&mut self, node: &KdlNode) {
        match name(node) {
            "project" => self.project(node),
            "write" => self.write(node, false),
            "edit" => self.edit(node),
            "run" => {
                let args = arguments(node);
                let mut command = std::process::Command::new(&args[0]);
                command.args(&args[1..]).current_dir(self.dir());
                let ran = support::run(command);
                expect(node, &format!("`{}`", args.join(" ")), &ran);
            }
            "append" => self.write(node, true),
            "moto" => self.start_moto(node),
            "tls-front" => {
                let moto = self.moto.as_ref().expect("`moto` before `tls-front`");
                self.tls = Some(TlsFront::start(moto.port));
            }
            "proxy" => self.set_proxy(node),
            "envc" => self.run_envc(node),
            "moto-python" => {
                let moto = self.moto.as_ref().expect("`moto` before `moto-python`");
                let printed = moto.python(string(node, 0));
                let ran = Run {
                    code: 0,
                    stdout: printed,
                    stderr: String::new(),
                };
                expect(node, "the moto query", &ran);
            }
            "proxy-saw" => self.proxy_saw(node),
            "remember" => {
                let folder = string(node, 0);
                let files = support::files_under(&self.dir().join(folder));
                self.remembered.insert(folder.to_string(), files);
            }
            "unchanged" => self.unchanged(node),
            "larger-than" => {
                let (path, bytes) = (string(node, 0), integer_at(node, 1));
                let size = std::fs::metadata(self.dir().join(path)).unwrap().len();
                assert!(
                    size as i128 > bytes,
                    "{path} is {size} bytes, not over {bytes}"
                );
            }
            "exists" => {
                let path = string(node, 0);
                assert!(self.dir().join(path).exists(), "{path} does not exist");
            }
            other => panic!("a scenario has no step `{other}`"),
        }
    }

    /// `project [FOLDER]`: a new project, a copy of FOLDER (or empty, for `write` to fill).
    fn project(&mut self, node: &KdlNode) {
        let dir = tempfile::tempdir().unwrap();
        // Without a folder, the project is the files the scenario writes.
        if let Some(from) = strings(node).first() {
            copy_project(&root().join(from), dir.path());
        }
        self.project = Some(dir);
    }

    /// `edit PATH FROM TO`: replaces text that the project file holds.
    fn edit(&self, node: &KdlNode) {
        let path = self.dir().join(string(node, 0));
        let (from, to) = (string(node, 1), string(node, 2));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{} has no {from:?}", path.display());
        std::fs::write(path, text.replace(from, to)).unwrap();
    }

    /// `moto [account=ID] [seed="local"]`: a fresh moto (and no proxy in front of it yet).
    fn start_moto(&mut self, node: &KdlNode) {
        only_properties(node, &["account", "seed"]);
        let moto = match property(node, "account") {
            Some(account) => Moto::start_in_account(account),
            None => Moto::start(),
        };
        if property(node, "seed") == Some("local") {
            moto.seed_local();
        }
        self.moto = Some(moto);
        self.proxy = None;
    }

    /// `proxy { rule … }`: the proxy in front of moto, started or given new rules.
    fn set_proxy(&mut self, node: &KdlNode) {
        let rules = children(node).iter().map(rule).collect();
        match &self.proxy {
            Some(proxy) => proxy.set_rules(rules),
            None => {
                let port = self.moto.as_ref().expect("`moto` before `proxy`").port;
                self.proxy = Some(Proxy::start(port, rules));
            }
        }
    }

    /// `envc ARGS… { exit N; … }`: runs envc as the step says and checks what it showed.
    fn run_envc(&self, node: &KdlNode) {
        // `--flag=value` is a KDL property: quote it to pass it to envc.
        only_properties(
            node,
            &[
                "endpoint", "stdin", "save", "prompt", "keys", "within", "tls",
            ],
        );
        let owned = arguments(node);
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let ran = self.envc_as_told(&args, node);
        if let Some(file) = property(node, "save") {
            std::fs::write(self.dir().join(file), &ran.stdout).unwrap();
        }
        let shown = format!("`envc {}`", args.join(" "));
        assert!(
            children(node).iter().any(|c| name(c) == "exit"),
            "{shown}: every run of envc says its `exit`"
        );
        expect(node, &shown, &ran);
        for same in children(node)
            .iter()
            .filter(|c| name(c) == "yaml-equals-json-of")
        {
            let json_run = self.envc(&strings(same), None);
            let json: serde_json::Value = serde_json::from_str(&json_run.stdout).unwrap();
            let yaml: serde_json::Value = serde_yaml_ng::from_str(&ran.stdout).unwrap();
            assert_eq!(yaml, json, "{shown}:\n{}", ran.stdout);
        }
    }

    /// envc run as an `envc` step asks: interrupted, at a terminal, over TLS, or plainly.
    fn envc_as_told(&self, args: &[&str], node: &KdlNode) -> Run {
        match children(node).iter().find(|c| name(c) == "interrupt-when") {
            Some(when) => self.interrupted(args, when),
            None if property(node, "prompt").is_some() => self.at_terminal(args, node),
            None if self.tls.is_some() => self.over_tls(args, property(node, "tls")),
            None => {
                let stdin = property(node, "stdin");
                self.envc_with(args, property(node, "endpoint"), stdin)
            }
        }
    }

    /// `proxy-saw ACTION [faults=N] [requests=N]`: what the proxy has seen of ACTION.
    fn proxy_saw(&self, node: &KdlNode) {
        let proxy = self.proxy.as_ref().expect("`proxy` before `proxy-saw`");
        let action = string(node, 0);
        if let Some(faults) = integer(node, "faults") {
            assert_eq!(proxy.faults_applied(action), faults, "faults on {action}");
        }
        if let Some(requests) = integer(node, "requests") {
            assert_eq!(proxy.requests(action), requests, "requests of {action}");
        }
    }

    /// `unchanged FOLDER`: every file `remember` saw in FOLDER is as it was.
    fn unchanged(&self, node: &KdlNode) {
        let folder = string(node, 0);
        let now = support::files_under(&self.dir().join(folder));
        for (path, text) in &self.remembered[folder] {
            assert_eq!(
                now.get(path),
                Some(text),
                "{folder}/{} changed",
                path.display()
            );
        }
    }

    fn dir(&self) -> &Path {
        self.project.as_ref().expect("`project` first").path()
    }

    /// `write PATH TEXT` replaces a project file; `append PATH TEXT` adds to it.
    fn write(&self, node: &KdlNode, append: bool) {
        let path = self.dir().join(string(node, 0));
        let mut text = if append {
            std::fs::read_to_string(&path).unwrap_or_default()
        } else {
            String::new()
        };
        text.push_str(string(node, 1));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Where envc reaches AWS: the proxy when there is one, else moto, else nowhere.
    fn endpoint(&self) -> Option<String> {
        match (&self.proxy, &self.moto) {
            (Some(proxy), _) => Some(proxy.url()),
            (None, Some(moto)) => Some(moto.url()),
            (None, None) => None,
        }
    }

    /// envc in the project, against `endpoint` (`endpoint=URL`, or `endpoint=moto` past the
    /// proxy) or [`World::endpoint`], with `stdin` on its standard input.
    fn envc_with(&self, args: &[&str], endpoint: Option<&str>, stdin: Option<&str>) -> Run {
        let Some(input) = stdin else {
            return self.envc(args, endpoint);
        };
        use std::io::Write as _;
        use std::process::Stdio;
        let url = self.endpoint().expect("`moto` before a run with stdin");
        let mut command = support::envc_command(self.dir(), args);
        command
            .env("AWS_ENDPOINT_URL", url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        // A command that refuses its arguments exits without reading its input; whether it
        // is gone before the input is written is a race, and its exit and output say the rest.
        match pipe.write_all(input.as_bytes()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.unwrap(),
        }
        drop(pipe);
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn envc(&self, args: &[&str], endpoint: Option<&str>) -> Run {
        let endpoint = match endpoint {
            Some("moto") => Some(self.moto.as_ref().expect("`moto` first").url()),
            Some(url) => Some(url.to_string()),
            None => self.endpoint(),
        };
        match endpoint {
            Some(url) => support::envc_at(self.dir(), &url, args),
            None => support::envc(self.dir(), args),
        }
    }

    /// envc on a terminal (`prompt="[y/N]" keys="y\\n" within=SECONDS`): the keys are typed
    /// when the prompt first shows, and what the terminal showed is the run's stdout.
    fn at_terminal(&self, args: &[&str], node: &KdlNode) -> Run {
        let url = self.endpoint().expect("`moto` before a run at a terminal");
        let prompt = property(node, "prompt").unwrap();
        let keys = property(node, "keys").expect("prompt=… keys=…");
        let within = integer(node, "within").unwrap_or(60) as u32;
        let shown = support::envc_at_terminal(self.dir(), &url, args, (prompt, keys), within);
        Run {
            code: shown.code.unwrap_or(-1),
            stdout: shown.shown,
            stderr: String::new(),
        }
    }

    /// envc against moto's TLS front, trusting its certificate with `tls="trusted"` (the
    /// machine's roots are never asked: no SSL_CERT_FILE or SSL_CERT_DIR of the test's).
    fn over_tls(&self, args: &[&str], trust: Option<&str>) -> Run {
        let front = self.tls.as_ref().unwrap();
        let mut command = support::envc_command(self.dir(), args);
        command
            .env("AWS_ENDPOINT_URL", &front.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        match trust {
            Some("trusted") => {
                command.env("SSL_CERT_FILE", front.certificate());
            }
            Some("untrusted") | None => {}
            Some(other) => panic!("tls={other:?}: `trusted` or `untrusted`"),
        }
        support::run(command)
    }

    /// envc sent Ctrl-C once the proxy has seen `interrupt-when ACTION=N …` (at least N
    /// requests of each ACTION); its standard error is what it showed.
    fn interrupted(&self, args: &[&str], when: &KdlNode) -> Run {
        let proxy = self
            .proxy
            .as_ref()
            .expect("`proxy` before `interrupt-when`");
        let mut command = support::envc_command(self.dir(), args);
        command
            .env("AWS_ENDPOINT_URL", proxy.url())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
        let seen: Vec<(String, usize)> = when
            .entries()
            .iter()
            .map(|entry| {
                let action = entry.name().expect("interrupt-when ACTION=N").value();
                match entry.value() {
                    KdlValue::Integer(n) => (action.to_string(), *n as usize),
                    other => panic!("interrupt-when {action}={other:?}: a number"),
                }
            })
            .collect();
        let (code, stderr) = support::interrupted_when(command, || {
            seen.iter().all(|(action, n)| proxy.requests(action) >= *n)
        });
        Run {
            code: code.unwrap_or(-1),
            stdout: String::new(),
            stderr,
        }
    }
}

/// moto behind TLS (tests/support/tls_front.py), with a certificate for `localhost` that no
/// trusted root signed.
struct TlsFront {
    process: std::process::Child,
    endpoint: String,
    folder: tempfile::TempDir,
}

impl TlsFront {
    fn start(moto_port: u16) -> TlsFront {
        let folder = tempfile::tempdir().unwrap();
        let mut process = std::process::Command::new("python3")
            .arg(root().join("tests/support/tls_front.py"))
            .arg(moto_port.to_string())
            .arg(folder.path().join("localhost.pem"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with moto's cryptography");
        let mut port = String::new();
        let stdout = process.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut port).unwrap();
        TlsFront {
            process,
            endpoint: format!("https://localhost:{}", port.trim()),
            folder,
        }
    }

    fn certificate(&self) -> std::path::PathBuf {
        self.folder.path().join("localhost.pem")
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The second argument of a `json POINTER VALUE` expectation, as JSON.
fn json_of(node: &KdlNode) -> serde_json::Value {
    let value = node
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .nth(1)
        .map(|e| e.value());
    match value {
        Some(KdlValue::String(s)) => serde_json::Value::from(s.as_str()),
        Some(KdlValue::Integer(n)) => serde_json::Value::from(*n as i64),
        Some(KdlValue::Bool(b)) => serde_json::Value::from(*b),
        Some(KdlValue::Null) => serde_json::Value::Null,
        other => panic!("`json`: {other:?} is not a JSON scalar"),
    }
}

fn name(node: &KdlNode) -> &str {
    node.name().value()
}

fn children(node: &KdlNode) -> &[KdlNode] {
    node.children().map(|c| c.nodes()).unwrap_or_default()
}

/// The node's text arguments (entries without a name that are strings).
fn strings(node: &KdlNode) -> Vec<&str> {
    node.entries()
        .iter()
        .filter(|e| e.name().is_none())
        .filter_map(|e| match e.value() {
            KdlValue::String(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

/// A command's arguments: every entry without a name, numbers written out (`--concurrency 2`).
fn arguments(node: &KdlNode) -> Vec<String> {
    node.entries()
        .iter()
        .filter(|e| e.name().is_none())
        .map(|e| match e.value() {
            KdlValue::String(s) => s.clone(),
            KdlValue::Integer(n) => n.to_string(),
            other => panic!("`{}`: {other:?} is not an argument", name(node)),
        })
        .collect()
}

fn string(node: &KdlNode, index: usize) -> &str {
    strings(node)
        .get(index)
        .copied()
        .unwrap_or_else(|| panic!("`{}` needs argument {}", name(node), index + 1))
}

fn integer_at(node: &KdlNode, index: usize) -> i128 {
    let value = node
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .nth(index)
        .map(|e| e.value());
    match value {
        Some(KdlValue::Integer(n)) => *n,
        other => panic!(
            "`{}`: argument {} is {other:?}, not a number",
            name(node),
            index + 1
        ),
    }
}

/// Refuses a property the step does not take, so that none is silently ignored.
fn only_properties(node: &KdlNode, known: &[&str]) {
    for entry in node.entries() {
        if let Some(key) = entry.name() {
            let key = key.value();
            assert!(
                known.contains(&key),
                "`{}` takes no `{key}=` (quote an argument with `=`)",
                name(node)
            );
        }
    }
}

fn property<'a>(node: &'a KdlNode, key: &str) -> Option<&'a str> {
    match node.get(key)? {
        KdlValue::String(s) => Some(s.as_str()),
        other => panic!("`{}`: {key}={other:?} is not a string", name(node)),
    }
}

fn integer(node: &KdlNode, key: &str) -> Option<usize> {
    match node.get(key)? {
        KdlValue::Integer(n) => Some(*n as usize),
        other => panic!("`{}`: {key}={other:?} is not a number", name(node)),
    }
}

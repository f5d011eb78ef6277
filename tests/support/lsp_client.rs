//! A language-server client for tests: starts `envc lsp` in a project, speaks JSON-RPC to
//! it over its standard input and output as an editor does, and keeps the notifications it
//! sends.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications received while waiting for something else.
    pub notifications: Vec<Value>,
    next_id: i64,
    pub root: PathBuf,
    versions: std::collections::HashMap<String, i64>,
}

const PATIENCE: Duration = Duration::from_secs(60);

impl Client {
    /// Starts the server on the project in `root` and initialises it (UTF-16 positions, as
    /// VS Code asks).
    pub fn start(root: &Path) -> Client {
        Client::start_with(root, &[])
    }

    /// [`Client::start`], with `vars` set in the server's environment.
    pub fn start_with(root: &Path, vars: &[(&str, &str)]) -> Client {
        let mut client = Client::spawn_with(root, vars);
        client.initialize();
        client
    }

    /// Starts the server on the project in `root`, not yet initialised.
    pub fn spawn_with(root: &Path, vars: &[(&str, &str)]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_envc"))
            .arg("lsp")
            .envs(vars.iter().copied())
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("ENVC_NO_CACHE")
            .spawn()
            .expect("start envc lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            notifications: Vec::new(),
            next_id: 1,
            root: root.to_path_buf(),
            versions: Default::default(),
        }
    }

    /// `initialize` (UTF-16 positions, as VS Code asks) and `initialized`.
    pub fn initialize(&mut self) {
        let client = self;
        let root_uri = client.uri("");
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": { "general": { "positionEncodings": ["utf-16"] } },
            }),
        );
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
        client.notify("initialized", json!({}));
    }

    /// `file://` URI of a project file.
    pub fn uri(&self, relative: &str) -> String {
        let root = std::fs::canonicalize(&self.root).unwrap();
        let path = if relative.is_empty() {
            root
        } else {
            root.join(relative)
        };
        format!("file://{}", path.display()).replace(' ', "%20")
    }

    fn send(&mut self, message: Value) {
        self.send_body(&message.to_string());
    }

    /// Sends `body` framed as one message, whatever it holds.
    pub fn send_body(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next answer to a request, past the notifications before it.
    pub fn next_response(&mut self) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.next(deadline).expect("an answer");
            if message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// Says `exit` (with no `shutdown` before it, unless the test sent one) and returns the
    /// server's exit code.
    pub fn exit(mut self) -> i32 {
        self.notify("exit", Value::Null);
        self.child.wait().unwrap().code().unwrap_or(-1)
    }

    /// Closes the server's input without `exit` and returns its exit code.
    pub fn hang_up(self) -> i32 {
        let Client {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        child.wait().unwrap().code().unwrap_or(-1)
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its result (panics on an error response).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let message = self.ask(method, params);
        assert!(message.get("error").is_none(), "{method}: {message}");
        message["result"].clone()
    }

    /// Sends a request and waits for the whole response, an error response included.
    pub fn ask(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self
                .next(deadline)
                .unwrap_or_else(|| panic!("no answer to {method}"));
            if message["id"] == id && message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn next(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.messages.recv_timeout(left).ok()
    }

    /// Opens a project file in the editor: with its text on disk, or `text`.
    pub fn open(&mut self, relative: &str, text: Option<&str>) {
        let text = match text {
            Some(text) => text.to_string(),
            None => std::fs::read_to_string(self.root.join(relative)).unwrap(),
        };
        let uri = self.uri(relative);
        self.versions.insert(uri.clone(), 1);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "kdl", "version": 1, "text": text } }),
        );
    }

    /// Replaces an open buffer's text (not saved).
    pub fn change(&mut self, relative: &str, text: &str) {
        let uri = self.uri(relative);
        let version = self.versions.entry(uri.clone()).or_insert(1);
        *version += 1;
        let version = *version;
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "text": text }],
            }),
        );
    }

    /// Waits for diagnostics of `relative` for which `wanted` holds, and returns them.
    pub fn diagnostics_until(
        &mut self,
        relative: &str,
        wanted: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let uri = self.uri(relative);
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            let matching = |m: &Value| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
            };
            // Newest first among those kept, then what arrives.
            if let Some(at) = self.notifications.iter().rposition(matching) {
                let message = self.notifications.remove(at);
                let list = message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if wanted(&list) {
                    self.notifications.retain(|m| !matching(m));
                    return list;
                }
                seen.push(list);
            }
            match self.next(deadline) {
                Some(message) => self.notifications.push(message),
                None => panic!("no diagnostics as wanted for {relative}; last seen: {seen:#?}"),
            }
        }
    }

    /// `textDocument/position` parameters at the first occurrence of `needle` in the
    /// buffer's `text`, `offset` bytes into it.
    pub fn at(&self, relative: &str, text: &str, needle: &str, offset: usize) -> Value {
        let at = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in {relative}"))
            + offset;
        let line = text[..at].matches('\n').count();
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let character = text[line_start..at].encode_utf16().count();
        json!({
            "textDocument": { "uri": self.uri(relative) },
            "position": { "line": line, "character": character },
        })
    }

    pub fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "envc lsp exited with {status}");
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

//! The language server over an in-memory connection, sent a sequence of messages the fuzzer
//! chooses: buffers opened, changed and closed with any text, and every request the server
//! answers at any position, plus requests and notifications of any method. Every request
//! gets one answer, and after `shutdown` and `exit` the server ends.
#![no_main]

use std::path::Path;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::json;

#[derive(Arbitrary, Debug)]
enum Step {
    Open { file: u8, text: String },
    Change { file: u8, text: String },
    Close { file: u8 },
    Save { file: u8 },
    Ask { method: Method, file: u8, line: u8, character: u16 },
    Cancel { request: u8 },
    Other { method: String, params: String, request: bool },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Method {
    Hover,
    Completion,
    Definition,
    References,
    CodeAction,
    Formatting,
}

const FILES: &[&str] = &["env/base.kdl", "env/dev.kdl", "env/fuzz.kdl", "stacks.kdl", "loose.kdl"];

fuzz_target!(|steps: Vec<Step>| {
    std::env::set_var("ENVC_NO_CACHE", "1");
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::create_dir_all(dir.path().join("env")).expect("env dir");
    for file in ["stacks.kdl", "env/base.kdl", "env/dev.kdl"] {
        std::fs::copy(root.join(file), dir.path().join(file)).expect("project file");
    }
    let project = dir.path().to_path_buf();
    let uri = |file: u8| {
        let path = project.join(FILES[usize::from(file) % FILES.len()]);
        format!("file://{}", path.display())
    };
    let (server, client) = Connection::memory();
    let served = {
        let project = project.clone();
        std::thread::spawn(move || envc_lsp::serve(server, &project))
    };
    let root_uri = format!("file://{}", project.display());
    let send = |message: Message| client.sender.send(message).expect("server is listening");
    send(Request::new(RequestId::from(0), "initialize".into(), json!({ "rootUri": root_uri, "capabilities": {} })).into());
    send(Notification::new("initialized".into(), json!({})).into());
    let mut asked = 1;
    for step in steps.into_iter().take(64) {
        let (method, params, request) = match step {
            Step::Open { file, text } => ("textDocument/didOpen".to_string(), json!({ "textDocument": { "uri": uri(file), "languageId": "kdl", "version": 1, "text": text } }), false),
            Step::Change { file, text } => ("textDocument/didChange".to_string(), json!({ "textDocument": { "uri": uri(file), "version": 2 }, "contentChanges": [{ "text": text }] }), false),
            Step::Close { file } => ("textDocument/didClose".to_string(), json!({ "textDocument": { "uri": uri(file) } }), false),
            Step::Save { file } => ("textDocument/didSave".to_string(), json!({ "textDocument": { "uri": uri(file) } }), false),
            Step::Ask { method, file, line, character } => {
                let at = json!({ "line": line, "character": character });
                let document = json!({ "uri": uri(file) });
                let (name, params) = match method {
                    Method::Hover => ("textDocument/hover", json!({ "textDocument": document, "position": at })),
                    Method::Completion => ("textDocument/completion", json!({ "textDocument": document, "position": at })),
                    Method::Definition => ("textDocument/definition", json!({ "textDocument": document, "position": at })),
                    Method::References => ("textDocument/references", json!({ "textDocument": document, "position": at, "context": { "includeDeclaration": true } })),
                    Method::CodeAction => ("textDocument/codeAction", json!({ "textDocument": document, "range": { "start": at, "end": at }, "context": { "diagnostics": [] } })),
                    Method::Formatting => ("textDocument/formatting", json!({ "textDocument": document, "options": { "tabSize": 4, "insertSpaces": true } })),
                };
                (name.to_string(), params, true)
            }
            Step::Cancel { request } => ("$/cancelRequest".to_string(), json!({ "id": request }), false),
            Step::Other { method, params, request } => {
                if matches!(method.as_str(), "shutdown" | "exit" | "initialize") {
                    continue;
                }
                let params = serde_json::from_str(&params).unwrap_or(json!(params));
                (method, params, request)
            }
        };
        if request {
            send(Request::new(RequestId::from(asked), method, params).into());
            asked += 1;
        } else {
            send(Notification::new(method, params).into());
        }
    }
    send(Request::new(RequestId::from(asked), "shutdown".into(), json!(null)).into());
    send(Notification::new("exit".into(), json!(null)).into());
    let mut answered = std::collections::HashSet::new();
    while let Ok(message) = client.receiver.recv() {
        if let Message::Response(response) = message {
            assert!(answered.insert(response.id.clone()), "two answers to {:?}", response.id);
        }
    }
    let ended = served.join().expect("the server does not panic").expect("the server ends cleanly");
    assert_eq!(ended, envc_lsp::Ended::AfterShutdown);
    assert_eq!(answered.len(), asked as usize + 1, "every request is answered once");
});

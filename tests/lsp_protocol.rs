//! The language server as an editor strains it: buffers that are not KDL, a bug in one
//! answer, methods it does not know, cancelled requests, completions typed into text the
//! editor has already closed, and problems an environment inherits.

use crate::support;

use serde_json::{json, Value};
use support::lsp_client::Client;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::copy_project(support::root(), dir.path());
    dir
}

fn hover_text(client: &mut Client, relative: &str, text: &str, needle: &str) -> String {
    let at = client.at(relative, text, needle, 1);
    client.request("textDocument/hover", at)["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn hostile_buffers_and_a_panicking_request_leave_the_server_answering() {
    let dir = project();
    let mut client = Client::start_with(dir.path(), &[("ENVC_LSP_TEST_PANIC", "envc/crash")]);
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);

    // A bug in one answer is an error answer; the server goes on.
    let crashed = client.ask("envc/crash", json!({}));
    assert_eq!(crashed["error"]["code"], -32603, "{crashed}");
    assert!(hover_text(&mut client, "env/base.kdl", &base, "instance-class").contains("dev"));

    // A method envc does not answer.
    let unknown = client.ask("textDocument/semanticTokens/full", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // Parameters of the wrong shape.
    let malformed = client.ask("textDocument/hover", json!({ "position": 3 }));
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");

    // Buffers that are not KDL: a stray `)`, random bytes, five megabytes of text. Every
    // request about them is answered.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let random: String = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from_u32((state % 0x250) as u32).unwrap_or('?')
        })
        .collect();
    let big = "node \"value\" key=1 { child ) }\n".repeat(5 * 1024 * 1024 / 32);
    for text in [")".to_string(), random, big] {
        client.open("env/zz.kdl", Some(&text));
        for (line, character) in [(0, 0), (0, 1), (3, 5), (100_000, 2)] {
            let at = json!({ "line": line, "character": character });
            let position =
                json!({ "textDocument": { "uri": client.uri("env/zz.kdl") }, "position": at });
            for method in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/definition",
            ] {
                let answer = client.ask(method, position.clone());
                assert!(answer.get("error").is_none(), "{method}: {answer}");
            }
        }
        let formatting = client.ask(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": client.uri("env/zz.kdl") }, "options": { "tabSize": 4, "insertSpaces": true } }),
        );
        assert!(formatting.get("error").is_none(), "{formatting}");
        client.diagnostics_until("env/zz.kdl", |list| !list.is_empty());
    }
    assert!(hover_text(&mut client, "env/base.kdl", &base, "instance-class").contains("dev"));
    client.shutdown();
}

/// The text after applying a completion item's edit to `text`, whose lines are all ASCII.
fn apply(text: &str, item: &Value) -> String {
    let edit = &item["textEdit"];
    let offset = |at: &Value| {
        let line = at["line"].as_u64().unwrap() as usize;
        let line_start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        line_start + at["character"].as_u64().unwrap() as usize
    };
    let (start, end) = (
        offset(&edit["range"]["start"]),
        offset(&edit["range"]["end"]),
    );
    format!(
        "{}{}{}",
        &text[..start],
        edit["newText"].as_str().unwrap(),
        &text[end..]
    )
}

#[test]
fn completion_replaces_the_whole_token_and_offers_no_cycle_and_no_key_set_already() {
    let dir = project();
    let mut client = Client::start(dir.path());

    // The editor closed the quote already: the completion replaces it.
    let typed = "// typed\nextends \"\"\n";
    client.open("env/staging2.kdl", Some(typed));
    let items = client.request(
        "textDocument/completion",
        client.at("env/staging2.kdl", typed, "\"\"", 1),
    );
    let staging = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "\"staging\"")
        .unwrap_or_else(|| panic!("{items}"));
    let completed = apply(typed, staging);
    assert_eq!(completed, "// typed\nextends \"staging\"\n");
    let mut sources = envc::source::SourceMap::default();
    let file = sources.add("staging2.kdl", completed);
    assert!(envc::parse::syntax_problems(file, &sources).is_empty());

    // staging's own children would make a cycle: not offered to staging.
    let staging2 = std::fs::read_to_string(dir.path().join("env/staging2.kdl")).unwrap();
    client.change("env/staging2.kdl", &staging2);
    let staging_text = std::fs::read_to_string(dir.path().join("env/staging.kdl")).unwrap();
    let typing = staging_text.replace("extends \"base\"", "extends \"");
    client.open("env/staging.kdl", Some(&typing));
    let items = client.request(
        "textDocument/completion",
        client.at("env/staging.kdl", &typing, "extends \"", 9),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"\"base\""), "{labels:?}");
    for cycle in ["\"staging\"", "\"staging2\"", "\"local\""] {
        assert!(
            !labels.contains(&cycle),
            "{cycle} would make a cycle: {labels:?}"
        );
    }

    // Keys the block sets already, before or after the cursor, are not offered again.
    let typing = staging_text.replace("    storage-gb 50\n", "    stor\n    storage-gb 50\n");
    let typing = typing.replace("    instance-class \"db.t3.small\"\n", "");
    client.change("env/staging.kdl", &typing);
    let typing = typing.replace("    stor\n", "    \n");
    client.change("env/staging.kdl", &typing);
    let items = client.request(
        "textDocument/completion",
        client.at("env/staging.kdl", &typing, "    \n    storage-gb", 4),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"instance-class"), "{labels:?}");
    assert!(
        !labels.contains(&"storage-gb"),
        "set after the cursor: {labels:?}"
    );
    client.shutdown();
}

#[test]
fn a_problem_an_environment_inherits_is_shown_on_its_own_file() {
    let dir = project();
    let mut client = Client::start(dir.path());
    // staging2 stops setting its own range: it inherits staging's, which staging uses too.
    let inheriting = "extends \"staging\"\n";
    client.open("env/staging2.kdl", Some(inheriting));
    let found = client.diagnostics_until("env/staging2.kdl", |list| {
        list.iter()
            .any(|d| d["code"] == "envc::network::cidr-overlap")
    });
    let shown = found
        .iter()
        .find(|d| d["code"] == "envc::network::cidr-overlap")
        .unwrap();
    assert_eq!(
        shown["range"]["start"],
        json!({ "line": 0, "character": 8 }),
        "{shown}"
    );
    assert!(
        shown["message"].as_str().unwrap().contains("staging2"),
        "{shown}"
    );
    let set_at = &shown["relatedInformation"][0]["location"]["uri"];
    assert_eq!(set_at, &json!(client.uri("env/staging.kdl")), "{shown}");
    client.shutdown();
}

#[test]
fn a_request_cancelled_while_it_waits_is_answered_as_cancelled() {
    use lsp_server::{Connection, Message, Notification, Request, RequestId};
    let dir = project();
    let (server, client) = Connection::memory();
    let uri = format!(
        "file://{}/env/base.kdl",
        dir.path().canonicalize().unwrap().display()
    );
    let position =
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 0 } });
    let root_uri = format!("file://{}", dir.path().canonicalize().unwrap().display());
    // Everything is sent before the server reads anything: the cancellation is queued
    // behind the request it cancels.
    let messages: Vec<Message> = vec![
        Request::new(
            RequestId::from(0),
            "initialize".into(),
            json!({ "rootUri": root_uri, "capabilities": {} }),
        )
        .into(),
        Notification::new("initialized".into(), json!({})).into(),
        Request::new(
            RequestId::from(1),
            "textDocument/hover".into(),
            position.clone(),
        )
        .into(),
        Request::new(RequestId::from(2), "textDocument/hover".into(), position).into(),
        Notification::new("$/cancelRequest".into(), json!({ "id": 2 })).into(),
        Request::new(RequestId::from(3), "shutdown".into(), json!(null)).into(),
        Notification::new("exit".into(), json!(null)).into(),
    ];
    for message in messages {
        client.sender.send(message).unwrap();
    }
    let root = dir.path().to_path_buf();
    let served = std::thread::spawn(move || envc::lsp::serve(server, &root));
    let mut answers = std::collections::BTreeMap::new();
    while let Ok(message) = client.receiver.recv() {
        if let Message::Response(response) = message {
            answers.insert(
                format!("{}", response.id),
                serde_json::to_value(&response).unwrap(),
            );
        }
    }
    served.join().unwrap().unwrap();
    assert!(answers["1"].get("error").is_none(), "{}", answers["1"]);
    assert_eq!(answers["2"]["error"]["code"], -32800, "{}", answers["2"]);
    assert!(answers.contains_key("3"));
}

/// The byte offset of a protocol position in ASCII `text`, lines broken by `\n`, `\r\n` and
/// a lone `\r`, as the protocol counts them (independently of envc's own counting).
fn protocol_offset(text: &str, at: &Value) -> usize {
    let (line, character) = (
        at["line"].as_u64().unwrap(),
        at["character"].as_u64().unwrap(),
    );
    let bytes = text.as_bytes();
    let (mut current, mut start, mut i) = (0, 0, 0);
    while current < line && i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 1,
            b'\r' | b'\n' => {}
            _ => {
                i += 1;
                continue;
            }
        }
        i += 1;
        current += 1;
        start = i;
    }
    let end = text[start..]
        .find(['\r', '\n'])
        .map_or(text.len(), |e| start + e);
    (start + character as usize).min(end)
}

#[test]
fn formatting_a_buffer_of_carriage_returns_gives_the_formatted_text_and_nothing_more() {
    let dir = project();
    let mut client = Client::start(dir.path());
    let text = "network {\r    cidr   \"10.9.0.0/16\"\r}\r// end\r";
    client.open("env/zz.kdl", Some(text));
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": client.uri("env/zz.kdl") }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1, "{edits:?}");
    let range = &edits[0]["range"];
    let (start, end) = (
        protocol_offset(text, &range["start"]),
        protocol_offset(text, &range["end"]),
    );
    let applied = format!(
        "{}{}{}",
        &text[..start],
        edits[0]["newText"].as_str().unwrap(),
        &text[end..]
    );
    let mut sources = envc::source::SourceMap::default();
    let file = sources.add("zz.kdl", text.to_string());
    assert_eq!(applied, envc::format::format_file(file, &sources).unwrap());
    client.shutdown();
}

#[test]
fn malformed_messages_get_protocol_errors_and_the_server_goes_on() {
    let dir = project();
    let mut client = Client::start(dir.path());
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);

    // Not JSON (holding a credential): ParseError, with nothing of the message repeated.
    client.send_body(r#"{"jsonrpc": "2.0", "id": 40, "method": "textDocument/hover", "params": {AKIAIOSFODNN7EXAMPLE"#);
    let parse_error = client.next_response();
    assert_eq!(parse_error["error"]["code"], -32700, "{parse_error}");
    assert!(!parse_error.to_string().contains("AKIA"), "{parse_error}");
    // JSON that is no JSON-RPC message: InvalidRequest, answered by its id.
    client.send_body(r#"{"jsonrpc": "2.0", "id": 41, "params": "AKIAIOSFODNN7EXAMPLE"}"#);
    let invalid = client.next_response();
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    assert_eq!(invalid["id"], 41);
    // A second `initialize` is a request out of place.
    let again = client.ask("initialize", json!({ "capabilities": {} }));
    assert_eq!(again["error"]["code"], -32600, "{again}");
    // A request whose id is no JSON-RPC id is refused, not taken for a notification (which
    // would leave the client waiting for an answer).
    for id in [r#"{"a": 1}"#, "1.5", "99999999999999999999", "null"] {
        client.send_body(&format!(
            r#"{{"jsonrpc": "2.0", "id": {id}, "method": "textDocument/hover", "params": {{}}}}"#
        ));
        let refused = client.next_response();
        assert_eq!(refused["error"]["code"], -32600, "{id}: {refused}");
    }
    // Parameters of the wrong shape holding a credential: InvalidParams, not repeated.
    let wrong = client.ask(
        "textDocument/hover",
        json!({ "textDocument": "AKIAIOSFODNN7EXAMPLE" }),
    );
    assert_eq!(wrong["error"]["code"], -32602, "{wrong}");
    assert!(!wrong.to_string().contains("AKIA"), "{wrong}");

    assert!(hover_text(&mut client, "env/base.kdl", &base, "instance-class").contains("dev"));
    // After `shutdown`, requests are refused until `exit`, which then ends the server with 0.
    client.request("shutdown", Value::Null);
    let late = client.ask(
        "textDocument/hover",
        client.at("env/base.kdl", &base, "instance-class", 1),
    );
    assert_eq!(late["error"]["code"], -32600, "{late}");
    assert_eq!(client.exit(), 0);
}

#[test]
fn exit_without_shutdown_exits_with_one() {
    let dir = project();
    let client = Client::start(dir.path());
    assert_eq!(client.exit(), 1);
}

#[test]
fn an_initialize_unlike_the_protocol_is_answered_and_another_may_follow() {
    let dir = project();
    let mut client = Client::spawn_with(dir.path(), &[]);
    let refused = client.ask(
        "initialize",
        json!({ "capabilities": "AKIAIOSFODNN7EXAMPLE" }),
    );
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert!(!refused.to_string().contains("AKIA"), "{refused}");
    client.initialize();
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);
    assert!(hover_text(&mut client, "env/base.kdl", &base, "instance-class").contains("dev"));
    client.shutdown();
}

/// Before `initialize`, a request is refused without repeating it (its parameters may hold a
/// credential), and `exit` ends the server as an `exit` without `shutdown` does.
#[test]
fn before_initialize_requests_are_refused_unrepeated_and_exit_exits_with_one() {
    let dir = project();
    let mut client = Client::spawn_with(dir.path(), &[]);
    let refused = client.ask(
        "workspace/executeCommand",
        json!({ "command": "x", "arguments": ["AKIAIOSFODNN7EXAMPLE"] }),
    );
    assert_eq!(refused["error"]["code"], -32002, "{refused}");
    assert!(!refused.to_string().contains("AKIA"), "{refused}");
    assert_eq!(client.exit(), 1);
}

/// A client gone after `shutdown` (without `exit`) ended the session in order.
#[test]
fn a_client_gone_after_shutdown_ends_it_in_order() {
    let dir = project();
    let mut client = Client::start(dir.path());
    client.request("shutdown", Value::Null);
    assert_eq!(client.hang_up(), 0);
}

#[test]
fn formatting_a_file_that_is_a_named_pipe_answers_at_once() {
    let dir = project();
    let fifo = dir.path().join("env/pipe.kdl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let mut client = Client::start(dir.path());
    let answer = client.ask(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": client.uri("env/pipe.kdl") }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(answer["result"], Value::Null, "{answer}");
    client.shutdown();
}

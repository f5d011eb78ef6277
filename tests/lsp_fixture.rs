//! The language server's answers as fixtures: each `tests/lsp_fixtures/*.fixture` is a small
//! project, a cursor (`$0`) in one of its files, and the request made there. The server runs
//! in process on an in-memory connection; its answer is snapshot-tested
//! (`tests/snapshots/integration__lsp_fixture__answer@NAME.fixture.snap`), with the project's
//! folder written `$PROJECT`. Adding a case is adding a file; run
//! `INSTA_UPDATE=always cargo nextest run -E 'test(/lsp_fixture/)'` and review the snapshot.
//!
//!     # request: hover                   (hover | completion | definition | code-action)
//!     --- env/dev.kdl
//!     …text, with `$0` where the cursor is…
//!
//! Files not given come from `tests/cases/_default/` (a `stacks.kdl`). The stdio tests
//! (`tests/lsp_protocol.rs`) stay for the protocol itself.

use envc::lsp::{position::uri_of, Encoding, Server};
use serde_json::json;

const CURSOR: &str = "$0";

struct Fixture {
    request: String,
    files: Vec<(String, String)>,
}

fn read_fixture(text: &str) -> Fixture {
    let mut fixture = Fixture {
        request: String::new(),
        files: Vec::new(),
    };
    for line in text.lines() {
        if let Some(request) = line.strip_prefix("# request:") {
            fixture.request = request.trim().to_string();
        } else if let Some(name) = line.strip_prefix("--- ") {
            fixture.files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = fixture.files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    fixture
}

/// The cursor's file, its text without the marker, and the marker's line and column (the
/// fixtures are ASCII, so a column is the same in every encoding).
fn take_cursor(files: &mut [(String, String)]) -> (String, String, u32, u32) {
    let marked: Vec<usize> = (0..files.len())
        .filter(|i| files[*i].1.contains(CURSOR))
        .collect();
    assert_eq!(marked.len(), 1, "one file holds the cursor `{CURSOR}`");
    let (path, text) = &mut files[marked[0]];
    let at = text.find(CURSOR).unwrap();
    let line = text[..at].matches('\n').count() as u32;
    let column = (at - text[..at].rfind('\n').map_or(0, |n| n + 1)) as u32;
    text.replace_range(at..at + CURSOR.len(), "");
    (path.clone(), text.clone(), line, column)
}

fn ask(
    server: &Server,
    request: &str,
    uri: &lsp_types::Uri,
    line: u32,
    column: u32,
) -> serde_json::Value {
    let position = json!({ "line": line, "character": column });
    let document = json!({ "uri": uri });
    let (method, params) = match request {
        "hover" => (
            "textDocument/hover",
            json!({ "textDocument": document, "position": position }),
        ),
        "completion" => (
            "textDocument/completion",
            json!({ "textDocument": document, "position": position }),
        ),
        "definition" => (
            "textDocument/definition",
            json!({ "textDocument": document, "position": position }),
        ),
        "code-action" => (
            "textDocument/codeAction",
            json!({
                "textDocument": document,
                "range": { "start": position, "end": position },
                "context": { "diagnostics": [] },
            }),
        ),
        other => panic!("unknown request `{other}`: hover, completion, definition or code-action"),
    };
    server
        .handle_json(method, params)
        .unwrap_or_else(|refusal| panic!("{method} was refused: {}", refusal.message))
}

#[test]
fn answer() {
    insta::glob!("lsp_fixtures/*.fixture", |fixture_path| {
        let mut fixture = read_fixture(&std::fs::read_to_string(fixture_path).unwrap());
        let (cursor_file, text, line, column) = take_cursor(&mut fixture.files);
        let project = tempfile::tempdir().unwrap();
        let root = project.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("env")).unwrap();
        let defaults = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/cases/_default/stacks.kdl");
        std::fs::copy(defaults, root.join("stacks.kdl")).unwrap();
        for (path, body) in &fixture.files {
            std::fs::write(
                root.join(path),
                if *path == cursor_file { &text } else { body },
            )
            .unwrap();
        }
        let (server_side, _client) = lsp_server::Connection::memory();
        let mut server = Server::new(server_side, root.clone(), Encoding::Utf16, false);
        let uri = uri_of(&root.join(&cursor_file));
        server.set_buffer(&uri, Some(text.clone()));
        let answer = ask(&server, &fixture.request, &uri, line, column);
        let shown = serde_json::to_string_pretty(&answer)
            .unwrap()
            .replace(&uri_of(&root).to_string(), "$PROJECT");
        insta::assert_snapshot!(shown);
    });
}

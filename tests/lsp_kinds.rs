//! `envc lsp` on a project whose kind's schema is out of bounds: the kind is refused with
//! its problem shown in the schema file, and the editor's questions about the environments
//! are still answered (a `$ref` cycle used to hang hover).

use crate::support;

use support::lsp_client::Client;

const CYCLIC: &str = r##"{
  "type": "object",
  "properties": { "node-type": { "$ref": "#/$defs/a" } },
  "$defs": { "a": { "$ref": "#/$defs/b" }, "b": { "$ref": "#/$defs/a" } }
}
"##;

#[test]
fn a_kind_whose_refs_go_round_is_refused_and_hover_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    support::copy_project(&support::root().join("examples/kinds"), dir.path());
    std::fs::write(dir.path().join("kinds/redis.schema.json"), CYCLIC).unwrap();
    let mut client = Client::start(dir.path());
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);

    let found = client.diagnostics_until("kinds/redis.schema.json", |l| !l.is_empty());
    let problem = &found[0];
    assert_eq!(problem["code"], "envc::kind::definition", "{problem}");
    assert!(
        problem["message"].as_str().unwrap().contains("cycle"),
        "{problem}"
    );
    // At the `$ref` that closes the cycle, on the line of the definitions.
    assert_eq!(problem["range"]["start"]["line"], 3, "{problem}");

    let refused = client.request(
        "textDocument/hover",
        client.at("env/base.kdl", &base, "node-type", 2),
    );
    // The refused kind's setting: its values in each environment, with no reference.
    let text = refused["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.starts_with("**`cache.node-type`**\n"), "{refused}");
    assert!(
        text.contains("dev: \"cache.t4g.micro\" (here)"),
        "{refused}"
    );
    // A setting of a built-in kind: what the reference says, as ever.
    let hover = client.request(
        "textDocument/hover",
        client.at("env/base.kdl", &base, "nat-gateways", 2),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("network.nat-gateways"), "{hover}");
    // Completion inside the refused kind's block is answered too (with no error).
    client.request(
        "textDocument/completion",
        client.at("env/base.kdl", &base, "cache {\n    ", 12),
    );
    client.shutdown();
}

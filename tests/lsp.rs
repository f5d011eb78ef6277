//! `envc lsp` driven over JSON-RPC as an editor drives it: a client starts the real server
//! on a copy of a project, opens and edits buffers without saving, and checks each
//! capability.

use crate::support;

use std::path::Path;

use serde_json::{json, Value};
use support::lsp_client::Client;

fn project(from: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::copy_project(&support::root().join(from), dir.path());
    dir
}

fn codes(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn has_code(list: &[Value], code: &str) -> bool {
    codes(list).iter().any(|c| c == code)
}

#[test]
fn problems_of_unsaved_buffers_as_you_type_in_every_file_an_edit_affects() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    a_typo_in_a_child_is_found_in_the_unsaved_buffer(&mut client, dir.path());
    an_edit_to_base_is_every_childs_problem(&mut client, dir.path());
    stacks_kdl_is_a_project_file_like_the_others(&mut client, dir.path());
    a_change_that_renders_differently_makes_the_golden_files_stale(&mut client, dir.path());
    client.shutdown();
}

/// A typo in a child: found in the unsaved buffer, with its did-you-mean (the file on disk
/// unchanged); fixed again, the file's problems are cleared.
fn a_typo_in_a_child_is_found_in_the_unsaved_buffer(client: &mut Client, dir: &Path) {
    let staging2 = std::fs::read_to_string(dir.join("env/staging2.kdl")).unwrap();
    client.open("env/staging2.kdl", None);
    let typo = staging2.replace("    cidr \"10.2.0.0/16\"", "    cidrr \"10.2.0.0/16\"");
    client.change("env/staging2.kdl", &typo);
    let found = client.diagnostics_until("env/staging2.kdl", |l| {
        has_code(l, "envc::schema::unknown-key")
    });
    // (staging2 now inherits staging's range too: that problem is shown here as well.)
    let problem = found
        .iter()
        .find(|d| d["code"] == "envc::schema::unknown-key")
        .unwrap();
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `cidr`?"),
        "{problem}"
    );
    assert_eq!(problem["severity"], 1);
    assert_eq!(
        problem["range"]["start"],
        json!({ "line": 4, "character": 4 })
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("env/staging2.kdl")).unwrap(),
        staging2
    );

    // Fixed again: the file's problems are cleared.
    client.change("env/staging2.kdl", &staging2);
    client.diagnostics_until("env/staging2.kdl", |l| l.is_empty());
}

/// An edit to base.kdl: its problem is every child's, and says so.
fn an_edit_to_base_is_every_childs_problem(client: &mut Client, dir: &Path) {
    let base = std::fs::read_to_string(dir.join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);
    client.change("env/base.kdl", &base.replace("port 4000", "port \"4000\""));
    let found = client.diagnostics_until("env/base.kdl", |l| has_code(l, "envc::schema::type"));
    let message = found[0]["message"].as_str().unwrap();
    for child in ["dev", "staging", "staging2", "prod", "local"] {
        assert!(
            message.contains(&format!("environment `{child}`")),
            "{message}"
        );
    }
    client.change("env/base.kdl", &base);
    client.diagnostics_until("env/base.kdl", |l| l.is_empty());
}

/// stacks.kdl is a project file like the others.
fn stacks_kdl_is_a_project_file_like_the_others(client: &mut Client, dir: &Path) {
    let stacks = std::fs::read_to_string(dir.join("stacks.kdl")).unwrap();
    client.open("stacks.kdl", None);
    client.change(
        "stacks.kdl",
        &stacks.replace("needs \"api\" \"jobs\"", "needs \"apii\" \"jobs\""),
    );
    let found = client.diagnostics_until("stacks.kdl", |l| has_code(l, "envc::stack::unknown"));
    assert_eq!(found[0]["data"]["suggestion"], "api");
    client.change("stacks.kdl", &stacks);
    client.diagnostics_until("stacks.kdl", |l| l.is_empty());
}

/// A change that renders differently: the golden files are stale, as a hint on the
/// environment's file once the full check has run.
fn a_change_that_renders_differently_makes_the_golden_files_stale(client: &mut Client, dir: &Path) {
    let dev = std::fs::read_to_string(dir.join("env/dev.kdl")).unwrap();
    client.open("env/dev.kdl", None);
    client.change(
        "env/dev.kdl",
        &dev.replace("budget-usd 100", "budget-usd 110"),
    );
    let found = client.diagnostics_until("env/dev.kdl", |l| has_code(l, "envc::golden::stale"));
    assert!(found.iter().all(|d| d["severity"] == 4), "{found:#?}");
    assert!(found[0]["message"]
        .as_str()
        .unwrap()
        .contains("golden/dev/monitoring.yaml"));
}

#[test]
fn a_project_in_a_folder_of_the_repository_is_found_from_the_file_opened() {
    let repository = tempfile::tempdir().unwrap();
    support::copy_project(support::root(), &repository.path().join("infra"));
    let mut client = Client::start(repository.path());
    let text = std::fs::read_to_string(repository.path().join("infra/env/staging2.kdl")).unwrap();
    client.open(
        "infra/env/staging2.kdl",
        Some(&text.replace("    cidr ", "    cidrr ")),
    );
    let found = client.diagnostics_until("infra/env/staging2.kdl", |l| {
        has_code(l, "envc::schema::unknown-key")
    });
    let typo = found
        .iter()
        .find(|d| d["code"] == "envc::schema::unknown-key")
        .unwrap();
    assert_eq!(typo["range"]["start"]["line"], 4);
    client.shutdown();
}

#[test]
fn problems_of_project_templates_are_shown_in_the_template() {
    let dir = project("examples/kinds");
    let template = dir.path().join("kinds/redis.yaml.j2");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(
        &template,
        format!("{{{{ settings.no_such_setting.deeper }}}}\n{text}"),
    )
    .unwrap();
    let mut client = Client::start(dir.path());
    let found = client.diagnostics_until("kinds/redis.yaml.j2", |l| {
        has_code(l, "envc::render::template")
    });
    assert_eq!(found[0]["range"]["start"]["line"], 0);
    client.shutdown();
}

#[test]
fn hover_gives_the_reference_and_every_environments_value_with_who_set_it() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);
    let hover = client.request(
        "textDocument/hover",
        client.at("env/base.kdl", &base, "instance-class", 3),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.starts_with("**`database.instance-class`** · string"),
        "{text}"
    );
    for expected in [
        "dev: \"db.t3.micro\" (here)",
        "staging: \"db.t3.small\" (env/staging.kdl:9)",
        "staging2: \"db.t3.small\" (from staging)",
        "prod: \"db.t3.medium\" (env/prod.kdl:",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert!(
        !text.contains("base:"),
        "an abstract environment has no value of its own: {text}"
    );

    // A `${ref}`: what it resolves to in each environment.
    let hover = client.request(
        "textDocument/hover",
        client.at("env/base.kdl", &base, "${env}-api", 3),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("dev: \"dev\"") && text.contains("staging2: \"staging2\""),
        "{text}"
    );

    // A setting of a child: its description and default.
    let staging = std::fs::read_to_string(dir.path().join("env/staging.kdl")).unwrap();
    client.open("env/staging.kdl", None);
    let hover = client.request(
        "textDocument/hover",
        client.at("env/staging.kdl", &staging, "rate-limit", 2),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("waf.rate-limit") && text.contains("staging: 2000 (here)"),
        "{text}"
    );
    assert!(
        text.contains("staging2: 2000 (here)") && text.contains("local: not set"),
        "{text}"
    );
    client.shutdown();
}

#[test]
fn hover_on_a_key_holding_a_dot_shows_its_value_in_every_environment() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    let edited = base.replace(
        "tags {\n",
        "tags {\n    \"cost.center\" \"42\"\n    owner #\"team ${tags.\"cost.center\"}\"#\n",
    );
    assert_ne!(edited, base, "the example's base has a tags block");
    client.open("env/base.kdl", Some(&edited));
    let hover = client.request(
        "textDocument/hover",
        client.at("env/base.kdl", &edited, "cost.center", 3),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("**`tags.\"cost.center\"`**"), "{text}");
    for env in ["dev", "staging", "staging2", "prod"] {
        let expected = format!("{env}: \"42\" (here)");
        assert!(text.contains(&expected), "{expected:?} not in {text}");
    }
    assert!(!text.contains("not set"), "{text}");

    // The same key named by a `${ref}`: what it resolves to in each environment.
    let hover = client.request(
        "textDocument/hover",
        client.at("env/base.kdl", &edited, "${tags.", 3),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    for env in ["dev", "staging", "staging2", "prod"] {
        let expected = format!("{env}: \"42\"");
        assert!(text.contains(&expected), "{expected:?} not in {text}");
    }
    assert!(!text.contains("no such value"), "{text}");

    // Going to its definition lands on the value the key holds.
    let found = client.request(
        "textDocument/definition",
        client.at("env/base.kdl", &edited, "${tags.", 3),
    );
    let line = edited[..edited.find("\"42\"").unwrap()]
        .matches('\n')
        .count();
    assert_eq!(found["uri"], client.uri("env/base.kdl"), "{found}");
    assert_eq!(found["range"]["start"]["line"], line, "{found}");
    client.shutdown();
}

fn labels(completion: &Value) -> Vec<String> {
    completion
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

/// The labels of the completion at `offset` bytes into `needle` in the buffer `text` of
/// `relative`.
fn complete(
    client: &mut Client,
    relative: &str,
    text: &str,
    needle: &str,
    offset: usize,
) -> Vec<String> {
    labels(&client.request(
        "textDocument/completion",
        client.at(relative, text, needle, offset),
    ))
}

#[test]
fn completion_of_keys_values_environments_stacks_and_paths() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);
    keys_of_the_block_at_the_cursor(&mut client, &base);
    values_properties_and_paths(&mut client, &base);

    // Environment names after `extends`.
    let staging2 = "extends \n";
    client.open("env/staging2.kdl", Some(staging2));
    let found = complete(&mut client, "env/staging2.kdl", staging2, "extends ", 8);
    assert!(
        found.contains(&"\"staging\"".to_string()) && !found.contains(&"\"staging2\"".to_string()),
        "{found:?}"
    );

    // Stack names in `needs`.
    let stacks = std::fs::read_to_string(dir.path().join("stacks.kdl")).unwrap();
    let typing = stacks.replace(
        "    needs \"api\" \"jobs\" \"database\" \"queues\"",
        "    needs \"api\" ",
    );
    client.open("stacks.kdl", Some(&typing));
    let found = complete(&mut client, "stacks.kdl", &typing, "needs \"api\" ", 12);
    assert!(found.contains(&"\"database\"".to_string()), "{found:?}");
    client.shutdown();
}

/// Keys of the block at the cursor, while typing one in base.kdl (open, its text `base`).
/// (A key the block sets already is not offered again: `instance-class` goes first.)
fn keys_of_the_block_at_the_cursor(client: &mut Client, base: &str) {
    let typing = base
        .replace("    backup-days 7\n", "    backup-days 7\n    inst\n")
        .replace("    instance-class \"db.t3.micro\"\n", "");
    client.change("env/base.kdl", &typing);
    let found = complete(client, "env/base.kdl", &typing, "    inst\n", 8);
    assert!(
        found.contains(&"instance-class".to_string()),
        "{found:?} {typing}"
    );
    assert!(found.contains(&"multi-az".to_string()), "{found:?}");
    assert!(
        !found.contains(&"backup-days".to_string()),
        "set already: {found:?}"
    );
    assert!(
        !found.contains(&"cidr".to_string()),
        "a key of another block: {found:?}"
    );
}

/// In base.kdl (open, its text `base`): allowed values of a setting, the properties of a
/// block written on one line, and paths after `${`.
fn values_properties_and_paths(client: &mut Client, base: &str) {
    // Allowed values of a setting.
    let typing = base.replace("    engine \"postgres\"\n", "    engine \n");
    client.change("env/base.kdl", &typing);
    let found = complete(client, "env/base.kdl", &typing, "engine \n", 7);
    assert!(
        found.contains(&"\"postgres\"".to_string())
            && found.contains(&"\"aurora-postgresql\"".to_string()),
        "{found:?}"
    );

    // The properties of a block written on one line, then a property's values.
    let typing = base.replace(
        "scaling min=0 max=2 queue-depth-target=100",
        "scaling min=0 ",
    );
    client.change("env/base.kdl", &typing);
    let found = complete(client, "env/base.kdl", &typing, "scaling min=0 ", 14);
    assert!(
        found.contains(&"max=".to_string()) && !found.contains(&"min=".to_string()),
        "{found:?}"
    );

    // Paths after `${`.
    let typing = base.replace("\"${env}-api.hyperchonk.com\"", "\"${netw");
    client.change("env/base.kdl", &typing);
    let found = complete(client, "env/base.kdl", &typing, "${netw", 6);
    assert!(
        found.contains(&"network.cidr".to_string()) && found.contains(&"region".to_string()),
        "{found:?}"
    );
}

#[test]
fn completion_knows_the_project_kinds_blocks() {
    let dir = project("examples/kinds");
    let mut client = Client::start(dir.path());
    let text = std::fs::read_to_string(dir.path().join("env/dev.kdl")).unwrap();
    let typing = format!("{text}cache {{\n    \n}}\n");
    client.open("env/dev.kdl", Some(&typing));
    let top = labels(&client.request(
        "textDocument/completion",
        client.at("env/dev.kdl", &typing, "cache {", 0),
    ));
    assert!(
        top.contains(&"cache".to_string()) && top.contains(&"nightly-report".to_string()),
        "{top:?}"
    );
    let inside = labels(&client.request(
        "textDocument/completion",
        client.at("env/dev.kdl", &typing, "cache {\n    ", 12),
    ));
    assert!(inside.contains(&"node-type".to_string()), "{inside:?}");
    client.shutdown();
}

fn uris(locations: &Value) -> Vec<String> {
    let list = match locations {
        Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    list.iter()
        .map(|l| {
            let uri = l["uri"].as_str().unwrap();
            format!(
                "{}:{}",
                &uri[uri.rfind("/env/").or(uri.rfind('/')).unwrap() + 1..],
                l["range"]["start"]["line"]
            )
        })
        .collect()
}

#[test]
fn definition_and_references() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let staging2 = std::fs::read_to_string(dir.path().join("env/staging2.kdl")).unwrap();
    client.open("env/staging2.kdl", None);
    let parent = client.request(
        "textDocument/definition",
        client.at("env/staging2.kdl", &staging2, "\"staging\"", 2),
    );
    assert_eq!(uris(&parent), ["env/staging.kdl:0"]);

    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    client.open("env/base.kdl", None);
    let overrides = client.request(
        "textDocument/definition",
        client.at("env/base.kdl", &base, "instance-class", 0),
    );
    assert_eq!(uris(&overrides), ["env/prod.kdl:19", "env/staging.kdl:8"]);

    let reference = client.request(
        "textDocument/definition",
        client.at("env/base.kdl", &base, "${config-secret}", 4),
    );
    assert_eq!(uris(&reference), ["env/base.kdl:5"]);

    // The environments that extend staging, from the name in `extends`.
    let found = client.request(
        "textDocument/references",
        json!({
            "textDocument": { "uri": client.uri("env/staging2.kdl") },
            "position": client.at("env/staging2.kdl", &staging2, "\"staging\"", 2)["position"],
            "context": { "includeDeclaration": false },
        }),
    );
    assert_eq!(uris(&found), ["env/staging2.kdl:1"]);
    // prod: named by the children of base? No: by `zone-owner` in base.
    let prod_text = std::fs::read_to_string(dir.path().join("env/prod.kdl")).unwrap();
    client.open("env/prod.kdl", None);
    let found = client.request(
        "textDocument/references",
        json!({
            "textDocument": { "uri": client.uri("env/prod.kdl") },
            "position": client.at("env/prod.kdl", &prod_text, "protected", 0)["position"],
            "context": { "includeDeclaration": true },
        }),
    );
    assert_eq!(uris(&found), ["env/prod.kdl:0", "env/base.kdl:16"]);
    client.shutdown();
}

/// The code actions at `at` (a position from [`Client::at`]), given the problems there.
fn code_actions_at(client: &mut Client, at: &Value, diagnostics: Value) -> Value {
    client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": at["textDocument"],
            "range": { "start": at["position"], "end": at["position"] },
            "context": { "diagnostics": diagnostics },
        }),
    )
}

#[test]
fn code_actions_fix_a_typo_and_move_a_value_every_child_sets_to_the_parent() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    a_typo_is_changed_to_the_key_meant(&mut client, dir.path());
    an_only_childs_value_moves_to_its_parent(&mut client, dir.path());

    // dev's `budget-usd` is not staging's or prod's: nothing to move.
    let dev = std::fs::read_to_string(dir.path().join("env/dev.kdl")).unwrap();
    client.open("env/dev.kdl", None);
    let at = client.at("env/dev.kdl", &dev, "budget-usd", 1);
    let actions = code_actions_at(&mut client, &at, json!([]));
    assert_eq!(actions, json!([]));
    client.shutdown();
}

/// A typo in base.kdl's key: the first action changes it to the key meant.
fn a_typo_is_changed_to_the_key_meant(client: &mut Client, dir: &Path) {
    let base = std::fs::read_to_string(dir.join("env/base.kdl")).unwrap();
    let typo = base.replace(
        "instance-class \"db.t3.micro\"",
        "instance-clas \"db.t3.micro\"",
    );
    client.open("env/base.kdl", Some(&typo));
    let found =
        client.diagnostics_until("env/base.kdl", |l| has_code(l, "envc::schema::unknown-key"));
    let at = client.at("env/base.kdl", &typo, "instance-clas ", 2);
    let actions = code_actions_at(client, &at, json!(found));
    let fix = &actions[0];
    assert_eq!(fix["title"], "Change to `instance-class`");
    let edit = &fix["edit"]["changes"][client.uri("env/base.kdl")][0];
    assert_eq!(edit["newText"], "instance-class");
    assert_eq!(
        edit["range"]["start"],
        at["position"].clone().tap_character(-2)
    );
}

/// staging2 is staging's only child, so its `cidr` can move to staging.
fn an_only_childs_value_moves_to_its_parent(client: &mut Client, dir: &Path) {
    let staging2 = std::fs::read_to_string(dir.join("env/staging2.kdl")).unwrap();
    client.open("env/staging2.kdl", None);
    let at = client.at("env/staging2.kdl", &staging2, "cidr", 1);
    let actions = code_actions_at(client, &at, json!([]));
    let moved = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("Move this value to `staging`")
        })
        .unwrap_or_else(|| panic!("no move in {actions:#}"));
    let changes = &moved["edit"]["changes"];
    let removed = &changes[client.uri("env/staging2.kdl")][0];
    assert_eq!(removed["newText"], "");
    assert_eq!(
        removed["range"]["start"],
        json!({ "line": 4, "character": 0 })
    );
    assert_eq!(
        removed["range"]["end"],
        json!({ "line": 5, "character": 0 })
    );
    let replaced = &changes[client.uri("env/staging.kdl")][0];
    assert_eq!(replaced["newText"], "cidr \"10.2.0.0/16\"");
    assert_eq!(
        replaced["range"]["start"],
        json!({ "line": 4, "character": 4 })
    );
}

trait TapCharacter {
    fn tap_character(self, by: i64) -> Value;
}

impl TapCharacter for Value {
    fn tap_character(mut self, by: i64) -> Value {
        let character = self["character"].as_i64().unwrap() + by;
        self["character"] = json!(character);
        self
    }
}

#[test]
fn a_credential_in_a_buffer_is_in_no_answer() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let base = std::fs::read_to_string(dir.path().join("env/base.kdl")).unwrap();
    let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    let leaky = base.replace(
        "NODE_ENV \"${env}\"",
        &format!("NODE_ENV \"${{env}}\"\n        STRIPE_KEY \"{secret}\""),
    );
    client.open("env/base.kdl", Some(&leaky));
    let found =
        client.diagnostics_until("env/base.kdl", |l| has_code(l, "envc::secret::plaintext"));
    let hover = client.request(
        "textDocument/hover",
        client.at("env/base.kdl", &leaky, secret, 3),
    );
    let completion = client.request(
        "textDocument/completion",
        client.at("env/base.kdl", &leaky, "${env}-api", 2),
    );
    for answer in [
        serde_json::to_string(&found).unwrap(),
        hover.to_string(),
        completion.to_string(),
    ] {
        assert!(!answer.contains(secret), "{answer}");
    }
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("STRIPE_KEY"),
        "{hover}"
    );
    client.shutdown();
}

#[test]
fn formatting_is_envc_fmt() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let messy = "extends   \"staging\"\nnetwork{\n  cidr \"10.2.0.0/16\"   // kept\n}\n";
    client.open("env/staging2.kdl", Some(messy));
    let edits = client.request(
        "textDocument/formatting",
        json!({
            "textDocument": { "uri": client.uri("env/staging2.kdl") },
            "options": { "tabSize": 4, "insertSpaces": true },
        }),
    );
    assert_eq!(
        edits[0]["newText"],
        "extends \"staging\"\nnetwork {\n    cidr \"10.2.0.0/16\" // kept\n}\n"
    );
    client.shutdown();
}

#[test]
fn hover_on_an_override_gives_the_propertys_cloudformation_type_and_each_value() {
    let dir = project("");
    let prod = dir.path().join("env/prod.kdl");
    let text = std::fs::read_to_string(&prod).unwrap()
        + "\noverride \"database\" {\n    Instance {\n        MaxAllocatedStorage 500\n    }\n}\n";
    std::fs::write(&prod, &text).unwrap();
    let mut client = Client::start(dir.path());
    client.open("env/prod.kdl", None);
    // The resource's type is known once the full check, in the background, has rendered.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let shown = loop {
        let hover = client.request(
            "textDocument/hover",
            client.at("env/prod.kdl", &text, "MaxAllocatedStorage", 3),
        );
        let shown = hover["contents"]["value"].as_str().unwrap().to_string();
        if shown.contains(" · ") || std::time::Instant::now() > deadline {
            break shown;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(
        shown.starts_with(
            "**`override.database.Instance.MaxAllocatedStorage`** · integer · a property of `AWS::RDS::DBInstance`"
        ),
        "{shown}"
    );
    assert!(shown.contains("prod: 500 (here)"), "{shown}");
    client.shutdown();
}

/// A buffer larger than envc reads from a file is refused as the file would be, at the
/// buffer, and not parsed: memory stays bounded however much is pasted.
#[test]
fn a_buffer_larger_than_a_file_envc_reads_is_refused_at_it() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let pasted = "}".repeat(5 * 1024 * 1024);
    client.open("env/dev.kdl", Some(&pasted));
    let found = client.diagnostics_until("env/dev.kdl", |l| has_code(l, "envc::io::refused"));
    let problem = found
        .iter()
        .find(|d| d["code"] == "envc::io::refused")
        .unwrap();
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("larger than 4 MiB"),
        "{problem}"
    );
    let edits = client.request(
        "textDocument/formatting",
        json!({
            "textDocument": { "uri": client.uri("env/dev.kdl") },
            "options": { "tabSize": 4, "insertSpaces": true }
        }),
    );
    assert_eq!(edits, Value::Null);
    client.shutdown();
}

/// Hover on the first character of a file is on what is written there, not on the values
/// envc sets itself (`env`, placed at the file's start).
#[test]
fn hover_at_the_start_of_a_file_is_on_what_is_written_there() {
    let dir = project("");
    let mut client = Client::start(dir.path());
    let text = "account \"123456789012\"\nextends \"staging\"\n";
    client.open("env/x.kdl", Some(text));
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": client.uri("env/x.kdl") }, "position": { "line": 0, "character": 0 } }),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("account"), "{hover}");
    assert!(!shown.contains("**`env`**"), "{hover}");
    client.shutdown();
}

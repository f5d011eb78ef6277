//! What a scenario's step expects of its run: its children (`exit`, `has`, `json` …), each
//! checked against what the run showed (tests/scenarios/README.md).

use kdl::KdlNode;

use super::{children, integer_at, json_of, name, property, string, strings};
use crate::support::Run;

/// Checks what a step's children expect of its run (tests/scenarios/README.md).
pub(super) fn expect(node: &KdlNode, shown: &str, ran: &Run) {
    let all = ran.all();
    for expectation in children(node) {
        let what = name(expectation);
        let context = || {
            format!(
                "{shown}: `{what}`\n--- stdout\n{}--- stderr\n{}",
                ran.stdout, ran.stderr
            )
        };
        match what {
            "exit" => {
                assert_eq!(
                    ran.code as i128,
                    integer_at(expectation, 0),
                    "{}",
                    context()
                );
            }
            "has" | "stdout-has" | "stderr-has" => {
                let text = stream(what, ran, &all);
                for needle in strings(expectation) {
                    assert!(text.contains(needle), "{}\nmissing: {needle}", context());
                }
            }
            "lacks" | "stdout-lacks" | "stderr-lacks" => {
                let text = stream(what, ran, &all);
                for needle in strings(expectation) {
                    assert!(!text.contains(needle), "{}\nshown: {needle}", context());
                }
            }
            "stdout-is" => assert_eq!(ran.stdout, string(expectation, 0), "{}", context()),
            "count" | "stdout-count" | "stderr-count" => {
                let found = stream(what, ran, &all)
                    .matches(string(expectation, 0))
                    .count();
                assert_eq!(found as i128, integer_at(expectation, 1), "{}", context());
            }
            "before-has" | "before-lacks" => {
                before(expectation, what == "before-has", &all, &context);
            }
            "json" => {
                let report: serde_json::Value = serde_json::from_str(&ran.stdout)
                    .unwrap_or_else(|e| panic!("{}\nnot JSON: {e}", context()));
                let pointer = string(expectation, 0);
                let found = report.pointer(pointer).unwrap_or(&serde_json::Value::Null);
                assert_eq!(found, &json_of(expectation), "{}\nat {pointer}", context());
            }
            "json-each" => json_each(expectation, ran, &context),
            "line" => line(expectation, ran, &context),
            "json-rows" => json_rows(expectation, ran, &context),
            "yaml-equals-json-of" => {}
            "json-length" => json_length(expectation, ran, &context),
            "stdout-lines-with" => {
                let needle = string(expectation, 0);
                let count = ran.stdout.lines().filter(|l| l.contains(needle)).count();
                assert_eq!(count as i128, integer_at(expectation, 1), "{}", context());
            }
            "interrupt-when" => {}
            other => panic!("{shown}: no expectation `{other}`"),
        }
    }
}

/// `before-has MARK TEXT…` (`has`) or `before-lacks MARK TEXT…`: what shows before MARK.
fn before(expectation: &KdlNode, has: bool, all: &str, context: &dyn Fn() -> String) {
    let mark = string(expectation, 0);
    let at = all
        .find(mark)
        .unwrap_or_else(|| panic!("{}\nno {mark}", context()));
    for needle in &strings(expectation)[1..] {
        let found = all[..at].contains(needle);
        assert_eq!(found, has, "{}\nbefore {mark}: {needle}", context());
    }
}

/// `json-each POINTER FIELD VALUE`: every item of the array at POINTER has FIELD at VALUE.
fn json_each(expectation: &KdlNode, ran: &Run, context: &dyn Fn() -> String) {
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let (pointer, field) = (string(expectation, 0), string(expectation, 1));
    let wanted = string(expectation, 2);
    let items = report.pointer(pointer).and_then(|v| v.as_array());
    for item in items.unwrap_or_else(|| panic!("{}\nno array at {pointer}", context())) {
        assert_eq!(item[field], wanted, "{}\n{field} of {item}", context());
    }
}

/// `line START TEXT… [after=MARK]`: the first line of stdout (after MARK) that starts with
/// START holds every TEXT.
fn line(expectation: &KdlNode, ran: &Run, context: &dyn Fn() -> String) {
    let start = string(expectation, 0).trim_start();
    let from = match property(expectation, "after") {
        Some(mark) => ran
            .stdout
            .find(mark)
            .unwrap_or_else(|| panic!("{}\nno {mark}", context())),
        None => 0,
    };
    let mut lines = ran.stdout[from..].lines();
    let line = lines.find(|l| l.trim_start().starts_with(start));
    let line = line.unwrap_or_else(|| panic!("{}\nno line starts {start:?}", context()));
    for needle in &strings(expectation)[1..] {
        assert!(
            line.contains(needle),
            "{}\n{line:?} lacks {needle:?}",
            context()
        );
    }
}

/// `json-rows POINTER KEY VALUE "K=V …"`: the items of the array at POINTER, as sorted
/// `KEY=VALUE` pairs.
fn json_rows(expectation: &KdlNode, ran: &Run, context: &dyn Fn() -> String) {
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let (pointer, key, value) = (
        string(expectation, 0),
        string(expectation, 1),
        string(expectation, 2),
    );
    let items = report.pointer(pointer).and_then(|v| v.as_array());
    let mut rows: Vec<String> = items
        .unwrap_or_else(|| panic!("{}\nno array at {pointer}", context()))
        .iter()
        .filter_map(|item| Some(format!("{}={}", item[key].as_str()?, scalar(&item[value])?)))
        .collect();
    rows.sort();
    assert_eq!(rows.join(" "), string(expectation, 3), "{}", context());
}

/// `json-length POINTER N`: the array at POINTER has N items.
fn json_length(expectation: &KdlNode, ran: &Run, context: &dyn Fn() -> String) {
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let pointer = string(expectation, 0);
    let found = report
        .pointer(pointer)
        .and_then(|v| v.as_array())
        .map(Vec::len);
    assert_eq!(
        found.map(|n| n as i128),
        Some(integer_at(expectation, 1)),
        "{}\nat {pointer}",
        context()
    );
}

/// A JSON string or number as text.
fn scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn stream<'a>(what: &str, ran: &'a Run, all: &'a str) -> &'a str {
    match what.split('-').next() {
        Some("stdout") => &ran.stdout,
        Some("stderr") => &ran.stderr,
        _ => all,
    }
}

//! The KDL v2 specification's own test suite, read by envc: every `input/*.kdl` of the suite
//! the pinned kdl crate ships (found through `cargo metadata`, never copied here) is valid
//! exactly when the suite has an `expected_kdl/` file for it (and its name does not end in
//! `_fail`; the two must agree, but for the one expected file the package leaves out).
//!
//! envc's reader must accept exactly the valid inputs and refuse each invalid one with a
//! located syntax diagnostic. Only KDL *syntax* is compared: envc adds its own rules on top
//! (annotations other than its merge modes, numbers that fit 64 bits), so a valid input may
//! still draw diagnostics of other codes; the syntax verdict is both `syntax_problems` (what
//! `envc fmt` asks) and whether `parse_document` reports any `Code::Syntax`. Every valid
//! input also formats, to a fixpoint, keeping every comment and `/-`.

use std::path::{Path, PathBuf};

use envc::diagnostic::{Code, Diagnostic};
use envc::format::format_file;
use envc::parse::lexer::{self, Token};
use envc::parse::{parse_document, syntax_problems};
use envc::source::SourceMap;

use crate::support;

/// One input of the suite and whether the specification calls it valid KDL.
struct SpecInput {
    name: String,
    text: String,
    valid: bool,
}

/// The suite's folder, `tests/test_cases/` beside the kdl crate's manifest.
fn suite_dir() -> PathBuf {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", env!("ENVC_TARGET")])
        .current_dir(support::root())
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "{output:?}");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let kdl = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "kdl")
        .expect("the kdl crate among the packages");
    let manifest = Path::new(kdl["manifest_path"].as_str().unwrap());
    manifest.parent().unwrap().join("tests/test_cases")
}

/// Valid inputs whose `expected_kdl/` file the kdl crate's package lacks: the specification's
/// own repository (kdl-org/kdl) has `expected_kdl/hex.kdl`, `node 12379813812177893520`.
const EXPECTED_FILE_MISSING: [&str; 1] = ["hex.kdl"];

fn spec_inputs() -> Vec<SpecInput> {
    let dir = suite_dir();
    let mut inputs: Vec<SpecInput> = std::fs::read_dir(dir.join("input"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let valid = !name.ends_with("_fail.kdl");
            let expected = dir.join("expected_kdl").join(&name).is_file();
            let missing = EXPECTED_FILE_MISSING.contains(&name.as_str());
            assert_eq!(
                valid,
                expected || missing,
                "{name}: named against its expected file"
            );
            SpecInput {
                valid,
                text: std::fs::read_to_string(&path).unwrap(),
                name,
            }
        })
        .collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    let valid = inputs.iter().filter(|i| i.valid).count();
    assert!(
        valid > 150 && inputs.len() - valid > 50,
        "found {} inputs, {valid} valid",
        inputs.len()
    );
    inputs
}

/// Whether every diagnostic is a syntax one with a label inside the text.
fn located_syntax(found: &[Diagnostic], text: &str) -> bool {
    !found.is_empty()
        && found.iter().all(|d| {
            let span = d.primary.as_ref().map(|label| label.span);
            d.code == Code::Syntax && span.is_some_and(|s| s.start <= s.end && s.end <= text.len())
        })
}

/// What envc's reader says of `input`, where it disagrees with the specification.
fn reading_disagreement(input: &SpecInput) -> Option<String> {
    let mut sources = SourceMap::default();
    let file = sources.add("spec.kdl", input.text.clone());
    let problems = syntax_problems(file, &sources);
    let mut found = Vec::new();
    let nodes = parse_document(file, &sources, &mut found);
    let syntax: Vec<_> = found
        .into_iter()
        .filter(|d| d.code == Code::Syntax)
        .collect();
    let codes = |found: &[Diagnostic]| found.iter().map(|d| d.message.clone()).collect::<Vec<_>>();
    if input.valid && !(problems.is_empty() && syntax.is_empty()) {
        let (problems, syntax) = (codes(&problems), codes(&syntax));
        return Some(format!("refused valid KDL: {problems:?} {syntax:?}"));
    }
    if !input.valid && !located_syntax(&problems, &input.text) {
        return Some(format!("syntax_problems took invalid KDL: {problems:?}"));
    }
    if !input.valid && (nodes.is_some() || !located_syntax(&syntax, &input.text)) {
        return Some("parse_document took invalid KDL".to_string());
    }
    None
}

/// Every comment and `/-` of `text`, as the lexer reads them.
fn comments(text: &str) -> Vec<String> {
    lexer::tokens(text)
        .into_iter()
        .filter_map(|t| match t {
            Token::LineComment(c) => Some(c.trim_end().to_string()),
            Token::BlockComment(c) => Some(c.to_string()),
            Token::Slashdash => Some("/-".to_string()),
            _ => None,
        })
        .collect()
}

fn format(text: &str) -> Result<String, Vec<String>> {
    let mut sources = SourceMap::default();
    let file = sources.add("spec.kdl", text.to_string());
    format_file(file, &sources).map_err(|found| found.into_iter().map(|d| d.message).collect())
}

/// What `envc fmt` does with a valid input, where it is not a fixpoint or loses a comment.
fn formatting_disagreement(input: &SpecInput) -> Option<String> {
    let once = match format(&input.text) {
        Ok(once) => once,
        Err(problems) => return Some(format!("fmt refused it: {problems:?}")),
    };
    match format(&once) {
        Ok(twice) if twice == once => {}
        Ok(twice) => return Some(format!("fmt is no fixpoint: {once:?} then {twice:?}")),
        Err(problems) => return Some(format!("fmt refused its own {once:?}: {problems:?}")),
    }
    let (before, after) = (comments(&input.text), comments(&once));
    (before != after).then(|| format!("fmt changed the comments {before:?} to {after:?}"))
}

#[test]
fn envc_reads_the_kdl_specification_suite_as_the_specification_does() {
    let mut disagreements = Vec::new();
    for input in spec_inputs() {
        let reading = reading_disagreement(&input);
        let formatting = input
            .valid
            .then(|| formatting_disagreement(&input))
            .flatten();
        for problem in reading.into_iter().chain(formatting) {
            disagreements.push(format!("{}: {problem}", input.name));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements with the KDL v2 suite:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

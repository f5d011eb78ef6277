//! `envc fmt`: the layout of each case in `tests/fmt/` (input and expected output, data
//! files), comments of every placement kept, idempotence, the repository's own files
//! formatted, and formatting that never changes what a project means.
//!
//! A case file is a comment (`# …` lines), then `--- input` and `--- formatted`, each
//! followed by a file's text.

use crate::support;

use std::path::{Path, PathBuf};

use envc::diagnostic::Code;
use envc::format::{format_file, layout_of};
use envc::source::SourceMap;
use proptest::prelude::*;

struct Case {
    name: String,
    input: String,
    formatted: String,
}

fn cases() -> Vec<Case> {
    let dir = support::root().join("tests/fmt");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fmt"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let (_, rest) = text.split_once("--- input\n").expect("a `--- input` line");
            let (input, formatted) = rest
                .split_once("--- formatted\n")
                .expect("a `--- formatted` line");
            Case {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                input: input.to_string(),
                formatted: formatted.to_string(),
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(cases.len() >= 2, "found only {} cases", cases.len());
    cases
}

/// What `envc fmt` makes of `text`: its new text, or the codes of why it left it alone.
fn format(text: &str) -> Result<String, Vec<Code>> {
    let mut sources = SourceMap::default();
    let file = sources.add("t.kdl", text.to_string());
    format_file(file, &sources).map_err(|found| found.iter().map(|d| d.code).collect())
}

/// Every `//` and `/* */` comment written in `text` (a rough reading: enough for cases that
/// put no comment markers inside strings).
fn comments(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for line in text.lines() {
        if let Some(at) = line.find("//") {
            found.push(line[at..].trim_end());
        }
        let mut rest = line;
        while let Some(at) = rest.find("/*") {
            let end = rest[at..].find("*/").map_or(rest.len(), |e| at + e + 2);
            found.push(&rest[at..end]);
            rest = &rest[end..];
        }
    }
    found
}

#[test]
fn each_case_formats_as_written_and_keeps_its_comments() {
    for case in cases() {
        let formatted = format(&case.input).unwrap_or_else(|codes| {
            panic!("{}: refused to format: {codes:?}", case.name);
        });
        let diff = envc::golden::unified_diff(&case.formatted, &formatted, "expected", "formatted");
        assert!(formatted == case.formatted, "{}:\n{diff}", case.name);
        assert_eq!(
            format(&formatted).unwrap(),
            formatted,
            "{}: formatting twice changed it again",
            case.name
        );
        let (before, after) = (comments(&case.input), comments(&formatted));
        assert!(!before.is_empty(), "{}: a case without comments", case.name);
        assert_eq!(before, after, "{}: comments changed", case.name);
    }
}

#[test]
fn the_last_line_ends_with_a_line_break_and_nothing_else_changes_in_a_bare_file() {
    assert_eq!(layout_of("a 1 // end"), "a 1 // end\n");
    assert_eq!(layout_of("// only a comment"), "// only a comment\n");
    assert_eq!(layout_of(""), "");
    assert_eq!(layout_of("\n\n  \n"), "");
}

#[test]
fn text_that_is_not_kdl_is_refused_and_left_alone() {
    let codes = format("a {\n").unwrap_err();
    assert!(codes.iter().all(|c| *c == Code::Syntax), "{codes:?}");
    let deep = "a {".repeat(200);
    assert_eq!(format(&deep), Err(vec![Code::TooDeep]));
}

#[test]
fn fmt_check_reports_the_first_line_laid_out_differently_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    support::copy_project(support::root(), dir.path());
    let path = dir.path().join("env/dev.kdl");
    let committed = std::fs::read_to_string(&path).unwrap();
    let scrambled = committed.replacen("\n    ", "\n\t  ", 1);
    std::fs::write(&path, &scrambled).unwrap();

    let run = support::envc(dir.path(), &["fmt", "--check"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("envc::fmt::unformatted"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("env/dev.kdl:"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), scrambled);

    let run = support::envc(dir.path(), &["fmt"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.stdout.trim(), "formatted env/dev.kdl");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), committed);
    assert_eq!(support::envc(dir.path(), &["fmt", "--check"]).code, 0);
}

#[test]
fn every_kdl_file_of_the_repository_is_formatted() {
    let root = support::root();
    let files = envc::format::files_to_format(root, &[PathBuf::from(".")]).unwrap();
    assert!(files.len() > 30, "found only {} files", files.len());
    let mut sources = SourceMap::default();
    let (formatted, problems) = envc::format::format_paths(root, &files, &mut sources);
    assert!(problems.is_empty(), "{:?}", problems);
    for file in &formatted {
        assert!(
            !file.is_changed(&sources),
            "{} is not formatted: run `envc fmt .`",
            file.path.display()
        );
    }
}

/// The project's files with their layout undone: other indentation, trailing spaces, blank
/// lines doubled, braces against names, `=` spaced.
fn scramble(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let indent = ["", "\t", "  ", "         "][i % 4];
        let line = line.trim_start();
        let line = match line.strip_suffix(" {") {
            Some(name) => format!("{name}{{"),
            None if !line.starts_with("//") => line.replacen("=\"", " = \"", 1),
            None => line.to_string(),
        };
        out.push_str(indent);
        out.push_str(&line);
        out.push_str(if i % 3 == 0 { "   \n" } else { "\n" });
    }
    out.replace("\n\n", "\n\n\n")
}

fn projects() -> Vec<PathBuf> {
    let root = support::root();
    let mut projects = vec![root.to_path_buf()];
    for example in std::fs::read_dir(root.join("examples")).unwrap() {
        projects.push(example.unwrap().path());
    }
    projects
}

/// Every environment of the project in `dir`, merged, as JSON (spans left out).
fn merged_environments(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let (_, resolved, _) = envc::load_and_resolve(dir);
    resolved
        .envs
        .iter()
        .map(|env| (env.name.clone(), env.root.to_json().0))
        .collect()
}

#[test]
fn formatting_a_scrambled_project_gives_back_its_files_and_the_same_environments() {
    for project in projects() {
        let dir = tempfile::tempdir().unwrap();
        support::copy_project(&project, dir.path());
        let files = envc::format::files_to_format(dir.path(), &[]).unwrap();
        for file in &files {
            let path = dir.path().join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!text.contains("\"\"\""), "scrambling would change a string");
            std::fs::write(&path, scramble(&text)).unwrap();
        }
        assert_eq!(
            merged_environments(dir.path()),
            merged_environments(&project),
            "{}: scrambling changed the environments",
            project.display()
        );
        let run = support::envc(dir.path(), &["fmt"]);
        assert_eq!(run.code, 0, "{}", run.all());
        for file in &files {
            assert_eq!(
                std::fs::read_to_string(dir.path().join(file)).unwrap(),
                std::fs::read_to_string(project.join(file)).unwrap(),
                "{}: {} did not come back",
                project.display(),
                file.display()
            );
        }
        assert_eq!(
            merged_environments(dir.path()),
            merged_environments(&project)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// On any edit of a project file that is still KDL (as envc reads it), `fmt` lays it out (its own check that
    /// the meaning and comments stay never fails) and a second run changes nothing.
    #[test]
    fn mutated_project_files_format_and_stay_formatted(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0usize..4, prop::sample::select(support::KDL_PIECES)),
            1..4,
        ),
    ) {
        let texts = support::project_kdl_texts();
        let mut text = texts[which.index(texts.len())].clone();
        support::apply_edits(&mut text, edits);
        let mut sources = SourceMap::default();
        let file = sources.add("t.kdl", text.clone());
        if envc::parse::syntax_problems(file, &sources).is_empty() {
            let formatted = format(&text);
            prop_assert!(formatted.is_ok(), "refused {text:?}: {formatted:?}");
            let formatted = formatted.unwrap();
            prop_assert_eq!(format(&formatted), Ok(formatted.clone()), "not idempotent on {:?}", text);
        }
    }
}

//! Input no user means to write: every file of one or two bytes through `check` and `fmt`,
//! and 10,000 random files through every scanner of KDL text. Nothing may panic or hang
//! (nextest ends a test that hangs: `.config/nextest.toml`), every problem is placed inside
//! its file, and the lexer every scanner walks takes at most one step per byte.

use std::path::Path;

use rayon::prelude::*;

use crate::support;

/// A project of the default `stacks.kdl` and one environment file.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cases = support::root().join("tests/cases/_default");
    std::fs::create_dir_all(dir.path().join("env")).unwrap();
    std::fs::copy(cases.join("stacks.kdl"), dir.path().join("stacks.kdl")).unwrap();
    dir
}

/// `envc check` and `envc fmt` of `text` as `env/zz.kdl`: an exit code of 0 or 1, and every
/// problem of that file placed inside it.
fn check_and_format(root: &Path, text: &str) {
    let mut overlay = envc::parse::Overlay::new();
    overlay.insert("env/zz.kdl".into(), text.to_string());
    let checked = envc::run_with(root, &overlay, &[], envc::Stages::Check, false);
    let code = checked.exit_code();
    assert!(code == 0 || code == 1, "exit {code} for {text:?}");
    for diagnostic in &checked.diagnostics {
        for label in diagnostic.primary.iter().chain(&diagnostic.secondary) {
            let file = checked.sources.file(label.span.file);
            assert!(
                label.span.start <= label.span.end && label.span.end <= file.text.len(),
                "{:?} outside {} for {text:?}",
                label.span,
                file.path.display()
            );
        }
    }
    let mut sources = envc::source::SourceMap::default();
    let file = sources.add("zz.kdl", text.to_string());
    if let Ok(formatted) = envc::format::format_file(file, &sources) {
        let again = sources.add("again.kdl", formatted.clone());
        let twice = envc::format::format_file(again, &sources).expect("formatted text formats");
        assert_eq!(formatted, twice, "fmt is no fixpoint on {text:?}");
    }
}

#[test]
fn every_file_of_one_or_two_bytes_gets_an_answer_from_check_and_fmt() {
    let dir = project();
    let short: Vec<Vec<u8>> = (0..=255u8)
        .map(|a| vec![a])
        .chain((0..=255u8).flat_map(|a| (0..=255u8).map(move |b| vec![a, b])))
        .collect();
    // Bytes that are not UTF-8 never reach a scanner (the file is refused as it is read:
    // corpus cases cover that); the rest is every text of one or two bytes.
    let texts: Vec<String> = short
        .into_iter()
        .filter_map(|bytes| String::from_utf8(bytes).ok())
        .collect();
    assert!(texts.len() > 16_000);
    texts
        .par_iter()
        .for_each(|text| check_and_format(dir.path(), text));
}

/// Random text made of KDL's pieces and any characters, from a seed.
fn random_text(seed: u64) -> String {
    const PIECES: &[&str] = &[
        "node",
        " ",
        "\n",
        "\r\n",
        "\r",
        "{",
        "}",
        "(",
        ")",
        "\"",
        "\"\"\"",
        "#",
        "##\"",
        "\"#",
        "/*",
        "*/",
        "//",
        "/-",
        "\\",
        ";",
        "=",
        "1",
        "-0x1F",
        "#true",
        "${env}",
        "key=",
        "(remove)",
        "\u{7f}",
        "\u{feff}",
        "\u{2028}",
        "é",
        "\t",
        "service \"api\" {",
        "password \"p4ssw0rd-Secret-1\"",
        "postgres://u:pw@h/db",
    ];
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let len = next() % 200;
    (0..len)
        .map(|_| match next() % 3 {
            0 => char::from_u32((next() % 0x3000) as u32)
                .unwrap_or('?')
                .to_string(),
            _ => PIECES[(next() % PIECES.len() as u64) as usize].to_string(),
        })
        .collect()
}

#[test]
fn ten_thousand_random_files_through_every_scanner() {
    (0..10_000u64).into_par_iter().for_each(|seed| {
        let text = random_text(seed);
        // The shared lexer: at most one token per byte, in order, covering the text.
        let tokens = envc::parse::lexer::spanned(&text);
        assert!(tokens.len() <= text.len(), "{text:?}");
        assert!(tokens.windows(2).all(|w| w[0].0 < w[1].0), "{text:?}");
        // Top-level nodes cover the text in order.
        let nodes = envc::parse::bounded::top_level_nodes(&text);
        assert_eq!(nodes.first().map(|r| r.start), Some(0));
        assert_eq!(nodes.last().map(|r| r.end), Some(text.len()));
        assert!(nodes.windows(2).all(|w| w[0].end == w[1].start), "{text:?}");
        // The depth pre-scan, the strict check, the kdl crate (bounded) and the direct reader
        // (checked against the kdl crate in debug builds).
        let mut sources = envc::source::SourceMap::default();
        let file = sources.add("zz.kdl", text.clone());
        let problems = envc::parse::syntax_problems(file, &sources);
        envc::parse::parse_fast_checked(&text, file);
        let mut found = Vec::new();
        let parsed = envc::parse::parse_document(file, &sources, &mut found);
        assert_eq!(
            parsed.is_some(),
            problems.is_empty() && found.is_empty(),
            "{text:?}"
        );
        // The credential scan of text that may not parse, and masking with what it found.
        let mut redactor = envc::credentials::Redactor::default();
        redactor.learn_kdl(&text);
        assert_eq!(redactor.mask(&text).len(), text.len());
        // The formatter.
        if problems.is_empty() {
            envc::format::layout_of(&text);
        }
    });
}

/// The inputs fuzzing found slow (kept in `fuzz/seeds/`), and the shapes behind them: the kdl
/// crate reads a slashdashed block (`a /-{ … }`) twice, and reads the inside of a string it
/// refuses as nodes. Each answers, with a problem count of the file's size, not of 2^depth.
#[test]
fn nested_slashdashed_blocks_and_refused_strings_answer_in_linear_work() {
    let dir = project();
    let depth = 40;
    let mut texts: Vec<String> = ["", "b )\n", "b \"\"\"\n  x\n y\n  \"\"\"\n"]
        .iter()
        .map(|inner| format!("{}{inner}{}", "a /-{\n".repeat(depth), "}\n".repeat(depth)))
        .collect();
    // A multi-line string kdl refuses, holding the nesting its recovery would read.
    texts.push(format!(
        "x \"\"\"\n{}  \"\"\"\n",
        "/-legacy \"old\" {\na /-\"s\" /-{\n".repeat(depth)
    ));
    // Annotations opened in annotations: each level was read again.
    texts.push("(".repeat(50_000) + "\n");
    let seeds = support::root().join("fuzz/seeds");
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().contains("slow") {
            texts.push(std::fs::read_to_string(&path).unwrap());
        }
    }
    assert!(
        texts.len() >= 8,
        "the slow seeds are in {}",
        seeds.display()
    );
    texts.par_iter().for_each(|text| {
        check_and_format(dir.path(), text);
        let mut sources = envc::source::SourceMap::default();
        let file = sources.add("zz.kdl", text.clone());
        let problems = envc::parse::syntax_problems(file, &sources);
        assert!(
            problems.len() <= text.len() / 8 + 10,
            "{} problems in {} bytes",
            problems.len(),
            text.len()
        );
    });
}

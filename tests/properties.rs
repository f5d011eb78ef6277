//! A bounded property test of the whole pipeline (parse → resolve → validate → render) on
//! mutations of the example's files: no input panics, every span lies inside its file, and
//! the exit code is 1 exactly when there are errors.

use crate::support;

use proptest::prelude::*;

const FILES: &[&str] = &[
    "stacks.kdl",
    "env/base.kdl",
    "env/staging.kdl",
    "env/staging2.kdl",
];

/// Pieces of KDL and envc that mutations splice in.
const PIECES: &[&str] = &[
    "{",
    "}",
    "\"",
    "=",
    "(",
    ")",
    "#",
    "$",
    "${",
    "${env}",
    "${nope}",
    ";",
    "\n",
    "-",
    "0",
    "9",
    "a",
    "/",
    "*",
    "\\",
    " ",
    "extends \"staging\"\n",
    "extends \"x\"\n",
    "(remove)",
    "(append)",
    "(replace)",
    "(bogus)",
    "service \"api\" ",
    "network { cidr \"10.0.0.0/8\" }\n",
    "cpu 300",
    "memory 3",
    "scaling min=9 max=1",
    "é",
    "#true",
    "#null",
    "1.5",
    "-1",
    "99999999999999999999",
    "secret \"A\" from=\"x\"",
    "password \"hunter2\"",
    "abstract #true\n",
    "queue \"q\"",
    "stack \"s\" kind=\"waf\"",
    "needs \"s\"",
    "r#\"",
    "\u{0}",
    "\t",
    "//",
    "/*",
    "*/",
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, usize),
    Delete(usize, usize),
    DuplicateLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..PIECES.len()).prop_map(|(at, piece)| Mutation::Insert(at, piece)),
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Delete(at, len)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut text = text.to_string();
    for m in mutations {
        match *m {
            Mutation::Insert(at, piece) => {
                let at = boundary(&text, at);
                text.insert_str(at, PIECES[piece]);
            }
            Mutation::Delete(at, len) => {
                let start = boundary(&text, at);
                let end = boundary(&text, (start + len).min(text.len()));
                if end > start {
                    text.replace_range(start..end, "");
                }
            }
            Mutation::DuplicateLine(at) => {
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let i = at % lines.len();
                    let mut out: Vec<&str> = lines.clone();
                    out.insert(i, lines[i]);
                    text = out.join("\n") + "\n";
                }
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_projects_never_panic_and_point_inside_their_files(
        file in 0..FILES.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("env")).unwrap();
        for (i, name) in FILES.iter().enumerate() {
            let original = std::fs::read_to_string(support::root().join(name)).unwrap();
            let text = if i == file { apply(&original, &mutations) } else { original };
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let checked = envc::run(dir.path(), &[], envc::Stages::Render);
        for diagnostic in &checked.diagnostics {
            prop_assert!(diagnostic.code.as_str().starts_with("envc::"));
            for label in diagnostic.primary.iter().chain(&diagnostic.secondary) {
                let text = &checked.sources.file(label.span.file).text;
                prop_assert!(label.span.start <= label.span.end, "{diagnostic:?}");
                prop_assert!(label.span.end <= text.len(), "span past the end: {diagnostic:?}");
                prop_assert!(text.is_char_boundary(label.span.start) && text.is_char_boundary(label.span.end), "{diagnostic:?}");
            }
        }
        let has_errors = checked.diagnostics.iter().any(|d| d.is_error());
        prop_assert_eq!(checked.exit_code(), if has_errors { 1 } else { 0 });
    }
}

//! The fast KDL reader against the kdl crate: on every `.kdl` file of the project and its
//! examples, on mutations of them, and on edge cases of KDL, it either builds exactly the
//! nodes (with the same spans) the kdl crate leads to, or leaves the text to it; the
//! project's own files it reads itself.

use crate::support;

use envc::parse::parse_fast_checked;
use envc::source::SourceMap;
use proptest::prelude::*;

/// The fast reader's answer is the kdl crate's, when it gives one (it panics otherwise).
fn agrees(text: &str) -> bool {
    let mut sources = SourceMap::default();
    let file = sources.add("t.kdl", text.to_string());
    parse_fast_checked(text, file).is_some()
}

#[test]
fn reads_every_project_file_itself() {
    let texts = support::project_kdl_texts();
    assert!(texts.len() > 15, "found only {} files", texts.len());
    for text in texts {
        assert!(
            agrees(text),
            "the fast reader left a project file to kdl:\n{text}"
        );
    }
}

#[test]
fn edge_cases_agree_or_go_to_kdl() {
    let read_fast = [
        "a 1 b=2 \"x\"\n",
        "(replace)net \"a\" {\n  cidr \"10.0.0.0/16\" // x\n  x 1.5 -3 1e3 #true #null;y\n}\n\nz",
        "a  key = 1  ;  b",
        "\"q n\" k=\"v\" /* c */ 2\n",
        "n {\n}\n",
        "n { a; }",
        "n{a}",
        "a 1  \r\nb\r\n",
        "a/*c*/1",
        "a 1/*c*/ 2",
        "a 007 \"k\"=1 x= 2 +4 -0.0 1E10 1.5e-3",
        "n {a} ;b",
        "n { } /* c */ // d",
        "a x=#true y=#null z=#false w=- v=a.b:c",
        "a \"tab\\there \\\"q\\\" \\\\ \\s é\"",
        "secret \"A\" from=/* c */\"x\" key= \"y\"",
    ];
    for text in read_fast {
        assert!(agrees(text), "the fast reader left {text:?} to kdl");
    }
    let left_to_kdl = [
        "a \"x\"1",
        "n{a}1",
        "a #true=1",
        "a .5",
        "a 1_000",
        "a 0x1f",
        "a #inf",
        "a r#\"x\"#",
        "a \"\"\"\n  x\n  \"\"\"",
        "/-a 1",
        "a /-1",
        "a 1 \\\n  2",
        "(t)a",
        "a (t)1",
        "a x=1 x=2",
        "a true",
        "a \"\\u{41}\"",
        "a /* /* nested */ */ 1",
        ">/*C/*/g",
        "/*//*/",
        "a 21.9999999999999999999999999999999999999999999",
        "n {",
        "}",
        "\u{feff}a",
        "a\u{a0}1",
        "a 99999999999999999999",
        // KDL v2 forbids these, the kdl crate takes them: envc's strict check refuses them.
        "a\u{7f} 1",
        "a \"x\u{7f}\"",
        "a #\"\"\"x\"\"\"#",
    ];
    for text in left_to_kdl {
        assert!(!agrees(text), "the fast reader took {text:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_project_files(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0usize..4, prop::sample::select(support::KDL_PIECES)),
            1..4,
        ),
    ) {
        let texts = support::project_kdl_texts();
        let mut text = texts[which.index(texts.len())].clone();
        support::apply_edits(&mut text, edits);
        agrees(&text);
    }
}

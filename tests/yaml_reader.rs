//! The fast YAML reader against serde_yaml_ng: on every golden file, on mutated golden
//! files, and on generated documents written in canonical form, it either builds exactly
//! the value serde_yaml_ng builds or leaves the text to it; golden files it reads itself.

use crate::support;

use std::path::Path;

use envc::render::yaml;
use proptest::prelude::*;
use serde_yaml_ng::Value;

fn golden_files() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(read_golden_files)
}

fn read_golden_files() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("golden")];
    for example in std::fs::read_dir(root.join("examples")).unwrap() {
        dirs.push(example.unwrap().path().join("golden"));
    }
    let mut texts = Vec::new();
    for dir in dirs {
        // Each environment's folder (`golden/.envc-revision` records what wrote them).
        for env in std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_dir())
        {
            for file in std::fs::read_dir(env.unwrap().path()).unwrap() {
                texts.push(std::fs::read_to_string(file.unwrap().path()).unwrap());
            }
        }
    }
    texts
}

/// The fast reader's answer is serde_yaml_ng's, when it gives one.
fn agrees(text: &str) -> bool {
    match yaml::parse_fast_only(text) {
        Some(fast) => {
            let slow: Value = serde_yaml_ng::from_str(text).unwrap_or_else(|e| {
                panic!("the fast reader accepted what serde_yaml_ng rejects ({e}):\n{text}")
            });
            assert_eq!(fast, slow, "the readers disagree on:\n{text}");
            true
        }
        None => false,
    }
}

#[test]
fn reads_every_golden_file_itself() {
    let texts = golden_files();
    assert!(texts.len() > 50, "found only {} golden files", texts.len());
    for text in texts {
        assert!(
            agrees(text),
            "the fast reader left a golden file to serde_yaml_ng:\n{text}"
        );
    }
}

/// Characters and fragments that sit on the edges of what the fast reader knows.
const PIECES: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\n  ",
    "\n- ",
    ": ",
    ":",
    "#",
    " #",
    "- ",
    "-",
    "'",
    "''",
    "\"",
    "\\",
    "\\n",
    "\\u00e9",
    "[",
    "]",
    "{",
    "}",
    ",",
    "!",
    "!Ref ",
    "!Sub\n  - ",
    "&a ",
    "*a",
    "?",
    "|",
    "|-",
    "|+",
    ">",
    "---",
    "...",
    "%",
    "@",
    "`",
    "\t",
    "\r",
    "0",
    "007",
    "0x1F",
    "1e3",
    "-1",
    ".5",
    ".inf",
    "~",
    "null",
    "true",
    "yes",
    "é",
    "\u{2028}",
    "\u{feff}",
    "x",
    "Key: ",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_golden_files(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0usize..4, prop::sample::select(PIECES)),
            1..4,
        ),
    ) {
        let texts = golden_files();
        let mut text = texts[which.index(texts.len())].clone();
        support::apply_edits(&mut text, edits);
        agrees(&text);
    }

    #[test]
    fn canonical_documents(value in document()) {
        let text = yaml::value_to_canonical_yaml(value.clone());
        agrees(&text);
        // The canonical form is the same document: every string that a reader could take
        // for something else is quoted.
        let again: Value = serde_yaml_ng::from_str(&text).unwrap();
        prop_assert_eq!(again, value, "written as:\n{}", text);
    }
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u32>().prop_map(|n| Value::Number(n.into())),
        any::<i32>().prop_map(|n| Value::Number(n.into())),
        (-1e6f64..1e6).prop_map(|n| Value::Number(n.into())),
        prop::sample::select(PIECES).prop_map(|s| Value::String(s.to_string())),
        "[ -~é]{0,12}".prop_map(Value::String),
        "[a-z]{1,8}(\n[a-z ]{0,8}){1,3}\n?".prop_map(Value::String),
    ]
}

fn tagged(tag: &'static str, value: Value) -> Value {
    Value::Tagged(Box::new(serde_yaml_ng::value::TaggedValue {
        tag: serde_yaml_ng::value::Tag::new(tag),
        value,
    }))
}

fn document() -> impl Strategy<Value = Value> {
    let leaf = scalar();
    let tree = leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
            prop::collection::vec(("[A-Za-z][A-Za-z0-9:]{0,10}", inner.clone()), 0..5).prop_map(
                |entries| {
                    let mut map = serde_yaml_ng::Mapping::new();
                    for (key, value) in entries {
                        map.insert(Value::String(key), value);
                    }
                    Value::Mapping(map)
                }
            ),
            (
                prop::sample::select(&["!Ref", "!Sub", "!Select", "!GetAtt"][..]),
                inner
            )
                // A node has one tag: `!Ref !Sub x` is not YAML.
                .prop_map(|(tag, value)| match value {
                    Value::Tagged(inner) => tagged(tag, inner.value),
                    value => tagged(tag, value),
                }),
        ]
    });
    prop::collection::vec(("[A-Za-z][A-Za-z0-9]{0,10}", tree), 1..6).prop_map(|entries| {
        let mut map = serde_yaml_ng::Mapping::new();
        for (key, value) in entries {
            map.insert(Value::String(key), value);
        }
        Value::Mapping(map)
    })
}

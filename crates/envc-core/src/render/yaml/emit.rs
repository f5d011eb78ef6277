//! The canonical YAML envc writes golden files in: two-space indents, CloudFormation short
//! forms (`!Ref Bucket`, `!Select [0, !GetAZs ""]`), and quotes on every string a YAML 1.1
//! reader could take for something else (`"2012-10-17"`, `"yes"`, `"0755"`).

use std::fmt::Write as _;

use super::tree::{Mapping, Yaml};

/// Where strings of a tree were written in its text: (address, length, offset) of each
/// string (or tag) written as it is, plain or between quotes, in the order written.
pub(super) type Spots = Vec<(usize, usize, usize)>;

/// Writes `value` (a template body) in canonical form.
pub fn to_canonical_yaml(value: &Yaml) -> String {
    canonical_with_spots(value).0
}

/// [`to_canonical_yaml`], and where each string of `value` written as it is went.
pub(super) fn canonical_with_spots(value: &Yaml) -> (String, Spots) {
    // Room for a usual template's text and strings, so neither is grown and copied often.
    let mut out = Writer {
        text: String::with_capacity(4096),
        spots: Vec::with_capacity(256),
    };
    match value {
        Yaml::Mapping(map) if !map.is_empty() => mapping(&mut out, map, 0),
        Yaml::Sequence(items) if !items.is_empty() => sequence(&mut out, items, 0),
        other => {
            inline(&mut out, other, false);
            out.push('\n');
        }
    }
    // Held for the whole run: without the room it grew into (the texts of 1,000 generated
    // environments are 51 MB, and took 88 MB).
    out.text.shrink_to_fit();
    out.spots.shrink_to_fit();
    (out.text, out.spots)
}

/// The text being written, and where the tree's strings went in it.
struct Writer {
    text: String,
    spots: Spots,
}

impl Writer {
    fn push(&mut self, c: char) {
        self.text.push(c);
    }

    fn push_str(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn pop(&mut self) {
        self.text.pop();
    }

    fn len(&self) -> usize {
        self.text.len()
    }

    /// Takes back what was written from `len` on (a value that did not fit on its line).
    fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        while self.spots.last().is_some_and(|&(_, _, at)| at >= len) {
            self.spots.pop();
        }
    }

    /// Notes that `text`, a string of the tree, is written as it is next (after `skip` bytes
    /// of quoting).
    fn spot(&mut self, text: &str, skip: usize) {
        if !text.is_empty() {
            let at = self.text.len() + skip;
            self.spots.push((text.as_ptr() as usize, text.len(), at));
        }
    }
}

impl std::fmt::Write for Writer {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.text.push_str(text);
        Ok(())
    }
}

fn indent(out: &mut Writer, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn mapping(out: &mut Writer, map: &Mapping, level: usize) {
    for (key, value) in map {
        indent(out, level);
        key_text(out, key);
        out.push(':');
        after_key(out, value, level);
    }
}

/// What follows `key:` or `- `: an inline value, or a nested block on the next lines.
fn after_key(out: &mut Writer, value: &Yaml, level: usize) {
    out.push(' ');
    if inline(out, value, false) {
        out.push('\n');
        return;
    }
    out.pop();
    match value {
        Yaml::Mapping(map) => {
            out.push('\n');
            mapping(out, map, level + 1);
        }
        Yaml::Sequence(items) => {
            out.push('\n');
            sequence(out, items, level + 1);
        }
        Yaml::Tagged(tag, value) => {
            out.push(' ');
            out.spot(tag, 0);
            out.push_str(tag);
            after_key(out, value, level);
        }
        Yaml::String(s) => {
            block_literal(out, s, level + 1);
        }
        _ => out.push('\n'),
    }
}

fn sequence(out: &mut Writer, items: &[Yaml], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Yaml::Mapping(map) if !map.is_empty() => {
                // `- Key: value` with the rest of the mapping aligned under `Key`.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 1);
                    }
                    key_text(out, key);
                    out.push(':');
                    after_key(out, value, level + 1);
                }
            }
            other => after_key(out, other, level),
        }
    }
}

/// Writes the value on one line when it fits there; otherwise writes nothing and says so.
/// `in_flow`: it is an item of a flow sequence, where `,` ends a plain scalar.
fn inline(out: &mut Writer, value: &Yaml, in_flow: bool) -> bool {
    let start = out.len();
    let fits = match value {
        Yaml::Null => {
            out.push_str("null");
            true
        }
        Yaml::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            true
        }
        Yaml::Number(n) => {
            let _ = write!(out, "{n}");
            true
        }
        Yaml::String(s) if reads_back_from_literal_block(s) => false,
        Yaml::String(s) => {
            scalar_text(out, s, in_flow);
            true
        }
        Yaml::Mapping(map) if map.is_empty() => {
            out.push_str("{}");
            true
        }
        Yaml::Sequence(items) if items.is_empty() => {
            out.push_str("[]");
            true
        }
        // Plain lists and mappings go in blocks; only function arguments go in flow style.
        Yaml::Sequence(_) | Yaml::Mapping(_) => false,
        Yaml::Tagged(tag, value) => {
            out.spot(tag, 0);
            out.push_str(tag);
            out.push(' ');
            match value.as_ref() {
                Yaml::Sequence(items) => flow_sequence(out, items),
                Yaml::Mapping(_) => false,
                other => inline(out, other, in_flow),
            }
        }
    };
    if !fits {
        out.truncate(start);
    }
    fits
}

/// `[a, !Ref B]` when every item is a scalar or a tagged scalar (or such a list), in at
/// most 100 characters.
fn flow_sequence(out: &mut Writer, items: &[Yaml]) -> bool {
    let start = out.len();
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let fits = match item {
            Yaml::Sequence(inner) if !inner.is_empty() => flow_sequence(out, inner),
            Yaml::Mapping(_) => false,
            Yaml::String(s) if s.contains('\n') => false,
            other => inline(out, other, true),
        };
        if !fits {
            out.truncate(start);
            return false;
        }
    }
    out.push(']');
    if out.len() - start > 100 {
        out.truncate(start);
        return false;
    }
    true
}

/// Whether `text` spans lines and a literal block (`|` or `|-`, indentation detected)
/// reads back as exactly `text`: it has a line with content, the first such line does not
/// start with a space (which would be taken for indentation), it ends in at most one line
/// break (both chompings drop more), and it holds no other line break or control character.
fn reads_back_from_literal_block(text: &str) -> bool {
    if !text.contains('\n') || text.ends_with("\n\n") {
        return false;
    }
    let Some(first_line) = text.split('\n').find(|line| !line.is_empty()) else {
        return false;
    };
    // A tab opening the first line is no indentation to libyaml, which refuses it.
    !first_line.starts_with([' ', '\t'])
        && text
            .chars()
            .all(|c| c == '\n' || c == '\t' || !needs_escape(c))
}

fn block_literal(out: &mut Writer, text: &str, level: usize) {
    out.push_str(if text.ends_with('\n') {
        " |\n"
    } else {
        " |-\n"
    });
    for line in text.trim_end_matches('\n').split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn key_text(out: &mut Writer, key: &Yaml) {
    match key {
        Yaml::String(s) => scalar_text(out, s, false),
        other => {
            inline(out, other, false);
        }
    }
}

/// A string plain when no YAML reader could mistake it (in a flow sequence, where `,` ends
/// a plain scalar, one without `,`), double-quoted otherwise (as JSON quotes it).
fn scalar_text(out: &mut Writer, text: &str, in_flow: bool) {
    let classes = Classes::of(text.as_bytes());
    if is_plain_safe(text, classes) && !(in_flow && classes.any & COMMA != 0) {
        out.spot(text, 0);
        out.push_str(text);
    } else if classes.any & ESCAPED == 0
        && (classes.any & NON_ASCII == 0 || !text.chars().any(needs_escape))
    {
        // Nothing to escape: the string is as it is between the quotes.
        out.push('"');
        out.spot(text, 0);
        out.push_str(text);
        out.push('"');
    } else {
        double_quoted_escaped(out, text);
    }
}

/// A character YAML takes for a line break (NEL, U+2028, U+2029) or does not allow as it is
/// (control characters, DEL, the byte order mark, U+FFFE and U+FFFF): escaped where quoted.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// `text` between double quotes, escaped as JSON escapes it, and `\uXXXX` for the other
/// characters YAML would not read back as they are.
fn double_quoted_escaped(out: &mut Writer, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // As JSON writes them, so a golden file written before these escapes is the same.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if needs_escape(c) => {
                let _ = write!(out.text, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What each byte may be in a scalar (a bit set of the flags below).
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b' ' | b'_'
                    | b'.'
                    | b'/'
                    | b':'
                    | b'@'
                    | b'$'
                    | b'*'
                    | b','
                    | b'('
                    | b')'
                    | b'+'
                    | b'='
                    | b'-'
            )
        {
            class |= PLAIN;
        }
        // What YAML 1.1 numbers (any base, with `_`), dates and times are made of.
        if c.is_ascii_digit()
            || matches!(
                c,
                b'+' | b'-'
                    | b'.'
                    | b'_'
                    | b':'
                    | b'e'
                    | b'E'
                    | b'x'
                    | b'X'
                    | b'o'
                    | b'O'
                    | b'b'
                    | b'B'
                    | b'a'
                    | b'A'
                    | b'c'
                    | b'C'
                    | b'd'
                    | b'D'
                    | b'f'
                    | b'F'
            )
        {
            class |= NUMERIC;
        }
        if c.is_ascii_digit() {
            class |= DIGIT;
        }
        match c {
            b':' => class |= COLON,
            b',' => class |= COMMA,
            // What JSON escapes in a string, and DEL.
            b'"' | b'\\' | 0..0x20 | 0x7f => class |= ESCAPED,
            0x80.. => class |= NON_ASCII,
            _ => {}
        }
        table[b] = class;
        b += 1;
    }
    table
};
/// Allowed anywhere in a plain scalar (`:` only where no `: ` forms; no `#` at all).
const PLAIN: u8 = 1;
const NUMERIC: u8 = 2;
const DIGIT: u8 = 4;
const COLON: u8 = 8;
const COMMA: u8 = 16;
/// Escaped between double quotes.
const ESCAPED: u8 = 32;
/// A byte of a character past ASCII, which may need escaping (see [`needs_escape`]).
const NON_ASCII: u8 = 64;

/// The classes every byte of a text is of (`all`) and those some byte is of (`any`), found
/// in one pass: most strings are plain to their end, so the pass has no early exit.
#[derive(Clone, Copy)]
struct Classes {
    all: u8,
    any: u8,
}

impl Classes {
    fn of(bytes: &[u8]) -> Classes {
        let (all, any) = bytes.iter().fold((u8::MAX, 0), |(all, any), &b| {
            let class = BYTE_CLASS[usize::from(b)];
            (all & class, any | class)
        });
        Classes { all, any }
    }
}

/// Whether `text` can be written plain: it starts with a letter, digit or one of `/._$`,
/// holds only [`PLAIN`] bytes and no `: `, does not end in a space or `:`, and is not a YAML
/// 1.1 boolean, null, number, date or time. `classes` are its bytes'.
fn is_plain_safe(text: &str, classes: Classes) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || matches!(first, b'/' | b'.' | b'_' | b'$'))
        || matches!(last, b' ' | b':')
    {
        return false;
    }
    // `: ` would start a mapping's value.
    let colon_space = || bytes.windows(2).any(|pair| pair == b": ");
    if classes.all & PLAIN == 0 || (classes.any & COLON != 0 && colon_space()) {
        return false;
    }
    // Most strings stop being number-like at their first letters.
    let numeric = classes.all & NUMERIC != 0 && classes.any & DIGIT != 0;
    let is_word = is_yaml11_word(bytes);
    // A YAML 1.1 timestamp starts with a year: `2026-11-25T18:00:00Z`, `2026-11-25 18:00`.
    let is_timestamp =
        bytes.len() > 4 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-';
    !(is_word || numeric || is_timestamp)
}

/// Whether `bytes` is, in any case, a word YAML 1.1 reads as a boolean, null, infinity or
/// not-a-number.
fn is_yaml11_word(bytes: &[u8]) -> bool {
    if bytes.len() > 5 {
        return false;
    }
    let mut lower = [0u8; 5];
    lower[..bytes.len()].copy_from_slice(bytes);
    lower.make_ascii_lowercase();
    matches!(
        &lower[..bytes.len()],
        b"y" | b"n"
            | b"yes"
            | b"no"
            | b"on"
            | b"off"
            | b"true"
            | b"false"
            | b"null"
            | b"~"
            | b".inf"
            | b"-.inf"
            | b"+.inf"
            | b".nan"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml_ng::Value;

    fn round_trip(text: &str) -> String {
        let value: Value = serde_yaml_ng::from_str(text).unwrap();
        let canonical = to_canonical_yaml(&Yaml::from_value(value.clone()));
        let again: Value = serde_yaml_ng::from_str(&canonical).unwrap();
        assert_eq!(
            value, again,
            "canonical form changed the value:\n{canonical}"
        );
        canonical
    }

    #[test]
    fn quotes_commas_in_flow_and_blocks_only_what_reads_back() {
        let out = round_trip("A: !Split [\",\", \"a,b\"]\nB: a,b\n");
        assert_eq!(out, "A: !Split [\",\", \"a,b\"]\nB: a,b\n");
        let out = round_trip("A: [\"\\n\", \"\\n  x\", \"x\\r\\ny\"]\nB: \"\\nx\\n\"\n");
        assert_eq!(
            out,
            "A:\n  - \"\\n\"\n  - \"\\n  x\"\n  - \"x\\r\\ny\"\nB: |\n\n  x\n"
        );
    }

    /// What YAML would not read back as it is (DEL, C1 controls, the line breaks NEL, U+2028
    /// and U+2029, a byte order mark, U+FFFE) is escaped, and a literal block is not opened
    /// by a tab: each string reads back as itself.
    #[test]
    fn every_string_reads_back_as_itself() {
        let texts = [
            "a\u{7f}b",
            "\u{80}",
            "\u{9f}",
            "queue\u{85}one",
            "x\u{2028}y\u{2029}",
            "\u{feff}x",
            "\u{fffe}",
            "\tindented\nsecond",
            "ok\n\tthen a tab\n",
        ];
        for text in texts {
            let mut map = Mapping::default();
            map.push(Yaml::str("A"), Yaml::str(text));
            let written = to_canonical_yaml(&Yaml::Mapping(map));
            let read: serde_yaml_ng::Value = serde_yaml_ng::from_str(&written)
                .unwrap_or_else(|e| panic!("{text:?} wrote {written:?}: {e}"));
            assert_eq!(read["A"].as_str(), Some(text), "{written:?}");
        }
    }

    /// A string quoted without escapes is quoted as JSON quotes it.
    #[test]
    fn quotes_as_json_does() {
        let texts = [
            "yes",
            "a: b",
            "x\"y",
            "back\\slash",
            "tab\there",
            "\u{1}",
            "\u{8}\u{c}",
            "\u{1f}",
            "é and ü",
            "2012-10-17",
            "",
            " lead",
            "trail:",
            "#hash",
            "🦀",
            "a,b",
        ];
        for text in texts {
            let mut out = Writer {
                text: String::new(),
                spots: Spots::default(),
            };
            scalar_text(&mut out, text, true);
            let quoted = serde_json::to_string(text).unwrap();
            assert!(
                out.text == text || out.text == quoted,
                "{text:?}: {}",
                out.text
            );
        }
    }

    #[test]
    fn knows_yaml_11_words_in_any_case() {
        for word in [
            "y", "N", "Yes", "no", "ON", "off", "True", "FALSE", "null", ".inf", "-.Inf", ".NaN",
        ] {
            assert!(is_yaml11_word(word.as_bytes()), "{word}");
            assert!(!is_plain_safe(word, Classes::of(word.as_bytes())), "{word}");
        }
        for word in ["Type", "Value", "yess", "nul", "offs", "", "falsey", "Name"] {
            assert!(!is_yaml11_word(word.as_bytes()), "{word}");
        }
    }

    #[test]
    fn quotes_what_yaml_11_would_misread() {
        let out = round_trip("a: \"2012-10-17\"\nb: \"yes\"\nc: \"0755\"\nd: plain-text\ne: \"1e3\"\nf: \"*\"\ng: \"x: y\"\nh: \"2026-11-25T18:00:00Z\"\ni: \"2026-11-25 18:00:00\"\n");
        assert_eq!(out, "a: \"2012-10-17\"\nb: \"yes\"\nc: \"0755\"\nd: plain-text\ne: \"1e3\"\nf: \"*\"\ng: \"x: y\"\nh: \"2026-11-25T18:00:00Z\"\ni: \"2026-11-25 18:00:00\"\n");
    }

    #[test]
    fn writes_short_forms_and_nested_blocks() {
        let out = round_trip(
            "R:\n  Type: AWS::EC2::Subnet\n  Properties:\n    Az: !Select [0, !GetAZs \"\"]\n    Ids: !Split [\",\", !ImportValue x-y]\n    Vpc: !Ref Vpc\n    Tags:\n      - Key: Name\n        Value: web\n    Sub: !Sub\n      - \"${A}/*\"\n      - A: !GetAtt B.Arn\n    Code: |\n      line one\n      line two\n",
        );
        assert!(out.contains("Az: !Select [0, !GetAZs \"\"]\n"), "{out}");
        assert!(
            out.contains("Ids: !Split [\",\", !ImportValue x-y]\n"),
            "{out}"
        );
        assert!(
            out.contains("    Tags:\n      - Key: Name\n        Value: web\n"),
            "{out}"
        );
        assert!(
            out.contains("Sub: !Sub\n      - \"${A}/*\"\n      - A: !GetAtt B.Arn\n"),
            "{out}"
        );
        assert!(
            out.contains("Code: |\n      line one\n      line two\n"),
            "{out}"
        );
    }
}

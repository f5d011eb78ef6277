//! A reader for the block YAML that templates write, building the [`Yaml`] tree of exactly
//! the value `serde_yaml_ng` builds from the same text, several times faster.
//!
//! It knows block mappings and sequences, plain, quoted and literal (`|`, `|-`) scalars,
//! one-line flow sequences, `{}`, comments, and `!Tag` short forms. Anything else — anchors,
//! aliases, merge keys, folded scalars, multi-line plain or quoted scalars, multi-line flow,
//! directives, several documents, tabs, control characters, duplicate keys, and every syntax
//! error — makes it answer `None`, and the caller asks `serde_yaml_ng`. A differential test
//! holds it to `serde_yaml_ng` on every golden file and on generated documents.

use std::borrow::Cow;

use super::scalar::{double_quoted, plain, single_quoted};

use super::tree::{Mapping, Yaml};
use super::MAX_KEY_LEN;

/// The document in `text`, or `None` when the text is outside what this reader knows.
pub fn parse(text: &str) -> Option<Yaml<'_>> {
    if !plain_text(text) {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 32 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(&text[start..end]);
        start = end + 1;
    }
    lines.push(&text[start..]);
    let mut reader = Reader {
        lines,
        next: 0,
        depth: 0,
    };
    if reader
        .lines
        .iter()
        .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
    {
        return None;
    }
    let (indent, _) = reader.peek()?;
    let root = reader.block(indent)?;
    match reader.peek() {
        None => Some(root),
        Some(_) => None,
    }
}

/// No byte order mark, tab, carriage return, control character or non-ASCII line break.
fn plain_text(text: &str) -> bool {
    // Without early exits, so the loop vectorises: this looks at every byte of every template.
    let control = text.bytes().fold(false, |found, b| {
        found | ((b < 0x20) & (b != b'\n')) | (b == 0x7f)
    });
    !control
        && (text.is_ascii()
            || text.chars().all(|c| {
                c.is_ascii()
                    || matches!(c, '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..)
            }))
}

struct Reader<'a> {
    lines: Vec<&'a str>,
    /// The next line not yet consumed.
    next: usize,
    /// Block nodes open around the one being read.
    depth: usize,
}

/// The deepest nesting this reader follows, of blocks and of one line's flow collections;
/// deeper text goes to `serde_yaml_ng`, which refuses nesting past its own limit (128): a
/// template's output nested thousands deep must not overflow the stack.
const MAX_DEPTH: usize = 128;

fn indent_of(line: &str) -> usize {
    line.bytes().position(|b| b != b' ').unwrap_or(line.len())
}

fn is_item(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// Text after a value: nothing, or a comment.
fn is_blank_or_comment(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

impl<'a> Reader<'a> {
    /// The next line with content (skipping blank and comment lines): its indent and text.
    fn peek(&mut self) -> Option<(usize, &'a str)> {
        while let Some(line) = self.lines.get(self.next) {
            let indent = indent_of(line);
            let rest = &line[indent..];
            if rest.is_empty() || rest.starts_with('#') {
                self.next += 1;
                continue;
            }
            return Some((indent, rest));
        }
        None
    }

    /// The block node whose first line is the next one, at `indent`.
    fn block(&mut self, indent: usize) -> Option<Yaml<'a>> {
        let (_, rest) = self.peek()?;
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let node = if is_item(rest) {
            self.sequence(indent)
        } else {
            self.mapping(indent, None)
        };
        self.depth -= 1;
        node
    }

    fn sequence(&mut self, indent: usize) -> Option<Yaml<'a>> {
        let mut items = Vec::new();
        while let Some((at, rest)) = self.peek() {
            if at < indent || (at == indent && !is_item(rest)) {
                break;
            }
            if at > indent {
                return None;
            }
            self.next += 1;
            let after = &rest[1..];
            let content = after.trim_start_matches(' ');
            let column = indent + 1 + (after.len() - content.len());
            if is_item(content) {
                return None;
            }
            let first_entry = (!is_blank_or_comment(after))
                .then(|| split_key(content))
                .flatten();
            let item = match first_entry {
                Some(entry) => self.mapping(column, Some(entry))?,
                None => self.after_indicator(after, indent, false)?,
            };
            items.push(item);
        }
        Some(Yaml::Sequence(items))
    }

    /// A mapping at `indent`; `first` is its first entry's key and the text after it, when
    /// it began on a line already read (`- Key: value`).
    fn mapping(&mut self, indent: usize, first: Option<(Yaml<'a>, &'a str)>) -> Option<Yaml<'a>> {
        let mut map = Mapping::default();
        let mut pending = first;
        loop {
            let (key, after) = match pending.take() {
                Some(entry) => entry,
                None => {
                    let Some((at, rest)) = self.peek() else {
                        break;
                    };
                    if at < indent {
                        break;
                    }
                    if at > indent || is_item(rest) {
                        return None;
                    }
                    self.next += 1;
                    split_key(rest)?
                }
            };
            let value = self.after_indicator(after, indent, true)?;
            map.push(key, value);
        }
        (!map.has_duplicate_keys()).then_some(Yaml::Mapping(map))
    }

    /// The value after `key:` or `-` of a node at `indent`.
    fn after_indicator(
        &mut self,
        after: &'a str,
        indent: usize,
        in_mapping: bool,
    ) -> Option<Yaml<'a>> {
        if !(after.is_empty() || after.starts_with(' ')) {
            return None;
        }
        let text = after.trim_start_matches(' ');
        if is_blank_or_comment(after) {
            return self.nested(indent, in_mapping);
        }
        match text.as_bytes()[0] {
            b'|' => self.literal(text, indent),
            b'!' => {
                let (tag, rest) = tag(text)?;
                if is_blank_or_comment(rest) {
                    match self.nested(indent, in_mapping)? {
                        Yaml::Null => None,
                        value => Some(tagged(tag, value)),
                    }
                } else {
                    let rest = rest.trim_start_matches(' ');
                    if rest.starts_with(['|', '!']) {
                        return None;
                    }
                    Some(tagged(tag, block_scalar(rest)?))
                }
            }
            _ => block_scalar(text),
        }
    }

    /// What follows `key:` with nothing after it: a more indented block, a sequence at the
    /// key's own indent, or null.
    fn nested(&mut self, indent: usize, in_mapping: bool) -> Option<Yaml<'a>> {
        match self.peek() {
            Some((at, _)) if at > indent => self.block(at),
            Some((at, rest)) if at == indent && in_mapping && is_item(rest) => {
                self.sequence(indent)
            }
            _ => Some(Yaml::Null),
        }
    }

    /// A literal block scalar (`|` or `|-`) under a node at `indent`.
    fn literal(&mut self, header: &str, indent: usize) -> Option<Yaml<'a>> {
        let strip = match header[1..]
            .split_once(" #")
            .map_or(&header[1..], |(h, _)| h)
        {
            h if h.trim_end_matches(' ').is_empty() => false,
            h if h.trim_end_matches(' ') == "-" => true,
            _ => return None,
        };
        let first = *self.lines.get(self.next)?;
        let content_indent = indent_of(first);
        if first.trim_start_matches(' ').is_empty() || content_indent <= indent {
            // An empty block scalar, or one opening with blank lines: leave it to serde_yaml_ng.
            return None;
        }
        let mut lines: Vec<&str> = Vec::new();
        while let Some(line) = self.lines.get(self.next) {
            let at = indent_of(line);
            if at == line.len() {
                if at > content_indent {
                    return None;
                }
                lines.push("");
            } else if at >= content_indent {
                lines.push(&line[content_indent..]);
            } else {
                break;
            }
            self.next += 1;
        }
        while lines.last() == Some(&"") {
            lines.pop();
        }
        let mut text = lines.join("\n");
        if !strip {
            text.push('\n');
        }
        Some(Yaml::String(Cow::Owned(text)))
    }
}

fn tagged<'a>(tag: &'a str, value: Yaml<'a>) -> Yaml<'a> {
    Yaml::Tagged(Cow::Borrowed(tag), Box::new(value))
}

/// `!Name` at the start of `text`: the tag and what follows it.
fn tag(text: &str) -> Option<(&str, &str)> {
    let end = text[1..]
        .find(|c: char| !c.is_ascii_alphanumeric())
        .map_or(text.len(), |e| e + 1);
    let (tag, rest) = text.split_at(end);
    (tag.len() > 1 && (rest.is_empty() || rest.starts_with(' '))).then_some((tag, rest))
}

/// A key and the text after its `:`, when `rest` starts with one.
fn split_key(rest: &str) -> Option<(Yaml<'_>, &str)> {
    let (key, after) = match rest.as_bytes()[0] {
        b'"' => {
            let (key, after) = double_quoted(rest)?;
            if rest.len() - after.len() > MAX_KEY_LEN {
                return None;
            }
            (Yaml::String(key), after.strip_prefix(':')?)
        }
        b'\'' => {
            let (key, after) = single_quoted(rest)?;
            if rest.len() - after.len() > MAX_KEY_LEN {
                return None;
            }
            (Yaml::String(key), after.strip_prefix(':')?)
        }
        b if is_indicator(b) => return None,
        _ => {
            let bytes = rest.as_bytes();
            let colon = memchr::memchr_iter(b':', bytes)
                .find(|&i| i + 1 == bytes.len() || bytes[i + 1] == b' ')?;
            let key = rest[..colon].trim_end_matches(' ');
            // A merge key (`<<`) is merged by the caller's `serde_yaml_ng` path, which also
            // refuses a key past libyaml's 1,024 characters.
            if has_comment(key) || key == "<<" || key.len() > MAX_KEY_LEN {
                return None;
            }
            (plain(key)?, &rest[colon + 1..])
        }
    };
    (after.is_empty() || after.starts_with(' ')).then_some((key, after))
}

fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// A scalar, flow sequence or `{}` filling the rest of a block line.
fn block_scalar(text: &str) -> Option<Yaml<'_>> {
    let (value, rest) = match text.as_bytes()[0] {
        b'"' => {
            let (s, rest) = double_quoted(text)?;
            (Yaml::String(s), rest)
        }
        b'\'' => {
            let (s, rest) = single_quoted(text)?;
            (Yaml::String(s), rest)
        }
        b'[' | b'{' if flow_depth(text) > MAX_DEPTH => return None,
        b'[' => flow_sequence(text)?,
        b'{' => flow_mapping(text)?,
        b'-' if !text[1..].starts_with([' ', '-']) && text.len() > 1 => {
            return plain_to_comment(text)
        }
        b if is_indicator(b) => return None,
        _ => return plain_to_comment(text),
    };
    is_blank_or_comment(rest).then_some(value)
}

/// A plain scalar running to the end of the line or a comment.
fn plain_to_comment(text: &str) -> Option<Yaml<'_>> {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    // The first ` #` (a comment) or `: ` (a mapping in a scalar).
    for i in memchr::memchr2_iter(b'#', b':', bytes) {
        if bytes[i] == b'#' && i > 0 && bytes[i - 1] == b' ' {
            end = i - 1;
            break;
        }
        if bytes[i] == b':' && bytes.get(i + 1) == Some(&b' ') {
            return None;
        }
    }
    let text = text[..end].trim_end_matches(' ');
    if text.ends_with(':') {
        return None;
    }
    plain(text)
}

/// Whether `text` holds ` #`, the start of a comment.
fn has_comment(text: &str) -> bool {
    text.as_bytes().windows(2).any(|pair| pair == b" #")
}

/// The most brackets open at once in `text`, counting those in quotes too (an overcount only
/// leaves more text to `serde_yaml_ng`).
fn flow_depth(text: &str) -> usize {
    let (mut open, mut most) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                open += 1;
                most = most.max(open);
            }
            b']' | b'}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    most
}

/// `{"Fn::GetAtt": [A, B]}` on one line: the mapping and the text after it.
fn flow_mapping(text: &str) -> Option<(Yaml<'_>, &str)> {
    let mut map = Mapping::default();
    let mut rest = match flow_open(text, '}') {
        Flow::Closed(after) => return Some((Yaml::Mapping(map), after)),
        Flow::Item(rest) => rest,
    };
    loop {
        let (key, after) = match *rest.as_bytes().first()? {
            b'"' => double_quoted(rest).map(|(k, a)| (Yaml::String(k), a))?,
            b'\'' => single_quoted(rest).map(|(k, a)| (Yaml::String(k), a))?,
            b if is_indicator(b) => return None,
            _ => {
                let end = rest.find([',', ']', '[', '{', '}', '#', ':'])?;
                let key = rest[..end].trim_end_matches(' ');
                if rest.as_bytes()[end] != b':' || key.is_empty() {
                    return None;
                }
                (plain(key)?, &rest[end..])
            }
        };
        if rest.len() - after.len() > MAX_KEY_LEN {
            return None;
        }
        let after = after.strip_prefix(": ")?.trim_start_matches(' ');
        let (value, after) = flow_item(after)?;
        map.push(key, value);
        rest = match flow_next(after, '}')? {
            Flow::Closed(_) if map.has_duplicate_keys() => return None,
            Flow::Closed(after) => return Some((Yaml::Mapping(map), after)),
            Flow::Item(rest) => rest,
        };
    }
}

/// `[a, !Ref B, [c]]` on one line: the sequence and the text after it.
fn flow_sequence(text: &str) -> Option<(Yaml<'_>, &str)> {
    let mut items = Vec::new();
    let mut rest = match flow_open(text, ']') {
        Flow::Closed(after) => return Some((Yaml::Sequence(items), after)),
        Flow::Item(rest) => rest,
    };
    loop {
        let (item, after) = flow_item(rest)?;
        items.push(item);
        rest = match flow_next(after, ']')? {
            Flow::Closed(after) => return Some((Yaml::Sequence(items), after)),
            Flow::Item(rest) => rest,
        };
    }
}

/// Where a one-line flow collection goes next.
enum Flow<'a> {
    /// It closed; the text after its closing bracket.
    Closed(&'a str),
    /// Its next item starts here.
    Item(&'a str),
}

/// Just inside the opening bracket of `text`: empty, or at its first item.
fn flow_open(text: &str, close: char) -> Flow<'_> {
    let rest = text[1..].trim_start_matches(' ');
    match rest.strip_prefix(close) {
        Some(after) => Flow::Closed(after),
        None => Flow::Item(rest),
    }
}

/// After an item: the closing bracket, or `,` and the next item (a trailing `,` is left to
/// serde_yaml_ng).
fn flow_next(after: &str, close: char) -> Option<Flow<'_>> {
    let after = after.trim_start_matches(' ');
    if let Some(after) = after.strip_prefix(close) {
        return Some(Flow::Closed(after));
    }
    let rest = after.strip_prefix(',')?.trim_start_matches(' ');
    (!rest.starts_with(close)).then_some(Flow::Item(rest))
}

fn flow_item(text: &str) -> Option<(Yaml<'_>, &str)> {
    match *text.as_bytes().first()? {
        b'[' => flow_sequence(text),
        b'"' => double_quoted(text).map(|(s, r)| (Yaml::String(s), r)),
        b'\'' => single_quoted(text).map(|(s, r)| (Yaml::String(s), r)),
        b'{' => flow_mapping(text),
        b'!' => {
            let (tag, rest) = tag(text)?;
            let rest = rest.trim_start_matches(' ');
            if rest.starts_with([',', ']', '!']) || rest.is_empty() {
                return None;
            }
            let (value, after) = flow_item(rest)?;
            Some((tagged(tag, value), after))
        }
        b'-' if text[1..].starts_with(|c: char| c.is_ascii_alphanumeric()) => flow_plain(text),
        b if is_indicator(b) => None,
        _ => flow_plain(text),
    }
}

fn flow_plain(text: &str) -> Option<(Yaml<'_>, &str)> {
    let end = text.find([',', ']', '[', '{', '}', '#', ':'])?;
    if matches!(text.as_bytes()[end], b'[' | b'{' | b'#' | b':') {
        return None;
    }
    let scalar = text[..end].trim_end_matches(' ');
    if scalar.is_empty() {
        return None;
    }
    Some((plain(scalar)?, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml_ng::Value;

    /// The fast reader agrees with serde_yaml_ng, or leaves the text to it.
    fn same(text: &str) -> bool {
        let slow: Result<Value, _> = serde_yaml_ng::from_str(text);
        match parse(text) {
            Some(fast) => {
                let fast = fast.to_value();
                assert_eq!(
                    Ok(&fast),
                    slow.as_ref().map_err(|e| e.to_string()),
                    "{text:?}"
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn reads_what_templates_write() {
        for text in [
            "a: 1\nb: two\nc: \"three\"\nd: 'fo''ur'\n",
            "R:\n  Type: AWS::EC2::VPC\n  Properties:\n    CidrBlock: 10.0.0.0/16\n    Tags:\n      - Key: Name\n        Value: !Sub \"${AWS::StackName}-vpc\"\n",
            "A: !Select [0, !GetAZs \"\"]\nB: !Join [\"\", [\"arn:\", !Ref X, /*]]\nC: []\nD: {}\n",
            "A: !Sub\n  - \"${X}/*\"\n  - X: !GetAtt B.Arn\nB: !If\n- C\n- !Ref D\n- !Ref AWS::NoValue\n",
            "Code: |\n  line one\n\n    indented\n  line three\n\nNext: x # comment\n",
            "Code: |-\n  a\n  b\n# c\nN: [1, -2, 3.5, 0x1f, 007, .inf, true, ~, null]\n",
            "h: 0\ni: -0\nj: 00.5\nk: -1\nl: +2\nm: 1e3\nn: 1_000\no: 0o17\nq: -x\nr: .5\ns: 10.0.0.0/16\nt: 16.6\nu: -3.25\nv: 1.\nw: 123456789012345678\n",
            "\"quoted key\": v\n'single': v\n80: http\ntrue: yes\n",
            "a: \"\\u00e9\\x41\\t\\\\ \\\"\"\nb: héllo wörld\nc: a#b\nd: a # b\n",
            "- a\n- b: 1\n  c: 2\n-\n  d: 3\n- [nested]\n",
            "a: 1\nb:\n  - x\n  - y\n",
            "A: !Ref 123\nB: !Ref true\nC: !Sub ''\nD: !Ref ~\n",
            "V: {\"Fn::GetAtt\": [\"Instance\", \"Endpoint.Port\"]}\nW: { a: 1, 'b': [x, {}], c: !Ref D }\n",
        ] {
            assert!(same(text), "{text:?} should be read by the fast reader");
        }
    }

    #[test]
    fn leaves_the_rest_to_serde_yaml_ng() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: >\n  folded\n",
            "a: b\n  continued\n",
            "a: \"multi\n  line\"\n",
            "a: [1,\n  2]\n",
            "---\na: 1\n",
            "a:\tb\n",
            "a: 1\na: 2\n",
            "a: b: c\n",
            "? a\n: b\n",
            "a: |+\n  x\n\n",
            "",
            "just a scalar\n",
            "p: 12345678901234567890123\n",
            "a: {x: 1, x: 2}\n",
            "a: {x: 1,\n  y: 2}\n",
            "a: {x:1}\n",
        ] {
            assert!(!same(text), "{text:?} should be left to serde_yaml_ng");
        }
    }
}

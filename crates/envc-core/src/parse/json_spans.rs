//! Where things are in a JSON text that `serde_json` has already accepted: the span of every
//! reference (`$ref`, `$dynamicRef`, `$recursiveRef`) with the JSON pointer of the object
//! holding it, and the first place nesting goes
//! deeper than a limit. One pass over the bytes with an explicit stack, so no input can
//! recurse or loop; on text that is not JSON it still ends, with whatever it found.

use std::ops::Range;

/// The keys whose string value refers to another schema.
pub const REFERENCES: [&str; 3] = ["$ref", "$dynamicRef", "$recursiveRef"];

/// A `"$ref": "…"` (or another of [`REFERENCES`]) of the text.
#[derive(Debug, Clone, PartialEq)]
pub struct RefAt {
    /// Which of [`REFERENCES`] it is.
    pub keyword: &'static str,
    /// The pointer of the object holding the `$ref`, as steps (array indexes as digits).
    pub holder: Vec<String>,
    /// What the `$ref` says.
    pub target: String,
    /// The byte range of its value, quotes included.
    pub span: Range<usize>,
}

/// What one pass over a JSON text found.
#[derive(Debug, Default)]
pub struct JsonSpans {
    pub refs: Vec<RefAt>,
    /// The offset of the first `{` or `[` nested deeper than the limit (the pass stops there).
    pub too_deep: Option<usize>,
}

enum Frame {
    Object {
        key: Option<String>,
        expect_key: bool,
    },
    Array {
        index: usize,
    },
}

impl Frame {
    fn step(&self) -> String {
        match self {
            Frame::Object { key, .. } => key.clone().unwrap_or_default(),
            Frame::Array { index } => index.to_string(),
        }
    }
}

/// The `$ref`s of `text`, and where its nesting first exceeds `max_depth`.
pub fn scan(text: &str, max_depth: usize) -> JsonSpans {
    let bytes = text.as_bytes();
    let mut found = JsonSpans::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' | b'[' if stack.len() >= max_depth => {
                found.too_deep = Some(at);
                return found;
            }
            b'{' => stack.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { key, expect_key }) => (*key, *expect_key) = (None, true),
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b'"' => {
                let end = string_end(bytes, at);
                let value = serde_json::from_str::<String>(&text[at..end]).unwrap_or_default();
                string_at(&mut stack, &mut found, value, at..end);
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    found
}

/// A string read at `span`: a key, a `$ref`'s value, or any other value.
fn string_at(stack: &mut [Frame], found: &mut JsonSpans, value: String, span: Range<usize>) {
    let holder_depth = stack.len().saturating_sub(1);
    match stack.last_mut() {
        Some(Frame::Object { key, expect_key }) if *expect_key => {
            (*key, *expect_key) = (Some(value), false);
        }
        Some(Frame::Object { key: Some(key), .. }) if REFERENCES.contains(&key.as_str()) => {
            let keyword = REFERENCES
                .iter()
                .find(|r| **r == key)
                .copied()
                .unwrap_or("$ref");
            let holder = stack[..holder_depth].iter().map(Frame::step).collect();
            found.refs.push(RefAt {
                keyword,
                holder,
                target: value,
                span,
            });
        }
        _ => {}
    }
}

/// The offset just past the string that opens at `start`, escapes skipped.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_found_with_the_pointer_of_their_object_and_their_span() {
        let text = r##"{"a": [1, {"$ref": "#/x"}], "b": {"c\"": {"$r\u0065f": "#/y"}}}"##;
        let found = scan(text, 64);
        assert_eq!(found.refs.len(), 2);
        assert_eq!(found.refs[0].holder, ["a", "1"]);
        assert_eq!(found.refs[0].target, "#/x");
        assert_eq!(&text[found.refs[0].span.clone()], "\"#/x\"");
        assert_eq!(found.refs[1].holder, ["b", "c\""]);
        assert_eq!(found.too_deep, None);
    }

    #[test]
    fn nesting_past_the_limit_is_found_where_it_starts() {
        let text = format!("{}{}", "[".repeat(5), "]".repeat(5));
        assert_eq!(scan(&text, 4).too_deep, Some(4));
        assert_eq!(scan(&text, 5).too_deep, None);
        // Text that is not JSON ends too.
        scan("\"\\", 4);
        scan("}}]]{\"", 4);
    }
}

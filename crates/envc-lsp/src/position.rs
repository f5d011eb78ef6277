//! Between envc's byte offsets and the protocol's places: lines and characters counted in
//! UTF-16 code units (the protocol's default) or bytes (when the client offers UTF-8), and
//! `file://` URIs.

use std::path::{Path, PathBuf};

use lsp_types::{Position, Range, Uri};

/// How the client counts characters within a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// The line breaks of `text` as the protocol counts them (`\n`, `\r\n` and a lone `\r`):
/// the offset where each break starts and where the next line starts.
fn line_breaks(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(b'\n', b'\r', bytes).filter_map(move |at| match bytes[at] {
        // The `\n` of a `\r\n` was counted with its `\r`.
        b'\n' if at > 0 && bytes[at - 1] == b'\r' => None,
        b'\r' if bytes.get(at + 1) == Some(&b'\n') => Some((at, at + 2)),
        _ => Some((at, at + 1)),
    })
}

/// The protocol position of byte `offset` in `text` (clamped to the text, and back to a
/// character boundary; inside a `\r\n`, the end of its line).
pub fn position(text: &str, offset: usize, encoding: Encoding) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (mut line, mut line_start) = (0, 0);
    for (at, next) in line_breaks(text) {
        if next > offset {
            offset = offset.min(at);
            break;
        }
        line += 1;
        line_start = next;
    }
    let in_line = &text[line_start..offset];
    let character = match encoding {
        Encoding::Utf8 => in_line.len(),
        Encoding::Utf16 => in_line.encode_utf16().count(),
    };
    Position::new(line as u32, character as u32)
}

pub fn range(text: &str, start: usize, end: usize, encoding: Encoding) -> Range {
    Range::new(
        position(text, start, encoding),
        position(text, end, encoding),
    )
}

/// The byte offset of `position` in `text`; past the end of a line is its end.
pub fn offset(text: &str, position: Position, encoding: Encoding) -> usize {
    let (mut line_start, mut line_end) = (0, text.len());
    let mut lines = line_breaks(text);
    for _ in 0..position.line {
        match lines.next() {
            Some((_, next)) => line_start = next,
            None => return text.len(),
        }
    }
    if let Some((at, _)) = lines.next() {
        line_end = at;
    }
    let line = &text[line_start..line_end];
    let wanted = position.character as usize;
    let mut counted = 0;
    for (i, c) in line.char_indices() {
        if counted >= wanted {
            return line_start + i;
        }
        counted += match encoding {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        };
    }
    line_end
}

/// The path of a `file://` URI.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let rest = text.strip_prefix("file://")?;
    // `file:///C:/…` on Windows, `file:///home/…` elsewhere; a host part is not a local file.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    Some(PathBuf::from(percent_decode(path)?))
}

pub fn uri_of(path: &Path) -> Uri {
    let mut text = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                text.push(byte as char)
            }
            other => text.push_str(&format!("%{other:02X}")),
        }
    }
    text.parse()
        .expect("a file URI of escaped characters is a URI")
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_newline_crlf_and_a_lone_carriage_return() {
        let text = "a\rb\r\nc\nd";
        let at = |o| position(text, o, Encoding::Utf16);
        assert_eq!(at(2), Position::new(1, 0));
        assert_eq!(
            at(4),
            Position::new(1, 1),
            "inside a CRLF: the end of its line"
        );
        assert_eq!(at(5), Position::new(2, 0));
        assert_eq!(at(text.len()), Position::new(3, 1));
        for o in [0, 1, 2, 3, 5, 6, 7, 8] {
            assert_eq!(offset(text, at(o), Encoding::Utf16), o);
        }
        assert_eq!(offset(text, Position::new(1, 9), Encoding::Utf8), 3);
    }

    #[test]
    fn utf16_counts_surrogate_pairs_and_bytes_count_bytes() {
        let text = "a\n\"é😀x\" b\n";
        let x = text.find('x').unwrap();
        assert_eq!(position(text, x, Encoding::Utf16), Position::new(1, 4));
        assert_eq!(position(text, x, Encoding::Utf8), Position::new(1, 7));
        for encoding in [Encoding::Utf8, Encoding::Utf16] {
            let back = offset(text, position(text, x, encoding), encoding);
            assert_eq!(back, x);
        }
        assert_eq!(offset(text, Position::new(0, 99), Encoding::Utf16), 1);
        assert_eq!(
            offset(text, Position::new(9, 0), Encoding::Utf16),
            text.len()
        );
    }

    #[test]
    fn uris_round_trip_with_escapes() {
        let path = Path::new("/tmp/my project/env/dev.kdl");
        let uri = uri_of(path);
        assert_eq!(uri.as_str(), "file:///tmp/my%20project/env/dev.kdl");
        assert_eq!(path_of(&uri).unwrap(), path);
    }
}

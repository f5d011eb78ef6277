//! How deep a file nests, found before any reader recurses into it: blocks and comments
//! deeper than [`MAX_DEPTH`] are a diagnostic, so no input can overflow a reader's stack.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Blocks (or `/* */` comments) inside each other. Environment files use four or five.
pub const MAX_DEPTH: usize = 64;

/// The first `{` or `/*` that opens level [`MAX_DEPTH`] + 1, skipping strings and comments.
/// Text the scan cannot follow (an unclosed string) ends the scan: the readers explain it.
pub fn check(text: &str, file: FileId) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(too_deep(file, i, 1, "block"));
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            b'"' => i = skip_quoted(bytes, i)?,
            b'#' if matches!(bytes.get(i + 1), Some(b'#' | b'"')) => i = skip_raw(bytes, i)?,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match skip_comment(bytes, i, file) {
                Ok(end) => i = end,
                Err(problem) => return problem,
            },
            _ => {}
        }
        i += 1;
    }
    None
}

fn too_deep(file: FileId, at: usize, len: usize, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::TooDeep,
        format!("{what}s are nested more than {MAX_DEPTH} deep"),
    )
    .at(
        Span::new(file, at, at + len),
        format!("this {what} opens level {}", MAX_DEPTH + 1),
    )
    .help("envc reads at most 64 levels; environment files need a handful")
}

/// The index of the closing quote of a `"…"` (or `"""…"""`) string starting at `start`.
fn skip_quoted(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the last `#` of a raw string `#"…"#` starting at `start`.
fn skip_raw(bytes: &[u8], start: usize) -> Option<usize> {
    let hashes = bytes[start..].iter().take_while(|b| **b == b'#').count();
    if bytes.get(start + hashes) != Some(&b'"') {
        return Some(start + hashes - 1);
    }
    let mut i = start + hashes + 1;
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes.len() >= i + 1 + hashes
            && bytes[i + 1..i + 1 + hashes].iter().all(|b| *b == b'#')
        {
            return Some(i + hashes);
        }
        i += 1;
    }
    None
}

/// The index of the `/` that closes the `/*` comment at `start`; nested comments count
/// towards the depth too.
/// `Err(None)` for an unclosed comment, which the readers explain.
fn skip_comment(bytes: &[u8], start: usize, file: FileId) -> Result<usize, Option<Diagnostic>> {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Some(too_deep(file, i, 2, "comment")));
                }
                i += 1;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_blocks_and_comments_but_not_braces_in_strings() {
        let deep = |n: usize| "a {".repeat(n) + &"}".repeat(n);
        assert!(check(&deep(MAX_DEPTH), FileId(0)).is_none());
        let d = check(&deep(MAX_DEPTH + 1), FileId(0)).expect("too deep");
        assert_eq!(d.code, Code::TooDeep);
        assert_eq!(d.primary.unwrap().span.start, 3 * MAX_DEPTH + 2);
        let in_strings = format!(
            "a \"{}\" #\"{}\"# // {}",
            "{".repeat(99),
            "{".repeat(99),
            "{".repeat(99)
        );
        assert!(check(&in_strings, FileId(0)).is_none());
        let comments = "/*".repeat(MAX_DEPTH + 1) + &"*/".repeat(MAX_DEPTH + 1);
        assert_eq!(check(&comments, FileId(0)).unwrap().code, Code::TooDeep);
    }
}

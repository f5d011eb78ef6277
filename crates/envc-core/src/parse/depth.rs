//! How deep a file nests, found before any reader recurses into it: blocks and comments
//! deeper than [`MAX_DEPTH`] are a diagnostic, so no input can overflow a reader's stack.

use super::lexer::{Lexer, Token};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Blocks (or `/* */` comments) inside each other. Environment files use four or five.
pub const MAX_DEPTH: usize = 64;

/// The first `{` or `/*` that opens level [`MAX_DEPTH`] + 1, as the shared lexer reads the
/// text: braces in strings and comments do not count, and an unclosed string or comment
/// runs to where the lexer ends it.
pub fn check(text: &str, file: FileId) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (at, token) in Lexer::new(text) {
        match token {
            Token::Open => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(too_deep(file, at, 1, "block"));
                }
            }
            Token::Close => depth = depth.saturating_sub(1),
            Token::BlockComment(comment) | Token::Annotation(comment) => {
                if let Some(opening) = too_deep_comment(comment) {
                    return Some(too_deep(file, at + opening, 2, "comment"));
                }
            }
            _ => {}
        }
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

/// Where in `comment` (a `/* */` token, or an annotation holding comments) the `/*` that opens level [`MAX_DEPTH`] + 1 is.
fn too_deep_comment(comment: &str) -> Option<usize> {
    let bytes = comment.as_bytes();
    let (mut depth, mut at) = (0usize, 0);
    while at + 1 < bytes.len() {
        match &bytes[at..at + 2] {
            b"/*" => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(at);
                }
                at += 2;
            }
            b"*/" => {
                depth = depth.saturating_sub(1);
                at += 2;
            }
            _ => at += 1,
        }
    }
    None
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

    #[test]
    fn every_comment_of_an_annotation_counts_and_a_stray_close_is_harmless() {
        assert!(check("(x*/t)a", FileId(0)).is_none());
        let deep = "/*".repeat(MAX_DEPTH + 1) + &"*/".repeat(MAX_DEPTH + 1);
        let found = check(&format!("(/* a */{deep}t)a"), FileId(0)).expect("too deep");
        assert_eq!(found.primary.unwrap().span.start, 8 + 2 * MAX_DEPTH);
    }
}

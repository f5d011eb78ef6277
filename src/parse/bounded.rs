//! The kdl crate, bounded. Its error recovery recurses once for every problem it finds, so
//! one file of a few thousand problems (a `)` on every line) overflows any thread's stack.
//! Here text reaches it one top-level node at a time, as the shared lexer splits it, so the
//! problems of one node are all it ever recurses through; nodes longer than [`MAX_NODE`]
//! bytes that do not parse are a diagnostic of their own; and it runs on a thread whose stack
//! holds the deepest recursion a node of that length can cause.
//!
//! For valid text the result is the kdl crate's, node for node: top-level nodes of KDL v2
//! are independent of each other once split where the lexer splits them (a line break
//! outside any block, string, comment, annotation, `\` continuation or `/-`).

use std::ops::Range;

use super::lexer::{Lexer, Token};

/// The longest top-level node whose syntax errors envc explains.
pub const MAX_NODE: usize = 64 * 1024;

/// Enough stack for the kdl crate's recursion over a node of [`MAX_NODE`] bytes holding a
/// problem at every byte (under 1 KiB a problem in debug builds). Only what is used is ever
/// mapped.
const STACK: usize = 256 * 1024 * 1024;

/// Stop after this many nodes with problems: the user fixes the first ones first.
const MAX_BROKEN_NODES: usize = 20;

/// One top-level node of the text, as the kdl crate read it.
pub enum Chunk {
    /// Parsed: its document, whose spans start at `offset` in the whole text.
    Parsed {
        offset: usize,
        document: kdl::KdlDocument,
    },
    /// Not parsed: the kdl crate's problems, spans from `offset`.
    Broken { offset: usize, error: kdl::KdlError },
    /// Too long to explain: the range it covers.
    TooLong(Range<usize>),
    /// Broken in a way the lexer sees (a string, comment or block never closed, a `}` that
    /// closes nothing): the kdl crate is not asked, since its error recovery takes time
    /// exponential in the nesting around such a problem.
    Unclosed(Vec<Unclosed>),
}

/// A problem the lexer sees by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unclosed {
    /// Where the unclosed thing starts, in the whole text, and how long its opening is.
    pub at: usize,
    pub len: usize,
    pub what: &'static str,
}

/// Every top-level node of `text` through the kdl crate; `Err` holds the broken ones (at
/// most [`MAX_BROKEN_NODES`]), `Ok` every node's document when all parsed.
pub fn parse(text: &str) -> Result<Vec<Chunk>, Vec<Chunk>> {
    on_a_large_stack(|| {
        let mut parsed = Vec::new();
        let mut broken = Vec::new();
        for range in top_level_nodes(text) {
            let offset = range.start;
            let unclosed = unclosed(&text[range.clone()], offset);
            if !unclosed.is_empty() {
                broken.push(Chunk::Unclosed(unclosed));
                continue;
            }
            match kdl::KdlDocument::parse_v2(&text[range.clone()]) {
                Ok(document) => parsed.push(Chunk::Parsed { offset, document }),
                Err(_) if range.len() > MAX_NODE => broken.push(Chunk::TooLong(range)),
                Err(error) => broken.push(Chunk::Broken { offset, error }),
            }
            if broken.len() >= MAX_BROKEN_NODES {
                break;
            }
        }
        if broken.is_empty() {
            Ok(parsed)
        } else {
            Err(broken)
        }
    })
}

/// The whole text as one kdl document, when it is valid KDL v2.
pub fn document(text: &str) -> Option<kdl::KdlDocument> {
    parse(text).ok()?;
    on_a_large_stack(|| kdl::KdlDocument::parse_v2(text).ok())
}

/// The byte ranges of the top-level nodes of `text`, covering it all: each ends after the
/// line break that ends its node (or at the end of the text).
pub fn top_level_nodes(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut depth) = (0, 0usize);
    // A `\` or `/-` carries the node over the next line break.
    let mut carried = false;
    for (at, token) in Lexer::new(text) {
        match token {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            Token::Continuation | Token::Slashdash => carried = true,
            Token::Newline if carried => carried = false,
            Token::Newline if depth == 0 => {
                let end = at + text[at..].chars().next().map_or(1, char::len_utf8);
                let end = if text[at..].starts_with("\r\n") {
                    at + 2
                } else {
                    end
                };
                ranges.push(start..end);
                start = end;
            }
            Token::Space | Token::LineComment(_) | Token::BlockComment(_) | Token::Newline => {}
            _ => carried = false,
        }
    }
    if start < text.len() || ranges.is_empty() {
        ranges.push(start..text.len());
    }
    ranges
}

/// What the lexer sees unclosed in one top-level node starting at `offset`: strings and
/// `/* */` comments that run to the end of their line or text, `{` never closed, and `}`
/// closing nothing. Valid KDL has none of these.
pub fn unclosed(node: &str, offset: usize) -> Vec<Unclosed> {
    let mut found = Vec::new();
    let mut open_blocks = Vec::new();
    for (at, token) in Lexer::new(node) {
        match token {
            Token::Open => open_blocks.push(at),
            Token::Close if open_blocks.pop().is_none() => found.push(Unclosed {
                at: offset + at,
                len: 1,
                what: "`}` closes no block",
            }),
            Token::BlockComment(comment) if !super::lexer::closed_comment(comment) => {
                found.push(Unclosed {
                    at: offset + at,
                    len: 2,
                    what: "this `/*` comment is never closed",
                })
            }
            Token::Atom(atom) if super::lexer::closed_string(atom) == Some(false) => {
                found.push(Unclosed {
                    at: offset + at,
                    // The hashes and the quote that open it.
                    len: (atom.len() - atom.trim_start_matches('#').len() + 1).min(atom.len()),
                    what: "this string is never closed",
                });
            }
            _ => {}
        }
    }
    found.extend(open_blocks.into_iter().map(|at| Unclosed {
        at: offset + at,
        len: 1,
        what: "this `{` is never closed",
    }));
    found
}

/// Runs `work` on a thread with [`STACK`] bytes of stack (on this one if none can start).
fn on_a_large_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let work = std::sync::Mutex::new(Some(work));
    let run = || {
        let work = work.lock().unwrap_or_else(|p| p.into_inner()).take();
        work.map(|work| work())
    };
    let on_thread = std::thread::scope(|scope| {
        let started = std::thread::Builder::new()
            .name("kdl".to_string())
            .stack_size(STACK)
            .spawn_scoped(scope, run);
        match started.map(|handle| handle.join()) {
            Ok(Ok(value)) => value,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => None,
        }
    });
    match on_thread {
        Some(value) => value,
        None => run().expect("the work runs once"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_split_where_kdl_nodes_end() {
        let text = "a 1\nb {\n    c 2\n}\n/-\nd 3\ne \\\n  4\n\"\"\"\nx\n\"\"\" 5 /* \n */ f";
        let parts: Vec<&str> = top_level_nodes(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            parts,
            [
                "a 1\n",
                "b {\n    c 2\n}\n",
                "/-\nd 3\n",
                "e \\\n  4\n",
                "\"\"\"\nx\n\"\"\" 5 /* \n */ f"
            ]
        );
    }

    #[test]
    fn many_problems_do_not_overflow_the_stack() {
        let text = "node \"value\" key=1 { child ) }\n".repeat(20_000);
        let broken = parse(&text).err().expect("problems");
        assert_eq!(broken.len(), MAX_BROKEN_NODES);
        let long = ")".repeat(MAX_NODE + 1);
        assert!(matches!(parse(&long).err().unwrap()[0], Chunk::TooLong(_)));
    }
}

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
    /// Parsed: its document, whose spans start at `offset` in the whole text, and what its
    /// slashdashed children blocks hold, each framed as `x { … }` (see [`read`]).
    Parsed {
        offset: usize,
        document: kdl::KdlDocument,
        slashdashed: Vec<kdl::KdlDocument>,
    },
    /// Not parsed: the kdl crate's problems, spans from `offset`.
    Broken { offset: usize, error: kdl::KdlError },
    /// Too long to explain: the range it covers.
    TooLong(Range<usize>),
    /// Broken in a way the lexer sees (a string, comment or block never closed, a `}` that
    /// closes nothing, a string glued to what is next to it, a brace in a type annotation):
    /// the kdl crate is not asked, since its error recovery takes time exponential in the
    /// nesting around such a problem, and recurses once for each `{` inside a glued string
    /// or after a brace in an annotation (35,000 overflowed [`STACK`]).
    Seen(Vec<Seen>),
}

/// A problem the lexer sees by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Where the problem starts, in the whole text, and how long its start is (the opening
    /// of what is unclosed).
    pub at: usize,
    pub len: usize,
    pub what: &'static str,
    /// What the label at it says, and the help.
    pub label: &'static str,
    pub help: &'static str,
}

const UNCLOSED_LABEL: &str = "opened here";
const UNCLOSED_HELP: &str = "close it where it was meant to end";

/// Every top-level node of `text` through the kdl crate; `Err` holds the broken ones (at
/// most [`MAX_BROKEN_NODES`]), `Ok` every node's document when all parsed.
pub fn parse(text: &str) -> Result<Vec<Chunk>, Vec<Chunk>> {
    on_a_large_stack(|| {
        let mut parsed = Vec::new();
        let mut broken = Vec::new();
        for range in top_level_nodes(text) {
            let offset = range.start;
            let seen = seen_by_lexer(&text[range.clone()], offset);
            if !seen.is_empty() {
                broken.push(Chunk::Seen(seen));
                continue;
            }
            let refused = refused_strings(&text[range.clone()], offset);
            if !refused.is_empty() {
                broken.extend(refused);
                continue;
            }
            if range.len() > MAX_NODE && !plain(&text[range.clone()]) {
                // The kdl crate's error recovery takes about 1.5 KiB of stack a byte of
                // such a node: it is not asked to read one it may have to recover in.
                broken.push(Chunk::TooLong(range));
                continue;
            }
            match read(&text[range.clone()], offset) {
                Ok(mut documents) => {
                    let document = documents.remove(0);
                    parsed.push(Chunk::Parsed {
                        offset,
                        document,
                        slashdashed: documents,
                    })
                }
                Err(_) if range.len() > MAX_NODE => broken.push(Chunk::TooLong(range)),
                Err(errors) => broken.extend(
                    errors
                        .into_iter()
                        .map(|(offset, error)| Chunk::Broken { offset, error }),
                ),
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

/// The nodes of the whole text, when it is valid KDL v2: its top-level nodes (their
/// slashdashed children blocks left empty), then what each of those blocks holds, framed as
/// `x { … }` (see [`read`]). Where the text splits into top-level pieces does not change them.
pub fn nodes(text: &str) -> Option<Vec<kdl::KdlNode>> {
    parse(text).ok().map(nodes_of)
}

/// The nodes of parsed chunks, as [`nodes`] gives them.
pub fn nodes_of(chunks: Vec<Chunk>) -> Vec<kdl::KdlNode> {
    let (mut nodes, mut slashdashed_blocks) = (Vec::new(), Vec::new());
    for chunk in chunks {
        if let Chunk::Parsed {
            document,
            slashdashed,
            ..
        } = chunk
        {
            nodes.extend(document);
            slashdashed_blocks.extend(slashdashed.into_iter().flatten());
        }
    }
    nodes.extend(slashdashed_blocks);
    nodes
}

/// The kdl crate's documents of `text` (which starts at `offset` in the whole text), or its
/// errors, each with the offset its spans count from.
///
/// The kdl crate reads a slashdashed children block (`node /-{ … }`) twice, and so each one
/// inside it four times: time exponential in their nesting. Here it never sees one: their
/// insides are blanked (same length, so spans stay put), and each inside is read on its own,
/// framed as `x { … }` (blanked the same way), so every byte is read once. The first
/// document is `text`'s; the blocks' follow.
fn read(text: &str, offset: usize) -> Result<Vec<kdl::KdlDocument>, Vec<(usize, kdl::KdlError)>> {
    let mut pieces = vec![(offset, text.to_string())];
    let (mut documents, mut errors) = (Vec::new(), Vec::new());
    let mut next = 0;
    while let Some((shift, piece)) = pieces.get(next).cloned() {
        next += 1;
        let mut blanked = piece.clone().into_bytes();
        for (open, close) in slashdashed_blocks(&piece) {
            // `x {` puts the frame's `{` where the block's was, less two bytes (a
            // slashdashed `{` always has at least `/-` before it).
            pieces.push((
                shift + open - 2,
                format!("x {{{}}}", &piece[open + 1..close]),
            ));
            for byte in &mut blanked[open + 1..close] {
                if *byte != b'\n' {
                    *byte = b' ';
                }
            }
        }
        let blanked = String::from_utf8(blanked).expect("only whole characters are blanked");
        match parse_blanked(&blanked) {
            Ok(document) => documents.push(document),
            Err(error) => errors.push((shift, error)),
        }
    }
    if errors.is_empty() {
        Ok(documents)
    } else {
        Err(errors)
    }
}

/// A piece with more `/-` than this is first read with them as spaces (see
/// [`parse_blanked`]).
const MAX_SLASHDASHES: usize = 4;

/// The kdl crate's reading of a piece whose slashdashed blocks the lexer blanked.
///
/// Where the kdl crate reads broken text differently from the lexer (a string it refuses,
/// whose inside its error recovery then reads as nodes), it can meet `/-` the lexer did not
/// see as they are, and its recovery doubles its time at each. So a piece with more than
/// [`MAX_SLASHDASHES`] of them is first read with every `/-` as two spaces: when that reading
/// fails, its errors are the ones reported (they mark the same places, though a block that
/// only a `/-` made valid, as in `a { } /-{ }`, may be reported too); when it succeeds, the
/// text is read as it is, and the crate reads it as the lexer does.
fn parse_blanked(blanked: &str) -> Result<kdl::KdlDocument, kdl::KdlError> {
    let bytes = blanked.as_bytes();
    // Not the `/` of a `//` or `*/` before a `-`: comments stay comments.
    let slashdashes: Vec<usize> = memchr::memmem::find_iter(bytes, b"/-")
        .filter(|&at| at == 0 || !matches!(bytes[at - 1], b'/' | b'*'))
        .collect();
    if slashdashes.len() > MAX_SLASHDASHES {
        let mut spaced = blanked.as_bytes().to_vec();
        for at in slashdashes {
            spaced[at..at + 2].copy_from_slice(b"  ");
        }
        for (at, token) in Lexer::new(blanked) {
            if token == Token::Slashdash {
                space_what_follows(&mut spaced, at + 2);
            }
        }
        let spaced = String::from_utf8(spaced).expect("`/-` is replaced whole");
        kdl::KdlDocument::parse_v2(&spaced)?;
    }
    kdl::KdlDocument::parse_v2(blanked)
}

/// Whether `node` is valid KDL that envc's own reader reads (see
/// [`super::kdl_reader`]): text the kdl crate reads without recovering from errors.
fn plain(node: &str) -> bool {
    super::kdl_reader::parse(node, crate::source::FileId(0)).is_some()
}

/// In `spaced` (a piece with its `/-` as spaces), the line space after a `/-` that ends at
/// `from`, and the children block it comments out, as spaces too (same length): what it
/// commented out stays in its node (`a /-\n  k=2`, `tags /-{ } { … }`, whose block's
/// inside is blanked already), as the kdl crate reads the text.
fn space_what_follows(spaced: &mut [u8], from: usize) {
    let mut at = from;
    while at < spaced.len() {
        match spaced[at] {
            b' ' | b'\t' => at += 1,
            b'\n' | b'\r' => {
                spaced[at] = b' ';
                at += 1;
            }
            b'/' if spaced.get(at + 1) == Some(&b'/') => {
                while at < spaced.len() && !matches!(spaced[at], b'\n' | b'\r') {
                    spaced[at] = b' ';
                    at += 1;
                }
            }
            b'{' => {
                let Some(close) = spaced[at..].iter().position(|&b| b == b'}') else {
                    return;
                };
                for byte in &mut spaced[at..=at + close] {
                    *byte = b' ';
                }
                return;
            }
            _ => return,
        }
    }
}

/// The outermost slashdashed children blocks of `text` (whose blocks all close): the offsets
/// of each one's `{` and `}`.
fn slashdashed_blocks(text: &str) -> Vec<(usize, usize)> {
    let mut blocks = Vec::new();
    let (mut depth, mut slashdashed_at) = (0usize, None);
    // A `/-` seen and only space since: the next `{` opens a slashdashed block.
    let mut after_slashdash = false;
    for (at, token) in Lexer::new(text) {
        match token {
            Token::Slashdash => after_slashdash = true,
            Token::Open => {
                if after_slashdash && slashdashed_at.is_none() {
                    slashdashed_at = Some((at, depth));
                }
                depth += 1;
                after_slashdash = false;
            }
            Token::Close => {
                depth = depth.saturating_sub(1);
                if let Some((open, _)) = slashdashed_at.take_if(|(_, outer)| *outer == depth) {
                    blocks.push((open, at));
                }
                after_slashdash = false;
            }
            Token::Space
            | Token::Newline
            | Token::LineComment(_)
            | Token::BlockComment(_)
            | Token::Continuation => {}
            _ => after_slashdash = false,
        }
    }
    blocks
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

/// What the lexer sees wrong in one top-level node starting at `offset`: strings and
/// `/* */` comments that run to the end of their line or text, `{` never closed, `}`
/// closing nothing, a string with no space between it and the value or name before or
/// after it (`x"a"`, `"a""b"`), and a brace in a type annotation outside its quotes
/// (`(t{)`). Valid KDL has none of these.
pub fn seen_by_lexer(node: &str, offset: usize) -> Vec<Seen> {
    let unclosed = |at: usize, len: usize, what: &'static str| Seen {
        at: offset + at,
        len,
        what,
        label: UNCLOSED_LABEL,
        help: UNCLOSED_HELP,
    };
    let mut found = Vec::new();
    let mut open_blocks = Vec::new();
    // The atom just before: its end, its text, and whether it is a string.
    let mut atom_before: Option<(usize, &str, bool)> = None;
    for (at, token) in Lexer::new(node) {
        let glued_to = atom_before.take().filter(|&(end, _, _)| end == at);
        match token {
            Token::Open => open_blocks.push(at),
            Token::Close if open_blocks.pop().is_none() => found.push(Seen {
                label: "closes nothing",
                help: "remove it, or open the block it was meant to close",
                ..unclosed(at, 1, "`}` closes no block")
            }),
            Token::BlockComment(comment) if !super::lexer::closed_comment(comment) => {
                found.push(unclosed(at, 2, "this `/*` comment is never closed"))
            }
            Token::Atom(atom) if super::lexer::closed_string(atom) == Some(false) => {
                // The hashes and the quote that open it.
                let len = (atom.len() - atom.trim_start_matches('#').len() + 1).min(atom.len());
                found.push(unclosed(at, len, "this string is never closed"));
            }
            Token::Annotation(annotation) => {
                if let Some(brace) = brace_outside_quotes(annotation) {
                    found.push(Seen {
                        label: "here",
                        help: "a type annotation is a name in parentheses, like `(u8)`; quote the name if it holds a brace",
                        ..unclosed(at + brace, 1, "a type annotation cannot hold a brace")
                    });
                }
            }
            Token::Atom(atom) => {
                let string = super::lexer::string_body(atom).is_some();
                let glued = glued_to.filter(|&(_, _, before_is_string)| before_is_string || string);
                match glued {
                    Some((_, before, _)) if string && is_v1_raw_prefix(before) => {
                        found.push(Seen {
                            label: "here",
                            help: "KDL v2 writes a raw string between hashes, like `#\"…\"#`",
                            ..unclosed(at - before.len(), 1, "`r\"…\"` is a raw string of KDL v1")
                        })
                    }
                    Some(_) => {
                        // The first character of what is glued on, whole.
                        let len = atom.chars().next().map_or(1, char::len_utf8);
                        found.push(Seen {
                            label: "no space before this",
                            help: "put a space between them, or one pair of quotes around both",
                            ..unclosed(
                                at,
                                len,
                                "a string and what is next to it need a space between them",
                            )
                        })
                    }
                    None => {}
                }
                // What is glued on after it is part of the same problem (a v1 raw string's
                // closing hashes).
                atom_before = glued.is_none().then_some((at + atom.len(), atom, string));
            }
            _ => {}
        }
    }
    found.extend(
        open_blocks
            .into_iter()
            .map(|at| unclosed(at, 1, "this `{` is never closed")),
    );
    found
}

/// Whether `atom`, glued to the string after it, is how KDL v1 opens a raw string (`r`,
/// `r#`, …).
fn is_v1_raw_prefix(atom: &str) -> bool {
    atom.strip_prefix('r')
        .is_some_and(|hashes| hashes.bytes().all(|b| b == b'#'))
}

/// Where the first `{` or `}` of `text` is that is not between quotes.
fn brace_outside_quotes(text: &str) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (at, b) in text.bytes().enumerate() {
        match b {
            b'{' | b'}' if !quoted => return Some(at),
            b'"' if !escaped => quoted = !quoted,
            _ => {}
        }
        escaped = quoted && b == b'\\' && !escaped;
    }
    None
}

/// The quoted and raw strings of one top-level node (starting at `offset`) that the kdl
/// crate refuses, each read on its own, with its errors. A node holding one is never given
/// to the crate whole: its error recovery skips only to the first space of a string it
/// refuses and reads the rest of the string as nodes, in time exponential in what it finds.
fn refused_strings(node: &str, offset: usize) -> Vec<Chunk> {
    Lexer::new(node)
        .filter_map(|(at, token)| match token {
            Token::Atom(atom) if atom.trim_start_matches('#').starts_with('"') => {
                kdl::KdlIdentifier::parse(atom).err().map(|mut error| {
                    // The first is the string's problem; the rest, the crate's reading
                    // on past it.
                    error.diagnostics.truncate(1);
                    Chunk::Broken {
                        offset: offset + at,
                        error,
                    }
                })
            }
            _ => None,
        })
        .collect()
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

    /// A string glued to the name or value next to it, or a brace in a type annotation, is
    /// refused by the kdl crate too, but the crate recurses once for each `{` inside or after
    /// it (50,000 overflowed the stack): the lexer sees it, and the crate is not asked.
    #[test]
    fn a_glued_string_or_an_annotated_brace_is_seen_without_the_kdl_crate() {
        for (text, seen_at) in [
            ("x\"a\"\n", 1),
            ("a \"b\"\"c\"\n", 5),
            ("a \"b\"c\n", 5),
            ("a x#\"b\"#\n", 4),
            ("a 1\"b\"\n", 3),
            ("a (t{)1\n", 4),
            ("a \"b\"é\n", 5),
            ("a r\"b\"\n", 2),
            ("a r#\"b\"#\n", 2),
            ("a (\"\\\"\"})1\n", 7),
        ] {
            assert!(
                kdl::KdlDocument::parse(text).is_err(),
                "the crate refuses {text:?}"
            );
            let Err(found) = parse(text) else {
                panic!("{text:?} parsed")
            };
            let [Chunk::Seen(seen)] = &found[..] else {
                panic!("{text:?}: not seen by the lexer")
            };
            assert_eq!(seen[0].at, seen_at, "{text:?}");
            assert_eq!(seen.len(), 1, "{text:?}: {seen:?}");
        }
        for valid in [
            "a \"b\" \"c\"\n",
            "a k=\"v\" (t)\"x\"\n",
            "a \"k\"=\"v\"\n",
            "a \"b\"{ c }\n",
            "a (\"t{\")1 (\"\\\"{\")2\n",
        ] {
            assert!(kdl::KdlDocument::parse(valid).is_ok(), "{valid:?}");
            assert!(parse(valid).is_ok(), "{valid:?}");
        }
        for deep in [
            format!("x\"{}\"\n", "{".repeat(100_000)),
            format!("a (t{})1\n", "{".repeat(100_000)),
        ] {
            assert!(matches!(
                &parse(&deep).err().expect("refused")[..],
                [Chunk::Seen(_)]
            ));
        }
    }

    #[test]
    fn nested_slashdashed_blocks_are_read_once_each() {
        // Forty levels took the kdl crate 2^40 readings of the innermost block.
        let depth = 40;
        let text = "a /-{\n".repeat(depth) + &"}\n".repeat(depth);
        let chunks = parse(&text).ok().expect("valid KDL");
        assert_eq!(chunks.len(), 1);
        assert_eq!(nodes(&text).expect("valid").len(), depth + 1);
        // A problem deep inside is still found, where it is.
        let broken = format!("{}b )\n{}", "a /-{\n".repeat(depth), "}\n".repeat(depth));
        let at = broken.find(')').unwrap();
        let found = parse(&broken).err().expect("a problem");
        let spans: Vec<usize> = found
            .iter()
            .flat_map(|chunk| match chunk {
                Chunk::Broken { offset, error } => error
                    .diagnostics
                    .iter()
                    .map(|d| offset + d.span.offset())
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        assert!(spans.contains(&at), "{spans:?} should hold {at}");
    }

    #[test]
    fn slashdashed_blocks_are_found_past_comments_and_line_breaks() {
        let text = "a /- /* c */\n { b /-{ c } } /-{} d\n";
        assert_eq!(slashdashed_blocks(text), [(14, 26), (30, 31)]);
    }

    /// Text with more than [`MAX_SLASHDASHES`] is first read with them as spaces; what a
    /// `/-` comments out across a line break, or a children block before another, stays in
    /// its node, so valid text is still read as the kdl crate reads it.
    #[test]
    fn many_slashdashes_keep_what_they_comment_out_in_its_node() {
        for text in [
            "a /-1 /-2 /-3 /-4 k=1 /-\n    k=2\n",
            "tags /-{\n    \"old\" \"1\"\n} {\n    /-\"a\" \"1\"\n    /-\"b\" \"2\"\n    /-\"c\" \"3\"\n    /-\"d\" \"4\"\n    \"team\" \"platform\"\n}\n",
            "a /-1 /-2 /-3 /-4 /- // gone\n  5\n",
        ] {
            let reference = kdl::KdlDocument::parse_v2(text).expect("valid KDL");
            let nodes = nodes(text).unwrap_or_else(|| panic!("{text:?} is valid KDL"));
            let (ours, theirs) = (&nodes[0], &reference.nodes()[0]);
            assert_eq!(ours.entries(), theirs.entries(), "{text:?}");
        }
    }

    /// A node too long to recover errors in on any stack is refused unread, unless it is
    /// written plainly (which the kdl crate reads without recovering).
    #[test]
    fn a_long_node_is_read_only_when_plain() {
        let broken = format!("a {}\n", "=".repeat(MAX_NODE + 1));
        assert!(matches!(
            parse(&broken).err().unwrap()[0],
            Chunk::TooLong(_)
        ));
        let children: String = (0..MAX_NODE / 8).map(|i| format!("  k{i} 1\n")).collect();
        let plain = format!("tags {{\n{children}}}\n");
        assert!(plain.len() > MAX_NODE);
        assert_eq!(nodes(&plain).expect("plain KDL").len(), 1);
    }
}

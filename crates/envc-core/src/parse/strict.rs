//! KDL v2 rules the kdl crate lets through, checked before any reader sees the text: code
//! points the specification forbids anywhere in a document (U+007F among them), a `"""`
//! string whose text starts on the line of its opening quotes (`#"""x"""#`), and a `/-` after
//! a children block that comments out anything but another block (`a { }/-\nb`: the kdl
//! crate takes it when it ends the text).
//!
//! Each is a located [`Code::Syntax`] diagnostic, so envc refuses exactly what the
//! specification's test suite calls invalid (`tests/kdl_spec.rs`).

use super::lexer::{self, Token};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The problems of `text` under these rules, in the order they are written.
pub fn check(text: &str, file: FileId) -> Vec<Diagnostic> {
    // A run of one forbidden character (a file of NUL bytes) is one problem.
    let mut runs: Vec<(usize, char, usize)> = Vec::new();
    for (at, c) in forbidden_code_points(text) {
        match runs.last_mut() {
            Some((start, same, count)) if *same == c && *start + *count * c.len_utf8() == at => {
                *count += 1
            }
            _ => runs.push((at, c, 1)),
        }
    }
    let mut found: Vec<Diagnostic> = runs
        .into_iter()
        .map(|(at, c, count)| forbidden(file, at, c, count))
        .collect();
    if text.contains("\"\"\"") {
        strings_opened_on_one_line(text, 0, file, &mut found);
    }
    if text.contains("/-") {
        found.extend(
            slashdashes_after_a_block(text)
                .into_iter()
                .map(|at| slashdash_after_block(file, at)),
        );
    }
    found.sort_by_key(|d| d.primary.as_ref().map(|label| label.span.start));
    found
}

/// Where `text` holds a code point KDL forbids anywhere, even in strings and comments; a
/// byte-order mark is allowed as the first one.
fn forbidden_code_points(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    // Every forbidden code point is an ASCII control or starts with 0xE2 or 0xEF in UTF-8:
    // most files hold none of these bytes and are passed over a byte at a time.
    let from = text
        .bytes()
        .position(|b| matches!(b, 0..=8 | 0x0E..=0x1F | 0x7F | 0xE2 | 0xEF))
        .unwrap_or(text.len());
    text[from..]
        .char_indices()
        .map(move |(at, c)| (from + at, c))
        .filter(|&(at, c)| is_forbidden(c) && !(at == 0 && c == '\u{FEFF}'))
}

/// Where a `/-` follows a block's `}` on its line (spaces and `\` line continuations
/// between) and comments out something other than a block. After a node's children only
/// slashdashed blocks may follow; a node needs a line break or `;` before it.
fn slashdashes_after_a_block(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let (mut after_close, mut slashdash) = (false, None);
    for (at, token) in lexer::Lexer::new(text) {
        match token {
            Token::Space | Token::Continuation | Token::BlockComment(_) => {}
            Token::Newline | Token::LineComment(_) if slashdash.is_some() => {}
            Token::Slashdash if after_close => {
                slashdash = Some(at);
                after_close = false;
            }
            Token::Close => {
                after_close = true;
                slashdash = None;
            }
            other => {
                if let Some(at) = slashdash.take().filter(|_| other != Token::Open) {
                    found.push(at);
                }
                after_close = false;
            }
        }
    }
    found.extend(slashdash);
    found
}

fn slashdash_after_block(file: FileId, at: usize) -> Diagnostic {
    Diagnostic::error(
        Code::Syntax,
        "`/-` after a block can only comment out another block",
    )
    .at(
        Span::new(file, at, at + 2),
        "comments out what follows the block",
    )
    .help("to comment out the next node, start it on a line of its own: `/-` then the node")
    .note("envc files are KDL v2: https://kdl.dev")
}

fn is_forbidden(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{E}'..='\u{1F}'
            | '\u{7F}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

fn forbidden(file: FileId, at: usize, c: char, count: usize) -> Diagnostic {
    let code = format!("U+{:04X}", u32::from(c));
    let what = match c {
        '\u{7F}' => format!("{code} (delete)"),
        '\u{FEFF}' => format!("{code} (a byte-order mark)"),
        '\u{200E}'..='\u{2069}' => format!("{code} (a text-direction control)"),
        _ => format!("{code} (a control character)"),
    };
    let (what, label) = match count {
        1 => (what, "this invisible character".to_string()),
        _ => (
            format!("{count} × {what}"),
            format!("{count} invisible characters"),
        ),
    };
    Diagnostic::error(
        Code::Syntax,
        format!("{what} may not be written in a KDL file"),
    )
    .at(Span::new(file, at, at + count * c.len_utf8()), label)
    .help(format!(
        "delete it; inside a quoted string write it as `\\u{{{:x}}}`",
        u32::from(c)
    ))
    .note("envc files are KDL v2: https://kdl.dev")
}

/// `"""` opens a multi-line string, whose text starts on the next line: `"""x"""` and
/// `#"""x"""#` are refused, as are the strings inside annotations. `base` is where `text`
/// starts in the file.
fn strings_opened_on_one_line(text: &str, base: usize, file: FileId, found: &mut Vec<Diagnostic>) {
    for (at, token) in lexer::spanned(text) {
        match token {
            Token::Atom(atom) => {
                if let Some(problem) = opened_on_one_line(atom, base + at, file) {
                    found.push(problem);
                }
            }
            // The strings of an annotation's inside: one level, as `(` inside one is no
            // KDL (reading each level again took time quadratic in a line of `(`).
            Token::Annotation(annotation) if annotation.len() > 1 => {
                let inside = annotation[1..]
                    .strip_suffix(')')
                    .unwrap_or(&annotation[1..]);
                for (inner_at, token) in lexer::spanned(inside) {
                    if let Token::Atom(atom) = token {
                        let at = base + at + 1 + inner_at;
                        found.extend(opened_on_one_line(atom, at, file));
                    }
                }
            }
            _ => {}
        }
    }
}

fn opened_on_one_line(atom: &str, at: usize, file: FileId) -> Option<Diagnostic> {
    let hashes = atom.len() - atom.trim_start_matches('#').len();
    let after_quotes = atom[hashes..].strip_prefix("\"\"\"")?;
    if after_quotes.starts_with(lexer::is_newline) {
        return None;
    }
    let (body, _) = lexer::string_body(atom)?;
    let close = format!("\"\"\"{}", &atom[..hashes]);
    let closed = atom.len() >= 2 * close.len() && atom.ends_with(&close);
    let plain = !body.contains(lexer::is_newline) && !body.contains('"');
    let one_line = (closed && plain).then(|| format!("{0}\"{body}\"{0}", "#".repeat(hashes)));
    let help = match &one_line {
        Some(string) => format!("for a one-line string write `{string}`; a `\"\"\"` string starts its text on the line after the opening quotes"),
        None => "start the text on the line after the opening `\"\"\"`, or write a one-line string in single quotes".to_string(),
    };
    Some(
        Diagnostic::error(
            Code::Syntax,
            "a `\"\"\"` string must start its text on a new line",
        )
        .at(
            Span::new(file, at, at + atom.len()),
            "text on the line of the opening quotes",
        )
        .help(help)
        .suggest(one_line.as_deref())
        .note("envc files are KDL v2: https://kdl.dev"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(usize, usize, String)> {
        check(text, FileId(0))
            .into_iter()
            .map(|d| {
                let span = d.primary.unwrap().span;
                (span.start, span.end, d.help.unwrap())
            })
            .collect()
    }

    #[test]
    fn forbidden_code_points_are_found_anywhere_but_a_leading_bom() {
        let found = problems("a\u{7f} \"x\u{200e}\" // \u{1}\n\u{feff}b");
        let spans: Vec<_> = found.iter().map(|(s, e, _)| (*s, *e)).collect();
        assert_eq!(spans, [(1, 2), (5, 8), (13, 14), (15, 18)]);
        assert_eq!(
            found[0].2,
            "delete it; inside a quoted string write it as `\\u{7f}`"
        );
        assert!(problems("\u{feff}a 1").is_empty());
        // `—` starts with the same byte as the direction controls, and is allowed.
        let after_dash = problems("a \"—\" \u{7f}");
        assert_eq!((after_dash.len(), after_dash[0].0), (1, 8));
        // A run of one character is one problem; a different one starts another.
        let runs = problems("a \"\0\0\0\u{1}\"");
        let spans: Vec<_> = runs.iter().map(|(s, e, _)| (*s, *e)).collect();
        assert_eq!(spans, [(3, 6), (6, 7)]);
    }

    #[test]
    fn a_slashdash_after_a_block_comments_out_only_blocks() {
        assert!(problems("a { } /-{ b }\nc {}\n/-d\n").is_empty());
        assert!(problems("a 1 /-\n 2\n").is_empty());
        let found = problems("a { }/-\nb { }\n");
        assert_eq!(
            found.iter().map(|(s, e, _)| (*s, *e)).collect::<Vec<_>>(),
            [(5, 7)]
        );
        assert_eq!(problems("a { } /- b").len(), 1);
    }

    #[test]
    fn triple_quoted_strings_must_break_the_line_after_their_quotes() {
        let found = problems("domain #\"\"\"x.example.com\"\"\"#\n");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1), (7, 28));
        assert!(found[0]
            .2
            .starts_with("for a one-line string write `#\"x.example.com\"#`"));
        assert_eq!(problems("a \"\"\"x\"\"\" (##\"\"\"t\"\"\"##)b").len(), 2);
        assert!(problems("a #\"\"\"\n  x\n  \"\"\"# \"\"\"\n\"\"\" #\"\"\"#").len() == 1);
        assert!(problems("a \"\"\"\r\n  x\r\n  \"\"\" #\"q\"# \"\"").is_empty());
    }
}

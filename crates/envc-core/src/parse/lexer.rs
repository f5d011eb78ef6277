//! The one tolerant lexer of KDL v2 text: what a token is, decided in one place for every
//! reader that must walk text without parsing it (the formatter, the depth pre-scan, the
//! credential scan, the editor's completion context).
//!
//! It never fails and always makes progress: every token is at least one byte of the input,
//! so a text of `n` bytes has at most `n` tokens, whatever it holds. Text it cannot place
//! (a stray `)`, an unclosed string or comment) still becomes a token: an unclosed string
//! or comment runs to the end of the text, and any other character is an atom of its own.
//! Whether the text is valid KDL is the parser's business, not the lexer's.

/// One token. Text is a slice of the input, written back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// Spaces, tabs and the other KDL whitespace.
    Space,
    /// One line break (`\n`, `\r\n`, `\r`, and the Unicode ones KDL counts).
    Newline,
    /// `// …` up to the end of its line.
    LineComment(&'a str),
    /// `/* … */`, nested ones included.
    BlockComment(&'a str),
    /// `/-`: the next node, entry or block is a comment.
    Slashdash,
    /// `\`: the node goes on after the next line break.
    Continuation,
    Open,
    Close,
    Semicolon,
    Equals,
    /// `(type)`, comments and quoted strings inside it included.
    Annotation(&'a str),
    /// A name or a value: a bare identifier, a number, a keyword, a string of any form.
    Atom(&'a str),
}

/// The tokens of `text`.
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    Lexer::new(text).map(|(_, token)| token).collect()
}

/// The tokens of `text` with the offset each starts at.
pub fn spanned(text: &str) -> Vec<(usize, Token<'_>)> {
    Lexer::new(text).collect()
}

/// The tokens of a text, one at a time, each with the offset it starts at.
pub struct Lexer<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Self {
        Lexer { text, at: 0 }
    }

    fn take(&mut self, len: usize) -> &'a str {
        let taken = &self.text[self.at..self.at + len];
        self.at += len;
        taken
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = (usize, Token<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.at;
        let rest = &self.text[start..];
        let c = rest.chars().next()?;
        let (len, token) = token_at(rest, c);
        debug_assert!(
            len > 0 && rest.is_char_boundary(len),
            "the lexer must advance"
        );
        let taken = self.take(len);
        let token = match token {
            Kind::Space => Token::Space,
            Kind::Newline => Token::Newline,
            Kind::LineComment => Token::LineComment(taken),
            Kind::BlockComment => Token::BlockComment(taken),
            Kind::Slashdash => Token::Slashdash,
            Kind::Continuation => Token::Continuation,
            Kind::Open => Token::Open,
            Kind::Close => Token::Close,
            Kind::Semicolon => Token::Semicolon,
            Kind::Equals => Token::Equals,
            Kind::Annotation => Token::Annotation(taken),
            Kind::Atom => Token::Atom(taken),
        };
        Some((start, token))
    }
}

enum Kind {
    Space,
    Newline,
    LineComment,
    BlockComment,
    Slashdash,
    Continuation,
    Open,
    Close,
    Semicolon,
    Equals,
    Annotation,
    Atom,
}

/// The length and kind of the token that `rest` (whose first character is `c`) starts with;
/// the length is at least `c`'s.
fn token_at(rest: &str, c: char) -> (usize, Kind) {
    match c {
        c if is_space(c) => (
            rest.find(|c| !is_space(c)).unwrap_or(rest.len()),
            Kind::Space,
        ),
        '\r' if rest.starts_with("\r\n") => (2, Kind::Newline),
        c if is_newline(c) => (c.len_utf8(), Kind::Newline),
        '/' if rest.starts_with("//") => (
            rest.find(is_newline).unwrap_or(rest.len()),
            Kind::LineComment,
        ),
        '/' if rest.starts_with("/*") => (block_comment_len(rest).0, Kind::BlockComment),
        '/' if rest.starts_with("/-") => (2, Kind::Slashdash),
        '\\' => (1, Kind::Continuation),
        '{' => (1, Kind::Open),
        '}' => (1, Kind::Close),
        ';' => (1, Kind::Semicolon),
        '=' => (1, Kind::Equals),
        '(' => (annotation_len(rest), Kind::Annotation),
        '"' => (quoted_len(rest), Kind::Atom),
        '#' if rest[1..].starts_with(['#', '"']) => (raw_len(rest), Kind::Atom),
        _ => {
            let len = rest
                .char_indices()
                .skip(1)
                .find(|(_, c)| ends_atom(*c))
                .map_or(rest.len(), |(i, _)| i);
            (len, Kind::Atom)
        }
    }
}

/// A string atom's text between its quotes, as written (escapes not processed), and
/// whether it is a raw string; `None` for an atom that is no string. An unclosed string's
/// text runs to the end of the atom.
pub fn string_body(atom: &str) -> Option<(&str, bool)> {
    let hashes = atom.len() - atom.trim_start_matches('#').len();
    let quoted = &atom[hashes..];
    let quotes = if quoted.starts_with("\"\"\"") {
        3
    } else if quoted.starts_with('"') {
        1
    } else {
        return None;
    };
    let body = &quoted[quotes..];
    let close_len = quotes + hashes;
    let closed = body.len() >= close_len
        && body.ends_with(&"#".repeat(hashes))
        && body[..body.len() - hashes].ends_with(&quoted[..quotes]);
    let body = if closed {
        &body[..body.len() - close_len]
    } else {
        body
    };
    Some((body, hashes > 0))
}

pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

pub fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{B}' | '\u{C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Characters that end a bare identifier or number.
fn ends_atom(c: char) -> bool {
    is_space(c) || is_newline(c) || "(){};=\\/\"[]".contains(c)
}

/// The length of the `/* … */` comment `text` starts with (to the end of the text when it
/// is unclosed), how deep comments nest inside it (1 for one with none inside), and whether
/// it is closed.
pub fn block_comment_len(text: &str) -> (usize, usize, bool) {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0);
    while at + 1 < bytes.len() {
        match &bytes[at..at + 2] {
            b"/*" => {
                depth += 1;
                deepest = deepest.max(depth);
                at += 2;
            }
            // A `*/` outside any comment (in an annotation's text) closes nothing.
            b"*/" if depth > 0 => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return (at, deepest, true);
                }
            }
            _ => at += 1,
        }
    }
    (text.len(), deepest, false)
}

/// `"…"` or `"""…"""`, with escapes. An unclosed single-line string ends before its line
/// break (KDL v2 strings in `"` hold none), an unclosed multi-line one at the end of the
/// text.
fn quoted_len(text: &str) -> usize {
    quoted_scan(text).0
}

/// [`quoted_len`], and whether the string was closed.
fn quoted_scan(text: &str) -> (usize, bool) {
    let multi_line = text.starts_with("\"\"\"");
    let (open, close) = if multi_line { (3, "\"\"\"") } else { (1, "\"") };
    let mut chars = text.char_indices().skip(open).peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\\' {
            // An escaped character, or a whitespace escape: `\` and every space and line
            // break after it.
            if chars
                .next_if(|(_, c)| is_space(*c) || is_newline(*c))
                .is_some()
            {
                while chars
                    .next_if(|(_, c)| is_space(*c) || is_newline(*c))
                    .is_some()
                {}
            } else {
                chars.next();
            }
        } else if !multi_line && is_newline(c) {
            return (at, false);
        } else if text[at..].starts_with(close) {
            return (at + close.len(), true);
        }
    }
    (text.len(), false)
}

/// `#"…"#`, `##"""…"""##`: no escapes, closed by the quote and as many `#`. `text` starts
/// with `#`. An unclosed single-line one ends before its line break, a multi-line one at the
/// end of the text.
fn raw_len(text: &str) -> usize {
    raw_scan(text).0
}

/// [`raw_len`], and whether the string was closed.
fn raw_scan(text: &str) -> (usize, bool) {
    let hashes = text.find(|c| c != '#').unwrap_or(text.len());
    let after = &text[hashes..];
    let quotes = if after.starts_with("\"\"\"") {
        3
    } else if after.starts_with('"') {
        1
    } else {
        // `##` not followed by a quote: the hashes alone.
        return (hashes, false);
    };
    let close = format!("{}{}", &after[..quotes], "#".repeat(hashes));
    let body = hashes + quotes;
    let end = text[body..].find(&close).map(|at| body + at + close.len());
    match end {
        Some(end) if quotes == 3 || !text[body..end].contains(is_newline) => (end, true),
        _ if quotes == 3 => (text.len(), false),
        _ => (
            text[body..]
                .find(is_newline)
                .map_or(text.len(), |at| body + at),
            false,
        ),
    }
}

/// Whether an atom the lexer cut is a string closed by its quote (and hashes); `None` for
/// an atom that is no string.
pub fn closed_string(atom: &str) -> Option<bool> {
    let (len, closed) = if atom.trim_start_matches('#').starts_with('"') && atom.starts_with('#') {
        raw_scan(atom)
    } else if atom.starts_with('"') {
        quoted_scan(atom)
    } else {
        return None;
    };
    Some(closed && len == atom.len())
}

/// Whether a `/* */` token is closed (nested comments included).
pub fn closed_comment(comment: &str) -> bool {
    let (len, _, closed) = block_comment_len(comment);
    closed && len == comment.len()
}

/// `(type)`, where the type may be a quoted string holding `)` and comments may stand
/// around it. An unclosed one ends before a line break that no `\\` continues.
fn annotation_len(text: &str) -> usize {
    let mut at = 1;
    let mut continued = false;
    while let Some(c) = text[at..].chars().next() {
        match c {
            ')' => return at + 1,
            c if is_newline(c) && !continued => return at,
            '\\' => continued = true,
            '"' => at += quoted_len(&text[at..]) - 1,
            '#' if text[at + 1..].starts_with(['#', '"']) => at += raw_len(&text[at..]) - 1,
            '/' if text[at..].starts_with("/*") => at += block_comment_len(&text[at..]).0 - 1,
            c if is_space(c) => {}
            _ => continued = false,
        }
        at += c.len_utf8();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_every_form_are_one_token_each() {
        let text = r####"a "x\"y" #"r"q"# ##"""
m"#"
"""## """
ml
""" #true"####;
        let atoms: Vec<_> = tokens(text)
            .into_iter()
            .filter_map(|t| match t {
                Token::Atom(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(
            atoms,
            [
                "a",
                r#""x\"y""#,
                r##"#"r"q"#"##,
                "##\"\"\"\nm\"#\"\n\"\"\"##",
                "\"\"\"\nml\n\"\"\"",
                "#true"
            ]
        );
    }

    #[test]
    fn comments_nest_and_annotations_hold_quotes_and_comments() {
        let found = tokens("/* a /* b */ c */(\"x)\")n (/*)*/t)m // end\r\n");
        assert_eq!(
            found,
            [
                Token::BlockComment("/* a /* b */ c */"),
                Token::Annotation("(\"x)\")"),
                Token::Atom("n"),
                Token::Space,
                Token::Annotation("(/*)*/t)"),
                Token::Atom("m"),
                Token::Space,
                Token::LineComment("// end"),
                Token::Newline,
            ]
        );
        assert_eq!(block_comment_len("/* /* /* */ */ */ x"), (17, 3, true));
    }

    #[test]
    fn text_that_is_not_kdl_still_makes_tokens() {
        assert_eq!(tokens(")"), [Token::Atom(")")]);
        assert_eq!(tokens("##"), [Token::Atom("##")]);
        assert_eq!(tokens("#é"), [Token::Atom("#é")]);
        assert_eq!(
            tokens("(a\nb"),
            [Token::Annotation("(a"), Token::Newline, Token::Atom("b")]
        );
        assert_eq!(tokens("\"open"), [Token::Atom("\"open")]);
        assert_eq!(tokens("/*"), [Token::BlockComment("/*")]);
        assert_eq!(
            tokens("\"a\nb"),
            [Token::Atom("\"a"), Token::Newline, Token::Atom("b")]
        );
    }

    #[test]
    fn string_bodies_of_every_form() {
        assert_eq!(string_body("\"a\\\"b\""), Some(("a\\\"b", false)));
        assert_eq!(string_body("##\"x\"#y\"##"), Some(("x\"#y", true)));
        assert_eq!(string_body("\"\"\"\nm\n\"\"\""), Some(("\nm\n", false)));
        assert_eq!(string_body("\"open"), Some(("open", false)));
        assert_eq!(string_body("\""), Some(("", false)));
        assert_eq!(string_body("#true"), None);
        assert_eq!(string_body("bare"), None);
    }
}

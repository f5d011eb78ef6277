//! The tokens of a KDL v2 document as the formatter sees them: everything that carries
//! meaning or a comment, verbatim, and the whitespace between them reduced to its kind.
//!
//! The lexer only runs on text the kdl crate has parsed, so it never has to explain a
//! syntax error; on anything it cannot place it still makes progress (one character is one
//! atom), and the formatter's meaning check refuses the result.

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
    /// `(type)`.
    Annotation(&'a str),
    /// A name or a value: a bare identifier, a number, a keyword, a string of any form.
    Atom(&'a str),
}

pub fn tokens(text: &str) -> Vec<Token<'_>> {
    spanned(text).into_iter().map(|(_, token)| token).collect()
}

/// The tokens with the offset each starts at.
pub fn spanned(text: &str) -> Vec<(usize, Token<'_>)> {
    let mut lexer = Lexer { text, at: 0 };
    let mut found = Vec::new();
    loop {
        let start = lexer.at;
        match lexer.next_token() {
            Some(token) => found.push((start, token)),
            None => return found,
        }
    }
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
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

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn take(&mut self, len: usize) -> &'a str {
        let taken = &self.text[self.at..self.at + len];
        self.at += len;
        taken
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        let rest = self.rest();
        let c = rest.chars().next()?;
        let token = match c {
            c if is_space(c) => {
                let len = rest.find(|c| !is_space(c)).unwrap_or(rest.len());
                self.take(len);
                Token::Space
            }
            '\r' if rest.starts_with("\r\n") => {
                self.take(2);
                Token::Newline
            }
            c if is_newline(c) => {
                self.take(c.len_utf8());
                Token::Newline
            }
            '/' if rest.starts_with("//") => {
                let len = rest.find(is_newline).unwrap_or(rest.len());
                Token::LineComment(self.take(len))
            }
            '/' if rest.starts_with("/*") => {
                Token::BlockComment(self.take(block_comment_len(rest)))
            }
            '/' if rest.starts_with("/-") => {
                self.take(2);
                Token::Slashdash
            }
            '\\' => {
                self.take(1);
                Token::Continuation
            }
            '{' => self.single(Token::Open),
            '}' => self.single(Token::Close),
            ';' => self.single(Token::Semicolon),
            '=' => self.single(Token::Equals),
            '(' => Token::Annotation(self.take(annotation_len(rest))),
            '"' => Token::Atom(self.take(quoted_len(rest))),
            '#' if rest[1..].starts_with(['#', '"']) => Token::Atom(self.take(raw_len(rest))),
            _ => {
                let len = rest
                    .char_indices()
                    .skip(1)
                    .find(|(_, c)| ends_atom(*c))
                    .map_or(rest.len(), |(i, _)| i);
                Token::Atom(self.take(len))
            }
        };
        Some(token)
    }

    fn single(&mut self, token: Token<'a>) -> Token<'a> {
        self.take(1);
        token
    }
}

/// `/* … */` with nesting; to the end of the text when unclosed.
fn block_comment_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut at) = (0usize, 0);
    while at + 1 < bytes.len() {
        match &bytes[at..at + 2] {
            b"/*" => {
                depth += 1;
                at += 2;
            }
            b"*/" => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    text.len()
}

/// `"…"` or `"""…"""`, with escapes.
fn quoted_len(text: &str) -> usize {
    let (open, close) = if text.starts_with("\"\"\"") {
        (3, "\"\"\"")
    } else {
        (1, "\"")
    };
    let mut chars = text.char_indices().skip(open);
    while let Some((at, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if text[at..].starts_with(close) {
            return at + close.len();
        }
    }
    text.len()
}

/// `#"…"#`, `##"""…"""##`: no escapes, closed by the quote and as many `#`.
fn raw_len(text: &str) -> usize {
    let hashes = text.find(|c| c != '#').unwrap_or(text.len());
    let after = &text[hashes..];
    let quotes = if after.starts_with("\"\"\"") { 3 } else { 1 };
    let close = format!("{}{}", &after[..quotes], "#".repeat(hashes));
    let body = hashes + quotes;
    text[body..]
        .find(&close)
        .map_or(text.len(), |at| body + at + close.len())
}

/// `(type)`, where the type may be a quoted string holding `)`.
fn annotation_len(text: &str) -> usize {
    let mut at = 1;
    while let Some(c) = text[at..].chars().next() {
        match c {
            ')' => return at + 1,
            '"' => at += quoted_len(&text[at..]),
            '#' if text[at + 1..].starts_with(['#', '"']) => at += raw_len(&text[at..]),
            c => at += c.len_utf8(),
        }
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
    fn comments_nest_and_annotations_hold_quotes() {
        let found = tokens("/* a /* b */ c */(\"x)\")n // end\r\n");
        assert_eq!(
            found,
            [
                Token::BlockComment("/* a /* b */ c */"),
                Token::Annotation("(\"x)\")"),
                Token::Atom("n"),
                Token::Space,
                Token::LineComment("// end"),
                Token::Newline,
            ]
        );
    }
}

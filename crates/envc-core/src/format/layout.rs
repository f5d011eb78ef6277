//! The canonical layout: one node per line, four spaces per level of nesting, one space
//! between entries, `key=value`, `{` at the end of its node's line and `}` on a line of its
//! own, at most one blank line, and one line break at the end.
//!
//! Every comment stays where it was written, relative to the tokens around it: a `//`
//! comment at the end of a line stays at the end of that line, one on its own line stays on
//! its own line (at its node's indentation), and `/* */` and `/-` stay between the same two
//! tokens. Strings, numbers and comments are written back byte for byte.

use crate::parse::lexer::Token;

const INDENT: &str = "    ";

pub fn layout(tokens: &[Token<'_>]) -> String {
    let mut writer = Writer::default();
    for token in tokens {
        writer.token(*token);
    }
    writer.finish()
}

/// What was written last, which decides how the next token is joined to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Last {
    /// Nothing yet.
    #[default]
    Start,
    Open,
    /// A name or value, which `=` joins without a space.
    Atom,
    /// `(type)`, `=` or `/-`: the next name or value follows without a space.
    Joining,
    /// Anything else: `}`, a comment.
    Other,
}

#[derive(Default)]
struct Writer {
    out: String,
    depth: usize,
    last: Last,
    /// Line breaks seen since the last token written (two or more make a blank line).
    breaks: usize,
    /// The current node ended (a line break, `;` or `{`): the next token starts a line.
    node_ended: bool,
    /// A `\` was seen: the next line break continues the node.
    continues: bool,
    /// The node goes on on a continuation line, indented one more level.
    continued: bool,
    /// Whitespace came after the last token written.
    spaced: bool,
}

impl Writer {
    fn token(&mut self, token: Token<'_>) {
        let glued_to_value = self.last == Last::Atom && !self.spaced;
        self.spaced = matches!(token, Token::Space | Token::Newline);
        match token {
            Token::Space => {}
            Token::Newline => self.line_break(),
            Token::Semicolon => self.node_ended = true,
            Token::Continuation => {
                self.write_separated(" ", "\\");
                self.continues = true;
                self.last = Last::Other;
            }
            Token::LineComment(text) => {
                let trailing = self.breaks == 0 && self.last != Last::Start;
                if trailing {
                    self.out.push(' ');
                } else {
                    self.start_line();
                }
                self.out.push_str(text.trim_end());
                self.last = Last::Other;
            }
            Token::BlockComment(text) => self.write_entry(text, Last::Other),
            Token::Slashdash => {
                // The kdl crate reads a `/-` glued to the value before it (`#true/-`) as the
                // end of that node, the `/-` commenting out the next node: it starts a line.
                if glued_to_value {
                    self.node_ended = true;
                }
                self.write_entry("/-", Last::Joining)
            }
            Token::Annotation(text) => self.write_entry(text, Last::Joining),
            Token::Atom(text) => self.write_entry(text, Last::Atom),
            Token::Equals => {
                let joined = self.last == Last::Atom && !self.starts_line();
                if joined {
                    self.out.push('=');
                } else {
                    self.write_separated(" ", "=");
                }
                self.last = Last::Joining;
            }
            Token::Open => {
                let separator = if self.last == Last::Joining { "" } else { " " };
                self.write_separated(separator, "{");
                self.depth += 1;
                self.last = Last::Open;
                self.node_ended = true;
            }
            Token::Close => {
                self.depth = self.depth.saturating_sub(1);
                // A `}` after a `\` ends the continued node: it stands at its block's
                // indentation, not the continuation's.
                self.continued = false;
                if self.last == Last::Open {
                    self.out.push('}');
                } else {
                    self.breaks = self.breaks.min(1);
                    self.start_line();
                    self.out.push('}');
                }
                self.last = Last::Other;
                self.node_ended = false;
            }
        }
    }

    fn line_break(&mut self) {
        if self.continues {
            self.continues = false;
            self.continued = true;
            self.breaks = 1;
            return;
        }
        self.breaks += 1;
        self.node_ended = true;
        self.continued = false;
    }

    /// Whether the next token starts a new line.
    fn starts_line(&self) -> bool {
        self.last == Last::Start || self.node_ended || (self.continued && self.breaks > 0)
    }

    fn write_entry(&mut self, text: &str, last: Last) {
        let separator = if self.last == Last::Joining { "" } else { " " };
        self.write_separated(separator, text);
        self.last = last;
    }

    fn write_separated(&mut self, separator: &str, text: &str) {
        if self.starts_line() {
            self.start_line();
        } else {
            self.out.push_str(separator);
        }
        self.out.push_str(text);
        self.breaks = 0;
    }

    /// A new line at the current indentation, after a blank line where the source had one
    /// between two nodes.
    fn start_line(&mut self) {
        if self.last != Last::Start {
            let blank = self.breaks >= 2 && self.last != Last::Open;
            self.out.push_str(if blank { "\n\n" } else { "\n" });
        }
        let levels = self.depth + usize::from(self.continued && !self.node_ended);
        for _ in 0..levels {
            self.out.push_str(INDENT);
        }
        self.node_ended = false;
        self.breaks = 0;
    }

    fn finish(mut self) -> String {
        if self.last != Last::Start {
            self.out.push('\n');
        }
        self.out
    }
}

//! A direct reader for the plain KDL that envc files are written in, building [`Node`]s
//! straight from the text.
//!
//! It reads a subset of KDL v2: bare and quoted names, quoted strings with the common
//! escapes, decimal numbers, `#true`/`#false`/`#null`, properties, children, `//` and
//! `/* */` comments, and the envc merge annotations. For anything else (raw or multi-line
//! strings, `/-`, line continuations, other number forms, non-ASCII outside strings, other
//! annotations, repeated properties, and every syntax error) it answers `None`, and the
//! caller parses with the kdl crate, whose nodes and diagnostics are the reference. Debug
//! builds check every answer of this reader against the kdl crate's.
//!
//! Spans are the kdl crate's: a node runs from its annotation to its last entry or closing
//! brace plus the spaces and `/* */` comments after it on its line.

use super::ast::{Argument, MergeMode, Node, Property, Scalar};
use crate::source::{FileId, Span};

/// The nodes of `text`, or `None` when it is outside this reader's subset.
pub fn parse(text: &str, file: FileId) -> Option<Vec<Node>> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        file,
    };
    let nodes = reader.nodes(false)?;
    (reader.at == text.len()).then_some(nodes)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    file: FileId,
}

/// A name or a value as written: its text span and what it reads as.
struct Token {
    start: usize,
    end: usize,
    value: Scalar,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.at + offset).copied()
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    /// Nodes up to the end of the text, or (in a block) up to its `}`, left unread.
    fn nodes(&mut self, in_block: bool) -> Option<Vec<Node>> {
        let mut nodes = Vec::new();
        loop {
            self.skip_line_space()?;
            match self.peek() {
                None => return (!in_block).then_some(nodes),
                Some(b'}') => return in_block.then_some(nodes),
                Some(_) => nodes.push(self.node()?),
            }
        }
    }

    /// Spaces, newlines and comments between nodes.
    fn skip_line_space(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n') => self.at += 1,
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.at += 2,
                Some(b'/') if self.peek_at(1) == Some(b'/') => self.line_comment()?,
                Some(b'/') if self.peek_at(1) == Some(b'*') => self.block_comment()?,
                _ => return Some(()),
            }
        }
    }

    /// Spaces and `/* */` comments inside a node's line; whether there were any.
    fn skip_node_space(&mut self) -> Option<bool> {
        let start = self.at;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.at += 1,
                Some(b'/') if self.peek_at(1) == Some(b'*') => self.block_comment()?,
                _ => return Some(self.at > start),
            }
        }
    }

    /// `// …` up to (not including) the end of the line.
    fn line_comment(&mut self) -> Option<()> {
        let rest = &self.text[self.at..];
        let end = rest.find('\n').unwrap_or(rest.len());
        let body = rest[..end].strip_suffix('\r').unwrap_or(&rest[..end]);
        if !body.chars().all(comment_char) {
            return None;
        }
        self.at += end;
        Some(())
    }

    /// `/* … */`; nested comments are left to the kdl crate.
    fn block_comment(&mut self) -> Option<()> {
        let body_start = self.at + 2;
        let bytes = &self.bytes[body_start..];
        let mut i = 0;
        let end = loop {
            match (bytes.get(i)?, bytes.get(i + 1)) {
                (b'*', Some(b'/')) => break i,
                (b'/', Some(b'*')) => return None,
                _ => i += 1,
            }
        };
        let body = &self.text[body_start..body_start + end];
        if !body.chars().all(|c| c == '\n' || comment_char(c)) {
            return None;
        }
        self.at = body_start + end + 2;
        Some(())
    }

    fn node(&mut self) -> Option<Node> {
        let start = self.at;
        let mut mode = MergeMode::Merge;
        let mut mode_span = None;
        if self.peek() == Some(b'(') {
            self.at += 1;
            let annotation = self.identifier()?;
            mode = MergeMode::from_annotation(annotation.value.as_str()?)?;
            mode_span = Some(self.span(annotation.start, annotation.end));
            if self.peek() != Some(b')') {
                return None;
            }
            self.at += 1;
        }
        let name = self.string()?;
        let mut node = Node {
            name: match name.value {
                Scalar::String(name) => name,
                _ => return None,
            },
            name_span: self.span(name.start, name.end),
            mode,
            mode_span,
            args: Vec::new(),
            props: Vec::new(),
            children: None,
            span: self.span(start, start),
        };
        let mut spaced = false;
        loop {
            spaced |= self.skip_node_space()?;
            match self.peek() {
                None | Some(b'\n' | b';' | b'}') => break,
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => break,
                Some(b'/') if self.peek_at(1) == Some(b'/') => break,
                Some(b'{') => {
                    self.at += 1;
                    node.children = Some(self.nodes(true)?);
                    self.at += 1; // the `}` the block stopped at
                    self.skip_node_space()?;
                    match self.peek() {
                        None | Some(b'\n' | b';' | b'}') => break,
                        Some(b'\r') if self.peek_at(1) == Some(b'\n') => break,
                        Some(b'/') if self.peek_at(1) == Some(b'/') => break,
                        Some(_) => return None,
                    }
                }
                Some(_) if !spaced => return None,
                Some(_) => {
                    self.entry(&mut node)?;
                    spaced = false;
                }
            }
        }
        node.span.end = self.at;
        if self.peek() == Some(b';') {
            self.at += 1;
        }
        Some(node)
    }

    /// An argument, or a `name=value` property.
    fn entry(&mut self, node: &mut Node) -> Option<()> {
        let first = self.value()?;
        let before_eq = self.at;
        self.skip_node_space()?;
        if self.peek() != Some(b'=') {
            self.at = before_eq;
            self.end_of_value()?;
            node.args.push(Argument {
                value: first.value,
                span: self.span(first.start, first.end),
            });
            return Some(());
        }
        // Only a string names a property (not `#true=1`).
        let Scalar::String(name) = first.value else {
            return None;
        };
        self.at += 1;
        self.skip_node_space()?;
        let value = self.value()?;
        self.end_of_value()?;
        if node.props.iter().any(|p| p.name == name) {
            return None;
        }
        node.props.push(Property {
            name,
            name_span: self.span(first.start, first.end),
            value: value.value,
            value_span: self.span(value.start, value.end),
        });
        Some(())
    }

    /// A value must be followed by a space, the end of its line, or the end of a block.
    fn end_of_value(&self) -> Option<()> {
        match self.peek() {
            None | Some(b' ' | b'\t' | b'\n' | b';' | b'}') => Some(()),
            Some(b'\r') if self.peek_at(1) == Some(b'\n') => Some(()),
            Some(b'/') if matches!(self.peek_at(1), Some(b'/' | b'*')) => Some(()),
            _ => None,
        }
    }

    fn value(&mut self) -> Option<Token> {
        match self.peek()? {
            b'#' => self.keyword(),
            b'0'..=b'9' => self.number(),
            b'-' | b'+' if matches!(self.peek_at(1), Some(b'0'..=b'9')) => self.number(),
            _ => self.string(),
        }
    }

    /// A quoted string or a bare identifier.
    fn string(&mut self) -> Option<Token> {
        if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            self.identifier()
        }
    }

    /// A bare identifier (ASCII only here).
    fn identifier(&mut self) -> Option<Token> {
        let start = self.at;
        if !is_identifier_start(self.peek()?) {
            return None;
        }
        // `-1` and `.5` are numbers (or errors), not identifiers.
        if matches!(self.peek()?, b'-' | b'+' | b'.')
            && matches!(self.peek_at(1), Some(b'0'..=b'9' | b'.'))
        {
            return None;
        }
        while self.peek().is_some_and(is_identifier_char) {
            self.at += 1;
        }
        let text = &self.text[start..self.at];
        if matches!(text, "true" | "false" | "null" | "inf" | "-inf" | "nan") {
            return None;
        }
        Some(Token {
            start,
            end: self.at,
            value: Scalar::String(text.to_string()),
        })
    }

    /// A one-line `"…"` string with the common escapes.
    fn quoted(&mut self) -> Option<Token> {
        let start = self.at;
        self.at += 1;
        if self.peek() == Some(b'"') && self.peek_at(1) == Some(b'"') {
            return None; // `"""` multi-line strings
        }
        let mut value = String::new();
        loop {
            let rest = &self.text[self.at..];
            let plain = rest
                .find(|c: char| c == '"' || c == '\\' || !string_char(c))
                .unwrap_or(rest.len());
            value.push_str(&rest[..plain]);
            self.at += plain;
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(Token {
                        start,
                        end: self.at,
                        value: Scalar::String(value),
                    });
                }
                b'\\' => {
                    let escaped = match self.peek_at(1)? {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'\\' => '\\',
                        b'"' => '"',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b's' => ' ',
                        _ => return None,
                    };
                    value.push(escaped);
                    self.at += 2;
                }
                _ => return None,
            }
        }
    }

    /// `#true`, `#false` or `#null`.
    fn keyword(&mut self) -> Option<Token> {
        let start = self.at;
        let rest = &self.text[start..];
        let (value, len) = if rest.starts_with("#true") {
            (Scalar::Bool(true), 5)
        } else if rest.starts_with("#false") {
            (Scalar::Bool(false), 6)
        } else if rest.starts_with("#null") {
            (Scalar::Null, 5)
        } else {
            return None;
        };
        self.at += len;
        if self.peek().is_some_and(is_identifier_char) {
            return None;
        }
        Some(Token {
            start,
            end: self.at,
            value,
        })
    }

    /// A decimal integer (that fits an `i64`) or float.
    fn number(&mut self) -> Option<Token> {
        let start = self.at;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.at += 1;
        }
        if self.peek() == Some(b'0') && matches!(self.peek_at(1), Some(b'x' | b'o' | b'b')) {
            return None;
        }
        self.digits()?;
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits()?;
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.at += 1;
            }
            self.digits()?;
            float = true;
        }
        if self.peek().is_some_and(is_identifier_char) {
            return None;
        }
        let text = &self.text[start..self.at];
        // Long numbers are left to the kdl crate, which reads (or rejects) them its own way.
        if text.len() > 16 {
            return None;
        }
        let value = if float {
            let value: f64 = text.parse().ok()?;
            if !value.is_finite() {
                return None;
            }
            Scalar::Float(value)
        } else {
            Scalar::Integer(text.parse().ok()?)
        };
        Some(Token {
            start,
            end: self.at,
            value,
        })
    }

    /// One or more ASCII digits (underscores are left to the kdl crate).
    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        (self.at > start && self.peek() != Some(b'_')).then_some(())
    }
}

/// Bytes a bare identifier may hold here: printable ASCII except KDL's reserved characters.
fn is_identifier_char(byte: u8) -> bool {
    byte.is_ascii_graphic()
        && !matches!(
            byte,
            b'\\' | b'/' | b'(' | b')' | b'{' | b'}' | b';' | b'[' | b']' | b'"' | b'#' | b'='
        )
}

fn is_identifier_start(byte: u8) -> bool {
    is_identifier_char(byte) && !byte.is_ascii_digit()
}

/// Characters a one-line quoted string may hold as they are.
fn string_char(c: char) -> bool {
    c == '\t' || (!c.is_control() && !special(c))
}

/// Characters a comment may hold here.
fn comment_char(c: char) -> bool {
    c == '\t' || (!c.is_control() && !special(c))
}

/// Newlines, direction controls and the byte-order mark: KDL gives these meaning or
/// forbids them, so text holding them goes to the kdl crate.
fn special(c: char) -> bool {
    matches!(
        c,
        '\u{85}'
            | '\u{200E}'..='\u{200F}'
            | '\u{2028}'..='\u{2029}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

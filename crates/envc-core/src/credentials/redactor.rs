//! The [`Redactor`]: every credential envc has seen, masked in any text it is about to
//! show, and the scan of KDL text (which may not parse) that finds them.

use std::borrow::Cow;

use super::{is_kind_schema, looks_like_credential, schema_defaults, AsciiSet, Context, SHAPES};
use crate::parse::lexer::{self, Lexer, Token};
use crate::source::SourceMap;

/// Masks credentials in text about to be shown: every value it was told is one, and every
/// credential shape. Masks keep the byte length, so spans into masked text stay valid.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// Texts to mask, longest first (a value, and the forms it takes in JSON and GitHub
    /// annotations); `true` for a short one, masked only between the quotes around it.
    known: Vec<(String, bool)>,
    /// Keys whose values are composed into a credential through `${…}` (the `pw` of
    /// `"postgres://app:${tags.pw}@db"`): their values are credentials wherever written.
    composed_keys: Vec<String>,
}

/// Values this short are masked only where they stand quoted: a one-letter password must
/// not mask every `a` in a report.
const SHORT: usize = 4;

impl Redactor {
    /// Remembers `value` as a credential: it, and how JSON (once or nested in another JSON
    /// string) and GitHub annotations write it.
    pub fn learn(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        let escaped = |text: &str| {
            let json = serde_json::to_string(text).unwrap_or_default();
            json[1..json.len() - 1].to_string()
        };
        let json = escaped(value);
        // A JSON string inside a JSON string: a secret's value in the request that sets it,
        // as an error answer may echo it.
        let nested = escaped(&json);
        let github = value
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        for form in [value.to_string(), json, nested, github] {
            let known = if form.len() < SHORT {
                (format!("\"{form}\""), true)
            } else {
                (form, false)
            };
            if !self.known.contains(&known) {
                self.known.push(known);
            }
        }
        self.known.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    }

    /// Learns every credential written in the project's KDL files of `sources`, whether
    /// they parsed or not, and in its kinds' schema defaults.
    pub fn learn_sources(&mut self, sources: &SourceMap) {
        let texts: Vec<&str> = sources
            .files()
            .filter(|(_, file)| file.path.extension().is_some_and(|e| e == "kdl"))
            .map(|(_, file)| file.text.as_str())
            .collect();
        self.learn_kdl_texts(&texts);
        for (_, file) in sources.files() {
            if is_kind_schema(&file.path) {
                self.learn_json_schema(&file.text);
            }
        }
    }

    /// Learns every credential written in KDL texts that belong together (a project's
    /// files): those written as they are, and the values of keys that `${…}` references
    /// compose into a credential in any of the texts.
    pub fn learn_kdl_texts(&mut self, texts: &[&str]) {
        // Each text is scanned once (the scan is most of the cost).
        let scanned: Vec<Vec<ScannedValue>> =
            texts.iter().map(|t| KdlScanner::new(t).collect()).collect();
        for values in &scanned {
            for (raw, value) in credentials_in(values) {
                self.learn(raw);
                self.learn(&value);
            }
            for key in composed_keys(values) {
                if !self.composed_keys.contains(&key) {
                    self.composed_keys.push(key);
                }
            }
        }
        if self.composed_keys.is_empty() {
            return;
        }
        for token in scanned.iter().flatten() {
            if self.composed_keys.iter().any(|k| k == token.key) {
                self.learn(token.raw);
                self.learn(&unescape(token.raw));
            }
        }
    }

    /// Learns every credential written in one KDL text.
    pub fn learn_kdl(&mut self, text: &str) {
        for (raw, value) in scan_kdl(text) {
            self.learn(raw);
            self.learn(&value);
        }
    }

    /// Learns the credentials a JSON Schema (a project kind's) holds as defaults: a string
    /// `default` of a property whose name is a credential's, or shaped like one, at any
    /// depth. Text that is not JSON teaches nothing (the kind is refused anyway).
    pub fn learn_json_schema(&mut self, text: &str) {
        let Ok(schema) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        let mut found = Vec::new();
        schema_defaults(&schema, "", 0, &mut found);
        for value in found {
            self.learn(&value);
        }
    }

    /// `text` with every credential masked by `*`s of the same byte length.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for (known, quoted) in &self.known {
            for (at, _) in text.match_indices(known.as_str()) {
                let end = at + known.len();
                if *quoted {
                    ranges.push((at + 1, end - 1));
                } else if stands_alone(text, at, end) {
                    ranges.push((at, end));
                }
            }
        }
        let present = AsciiSet::of(text);
        for regex in SHAPES
            .iter()
            .filter_map(|shape| shape.for_text(text, present))
        {
            for found in regex.captures_iter(text) {
                if let Some(secret) = found.get(1) {
                    ranges.push((secret.start(), secret.end()));
                }
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut bytes = text.as_bytes().to_vec();
        for (start, end) in ranges {
            for b in &mut bytes[start..end] {
                // Continuation bytes of a masked character become `*` too: the text stays
                // UTF-8 and the same length. Line breaks stay (a value written over two
                // lines with a `\` continuation), so every line keeps its number.
                if !matches!(*b, b'\n' | b'\r') {
                    *b = b'*';
                }
            }
        }
        Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Whether `text[start..end]` is not part of a longer word.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let first = bytes[start];
    let last = bytes[end - 1];
    let before_ok = start == 0 || !word(first) || !word(bytes[start - 1]);
    let after_ok = end == bytes.len() || !word(last) || !word(bytes[end]);
    before_ok && after_ok
}

/// The credentials in KDL text, found without parsing it (the file may not parse): each as
/// written between its quotes and as its value. Values are classified by the key they are
/// given to, as validation classifies merged values.
pub(super) fn scan_kdl(text: &str) -> Vec<(&str, String)> {
    credentials_in(&KdlScanner::new(text).collect::<Vec<_>>())
}

/// [`scan_kdl`] of a text's scanned values.
fn credentials_in<'a>(values: &[ScannedValue<'a>]) -> Vec<(&'a str, String)> {
    let mut found = Vec::new();
    for token in values {
        let context = Context {
            key: token.key,
            in_secret_reference: token.in_secret,
        };
        let value = if token.is_raw {
            token.raw.to_string()
        } else {
            unescape(token.raw)
        };
        if looks_like_credential(context, &value).is_some() {
            found.push((token.raw, value));
        }
    }
    found
}

/// The last key of each `${path}` that a credential-looking value of a text (its scanned
/// `values`) holds: the values written under those keys are parts of a credential.
fn composed_keys(values: &[ScannedValue]) -> Vec<String> {
    let mut keys = Vec::new();
    for token in values {
        if !token.raw.contains('$') && !token.raw.contains('\\') {
            continue; // no `${`, even once unescaped
        }
        let value = unescape(token.raw);
        if !value.contains("${") {
            continue;
        }
        let context = Context {
            key: token.key,
            in_secret_reference: token.in_secret,
        };
        if looks_like_credential(context, &value).is_none() {
            continue;
        }
        let mut rest = value.as_str();
        while let Some(open) = rest.find("${") {
            let escaped = open > 0 && rest[..open].ends_with('$');
            let after = &rest[open + 2..];
            let Some(close) = after.find('}') else { break };
            if !escaped {
                let path = &after[..close];
                let last = path.rsplit('.').next().unwrap_or(path).trim_matches('"');
                if !last.is_empty() {
                    keys.push(last.to_string());
                }
            }
            rest = &after[close + 1..];
        }
    }
    keys
}

/// A quoted string's value, from its text between the quotes as written (KDL v2's escapes;
/// an invalid one is taken as the character after the `\`).
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('s') => out.push(' '),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') if chars.as_str().starts_with('{') => {
                let (digits, rest) = chars.as_str()[1..].split_once('}').unwrap_or(("", ""));
                if let Some(c) = u32::from_str_radix(digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                {
                    out.push(c);
                    chars = rest.chars();
                }
            }
            // A whitespace escape: the `\` and all the whitespace after it (line breaks
            // too) are left out, so a value can go on on the next line.
            Some(space) if space.is_whitespace() => {
                while chars.clone().next().is_some_and(char::is_whitespace) {
                    chars.next();
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

struct ScannedValue<'a> {
    key: &'a str,
    raw: &'a str,
    is_raw: bool,
    in_secret: bool,
}

/// A forgiving walk over the shared lexer's tokens of KDL text: node names, property keys
/// and string values, with the blocks they are in. It never fails, and ends with the text.
struct KdlScanner<'a> {
    tokens: std::iter::Peekable<Lexer<'a>>,
    /// The node name of each open block.
    blocks: Vec<&'a str>,
    node: &'a str,
    at_node_start: bool,
    /// A `\` was seen: the next line break does not end the node.
    continued: bool,
}

impl<'a> KdlScanner<'a> {
    fn new(text: &'a str) -> Self {
        KdlScanner {
            tokens: Lexer::new(text).peekable(),
            blocks: Vec::new(),
            node: "",
            at_node_start: true,
            continued: false,
        }
    }

    /// Whether the next token (past spaces) is `=`: the atom just read is a property's key.
    fn before_equals(&mut self) -> bool {
        while self.tokens.next_if(|(_, t)| *t == Token::Space).is_some() {}
        matches!(self.tokens.peek(), Some((_, Token::Equals)))
    }
}

impl<'a> Iterator for KdlScanner<'a> {
    type Item = ScannedValue<'a>;

    fn next(&mut self) -> Option<ScannedValue<'a>> {
        let mut key: Option<&'a str> = None;
        while let Some((_, token)) = self.tokens.next() {
            match token {
                Token::Newline if self.continued => self.continued = false,
                Token::Newline | Token::Semicolon => {
                    self.at_node_start = true;
                    key = None;
                }
                Token::Continuation => self.continued = true,
                Token::Open => {
                    self.blocks.push(self.node);
                    self.at_node_start = true;
                }
                Token::Close => {
                    self.blocks.pop();
                    self.at_node_start = true;
                }
                Token::Atom(atom) => {
                    let string = lexer::string_body(atom);
                    let word = string.map_or(atom, |(body, _)| body);
                    if self.at_node_start {
                        self.node = word;
                        self.at_node_start = false;
                    } else if self.before_equals() {
                        key = Some(word);
                    } else if string.is_some() || is_bare_string(atom) {
                        return Some(ScannedValue {
                            key: key.unwrap_or(self.node),
                            raw: word,
                            is_raw: string.is_some_and(|(_, raw)| raw),
                            in_secret: self.node == "secret" || self.blocks.contains(&"secret"),
                        });
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// A bare identifier given as a value (not a number or a keyword like `#true`).
fn is_bare_string(atom: &str) -> bool {
    !atom.starts_with(|c: char| c == '#' || c.is_ascii_digit() || "-+.".contains(c))
}

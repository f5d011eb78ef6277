//! The path of a value in a merged environment: its keys, one per level.
//!
//! People write paths dotted (`service.api.scaling.max`), quoting a key that holds a dot or a
//! space (`tags."cost.center"`); schemas and spans speak JSON pointers (RFC 6901). A
//! [`KeyPath`] is the one form between them, so no key is ever split on its dots.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use std::sync::Arc;

use super::value::{Table, Value};

/// The keys from an environment's root to a value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPath(Vec<String>);

/// One step of a path as written: a quoted key is one key, dots and all; a bare piece may be
/// a whole key or, joined to the pieces after it, part of a key holding dots.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Written {
    Quoted(String),
    Bare(String),
}

impl KeyPath {
    /// The path of a key of the root.
    pub fn of<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Self {
        KeyPath(keys.into_iter().map(|k| k.as_ref().to_string()).collect())
    }

    /// The path one level down, at `key`.
    pub fn child(&self, key: &str) -> KeyPath {
        let mut keys = self.0.clone();
        keys.push(key.to_string());
        KeyPath(keys)
    }

    pub fn push(&mut self, key: &str) {
        self.0.push(key.to_string());
    }

    pub fn pop(&mut self) -> Option<String> {
        self.0.pop()
    }

    /// Parses dotted text where every unquoted dot separates keys; `None` when a quote is
    /// left open, a key is empty, or the text is not a path.
    pub fn parse(text: &str) -> Option<KeyPath> {
        let keys = written(text)?
            .into_iter()
            .map(|step| match step {
                Written::Quoted(key) | Written::Bare(key) => key,
            })
            .collect();
        Some(KeyPath(keys))
    }

    /// The JSON pointer of the value (`/tags/cost.center`), `~` and `/` escaped.
    pub fn pointer(&self) -> String {
        self.0
            .iter()
            .map(|key| format!("/{}", pointer_token(key)))
            .collect()
    }

    /// The path a JSON pointer names; `None` when it is not one (it must be empty or start
    /// with `/`, and `~` must be followed by `0` or `1`).
    pub fn from_pointer(pointer: &str) -> Option<KeyPath> {
        if pointer.is_empty() {
            return Some(KeyPath::default());
        }
        pointer
            .strip_prefix('/')?
            .split('/')
            .map(unescape_token)
            .collect::<Option<Vec<_>>>()
            .map(KeyPath)
    }
}

/// The JSON pointer of `keys` from the root, each escaped: for rules that name a value by
/// keys they know, some of them the user's (`["worker", name, "timeout"]`).
pub fn pointer(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("/{}", pointer_token(key)))
        .collect()
}

/// A key as one JSON pointer token: `~` as `~0`, `/` as `~1`.
pub fn pointer_token(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

fn unescape_token(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        match c {
            '~' => match chars.next()? {
                '0' => out.push('~'),
                '1' => out.push('/'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

impl Deref for KeyPath {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for KeyPath {
    fn from(keys: Vec<String>) -> Self {
        KeyPath(keys)
    }
}

/// Keys joined by dots, a key quoted when it would not read back as itself.
impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if needs_quotes(key) {
                write!(f, "\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))?;
            } else {
                f.write_str(key)?;
            }
        }
        Ok(())
    }
}

fn needs_quotes(key: &str) -> bool {
    key.is_empty()
        || key
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '.' | '"' | '\\' | '$' | '{' | '}'))
}

/// The steps of a dotted path; `None` for an open quote or an empty key.
fn written(text: &str) -> Option<Vec<Written>> {
    let mut steps = Vec::new();
    let mut rest = text;
    loop {
        let (step, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let (key, after) = closing_quote(quoted)?;
                (Written::Quoted(key), after)
            }
            None => {
                let end = rest.find('.').unwrap_or(rest.len());
                if end == 0 {
                    return None;
                }
                (Written::Bare(rest[..end].to_string()), &rest[end..])
            }
        };
        steps.push(step);
        if after.is_empty() {
            return Some(steps);
        }
        rest = after.strip_prefix('.')?;
    }
}

/// The key up to the closing quote (`\"` and `\\` escaped) and the text after it.
fn closing_quote(text: &str) -> Option<(String, &str)> {
    let mut key = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((key, &text[i + 1..])),
            '\\' => key.push(chars.next()?.1),
            c => key.push(c),
        }
    }
    None
}

impl Table {
    /// The value at `path`.
    pub fn get(&self, path: &[String]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        let mut value = &self.entries.get(first)?.value;
        for key in rest {
            match value {
                Value::Table(t) => value = &t.entries.get(key)?.value,
                _ => return None,
            }
        }
        Some(value)
    }

    pub fn get_mut(&mut self, path: &[String]) -> Option<&mut Value> {
        let (first, rest) = path.split_first()?;
        let mut value = &mut self.entries.get_mut(first)?.value;
        for key in rest {
            match value {
                Value::Table(t) => value = &mut Arc::make_mut(t).entries.get_mut(key)?.value,
                _ => return None,
            }
        }
        Some(value)
    }

    /// The path of a value this table has, from dotted text as a person writes it. Quoted
    /// keys are taken whole; each unquoted dot separates keys, unless no value is found
    /// that way, when bare pieces joined by their dots are tried as one key (so
    /// `tags.cost.center` finds the key `cost.center`). Splitting first keeps every path
    /// that found a value before keys could hold dots finding the same one.
    pub fn find(&self, text: &str) -> Option<KeyPath> {
        let steps = written(text)?;
        let mut keys = Vec::new();
        find_in(self, &steps, &mut keys).then_some(KeyPath(keys))
    }

    /// Every scalar and list, depth first.
    pub fn leaves(&self) -> Vec<KeyPath> {
        let mut paths = Vec::new();
        collect_leaves(self, &mut KeyPath::default(), &mut paths);
        paths
    }

    /// Every scalar and list as a person writes its path, depth first: keys holding dots
    /// bare where that finds the same value (as a `${…}` inside a KDL string can hold it
    /// without escapes), quoted where it would not.
    pub fn leaf_paths(&self) -> Vec<String> {
        self.leaves()
            .iter()
            .map(|path| {
                let bare = path.join(".");
                if self.find(&bare).as_ref() == Some(path) {
                    bare
                } else {
                    path.to_string()
                }
            })
            .collect()
    }
}

fn find_in(table: &Table, steps: &[Written], keys: &mut Vec<String>) -> bool {
    let Some(first) = steps.first() else {
        return true;
    };
    let mut key = String::new();
    for (used, step) in steps.iter().enumerate() {
        match step {
            Written::Quoted(quoted) if used == 0 => key.push_str(quoted),
            Written::Bare(bare) if used == 0 => key.push_str(bare),
            Written::Bare(bare) if matches!(first, Written::Bare(_)) => {
                key.push('.');
                key.push_str(bare);
            }
            _ => return false,
        }
        let Some(entry) = table.entries.get(&key) else {
            continue;
        };
        let rest = &steps[used + 1..];
        keys.push(key.clone());
        let found = match &entry.value {
            _ if rest.is_empty() => true,
            Value::Table(inner) => find_in(inner, rest, keys),
            _ => false,
        };
        if found {
            return true;
        }
        keys.pop();
    }
    false
}

fn collect_leaves(table: &Table, path: &mut KeyPath, out: &mut Vec<KeyPath>) {
    for (key, entry) in &table.entries {
        path.push(key);
        match &entry.value {
            Value::Table(inner) => collect_leaves(inner, path, out),
            _ => out.push(path.clone()),
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::parse::Scalar;
    use crate::resolve::{Entry, Origin, ScalarValue};
    use crate::source::{FileId, Span};

    fn origin() -> Origin {
        Origin::new(&Arc::from("dev"), Span::new(FileId(0), 0, 0))
    }

    fn table(entries: &[(&str, Value)]) -> Table {
        let mut table = Table::new(origin());
        for (key, value) in entries {
            table.entries.insert(
                key.to_string(),
                Entry {
                    key_span: Span::new(FileId(0), 0, 0),
                    value: value.clone(),
                },
            );
        }
        table
    }

    fn scalar(text: &str) -> Value {
        Value::Scalar(ScalarValue {
            value: Scalar::String(text.to_string()),
            template: None,
            origin: origin(),
        })
    }

    #[test]
    fn parses_dotted_text_with_quoted_keys() {
        let path = KeyPath::parse(r#"tags."cost.center""#).unwrap();
        assert_eq!(&path[..], ["tags", "cost.center"]);
        let path = KeyPath::parse(r#"a."say \"hi\"".b"#).unwrap();
        assert_eq!(&path[..], ["a", "say \"hi\"", "b"]);
        assert_eq!(KeyPath::parse("service.api.scaling.max").unwrap().len(), 4);
        for bad in ["", "a..b", "a.", ".a", r#"a."open"#, r#"a."b"c"#] {
            assert_eq!(KeyPath::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn shows_keys_quoted_only_when_they_need_it() {
        let path = KeyPath::of(["tags", "cost.center", "a b", "say \"hi\"", "cpu-target"]);
        let shown = path.to_string();
        assert_eq!(shown, r#"tags."cost.center"."a b"."say \"hi\"".cpu-target"#);
        assert_eq!(KeyPath::parse(&shown), Some(path));
        assert_eq!(
            KeyPath::of(["service", "api", "scaling", "max"]).to_string(),
            "service.api.scaling.max"
        );
    }

    #[test]
    fn converts_to_json_pointers_and_back() {
        let path = KeyPath::of(["tags", "a/b", "m~n", "cost.center"]);
        assert_eq!(path.pointer(), "/tags/a~1b/m~0n/cost.center");
        assert_eq!(KeyPath::from_pointer(&path.pointer()), Some(path));
        assert_eq!(KeyPath::from_pointer(""), Some(KeyPath::default()));
        assert_eq!(KeyPath::from_pointer("/a/~2"), None);
        assert_eq!(KeyPath::from_pointer("a"), None);
        assert_eq!(
            pointer(&["worker", "a/b~c", "timeout"]),
            "/worker/a~1b~0c/timeout"
        );
    }

    #[test]
    fn finds_a_key_holding_dots_written_bare_or_quoted() {
        let tags = table(&[("cost.center", scalar("42")), ("team", scalar("x"))]);
        let root = table(&[("tags", Value::Table(Arc::new(tags)))]);
        let want = Some(KeyPath::of(["tags", "cost.center"]));
        assert_eq!(root.find("tags.cost.center"), want);
        assert_eq!(root.find(r#"tags."cost.center""#), want);
        assert_eq!(root.find("tags.team"), Some(KeyPath::of(["tags", "team"])));
        assert_eq!(root.find("tags.cost"), None);
        assert_eq!(root.find(r#"tags."cost".center"#), None);
        assert_eq!(
            root.get(&KeyPath::of(["tags", "cost.center"]))
                .unwrap()
                .shown(),
            "\"42\""
        );
        assert_eq!(root.leaf_paths(), ["tags.cost.center", "tags.team"]);
    }

    #[test]
    fn a_split_path_is_found_before_a_key_holding_dots() {
        let inner = table(&[("b", scalar("split"))]);
        let root = table(&[
            ("a", Value::Table(Arc::new(inner))),
            ("a.b", scalar("dotted")),
        ]);
        let split = root.find("a.b").unwrap();
        assert_eq!(&split[..], ["a", "b"]);
        assert_eq!(root.find(r#""a.b""#).unwrap().to_string(), r#""a.b""#);
        assert_eq!(root.leaf_paths(), ["a.b", r#""a.b""#]);
    }
}

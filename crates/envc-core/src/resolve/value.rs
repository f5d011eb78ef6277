//! Merged values and their provenance.
//!
//! Every value of a [`Table`] carries an [`Origin`]: the environment and span that set it, and
//! the value it overrode (which carries its own origin, and so on up the `extends` chain).

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::parse::Scalar;
use crate::source::Span;

use super::path::pointer_token;

/// Who set a value: the environment (or `project` for `stacks.kdl`), where, and what it
/// replaced.
#[derive(Debug, Clone)]
pub struct Origin {
    pub env: Arc<str>,
    pub span: Span,
    pub overrode: Option<Box<Overridden>>,
}

/// A value that a child environment overrode.
#[derive(Debug, Clone)]
pub struct Overridden {
    /// The old value as KDL would show it.
    pub shown: String,
    pub origin: Origin,
}

impl Origin {
    pub fn new(env: &Arc<str>, span: Span) -> Self {
        Origin {
            env: env.clone(),
            span,
            overrode: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScalarValue {
    pub value: Scalar,
    /// The string as written, when it held `${…}` references.
    pub template: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct ListValue {
    pub items: Vec<ScalarValue>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub entries: IndexMap<String, Entry>,
    /// The node that introduced the table (or the file, for an environment's root).
    pub origin: Origin,
    /// Keys a `(remove)` took out and no later file set again, with what they held.
    pub removed: IndexMap<String, Removal>,
}

/// A value a `(remove)` took out: who removed it, where, and what it was.
#[derive(Debug, Clone)]
pub struct Removal {
    pub origin: Origin,
    pub was: Value,
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// The node name or property name (or, for keyed tables, the key argument).
    pub key_span: Span,
    pub value: Value,
}

/// A merged value. A table is shared: an environment's merged root is a copy of its parent's
/// in which only the tables it changes are copied, so environments that inherit most of
/// their settings share them (`Arc::make_mut` copies a table on its first change).
#[derive(Debug, Clone)]
pub enum Value {
    Scalar(ScalarValue),
    List(ListValue),
    Table(Arc<Table>),
}

impl Value {
    pub fn origin(&self) -> &Origin {
        match self {
            Value::Scalar(s) => &s.origin,
            Value::List(l) => &l.origin,
            Value::Table(t) => &t.origin,
        }
    }

    /// The value as KDL would show it; tables are summarised.
    pub fn shown(&self) -> String {
        match self {
            Value::Scalar(s) => s.value.to_kdl(),
            Value::List(l) => l
                .items
                .iter()
                .map(|i| i.value.to_kdl())
                .collect::<Vec<_>>()
                .join(" "),
            Value::Table(_) => "{ … }".to_string(),
        }
    }
}

impl Table {
    pub fn new(origin: Origin) -> Self {
        Table {
            entries: IndexMap::new(),
            origin,
            removed: IndexMap::new(),
        }
    }

    /// The table as JSON, with the span of every key and value by JSON pointer.
    pub fn to_json(&self) -> (serde_json::Value, SpanIndex) {
        let mut index = Vec::new();
        let json = table_json(self, "", &mut index);
        (json, SpanIndex::from_entries(index))
    }
}

/// Where the key and value at a JSON pointer were written.
#[derive(Debug, Clone)]
pub struct Located {
    pub key: Span,
    pub value: Span,
    pub env: Arc<str>,
}

/// JSON pointer (`/service/api/cpu`) → where its key and value were written, for placing
/// problems in the source. A check holds one for every environment, so it is compact: its
/// entries sorted in one allocation, and their pointers shared with the other indexes its
/// thread built (every environment that has a setting has the same pointer for it).
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    entries: Box<[(Arc<str>, Located)]>,
}

impl SpanIndex {
    fn from_entries(mut entries: Vec<(Arc<str>, Located)>) -> Self {
        entries.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        SpanIndex {
            entries: entries.into_boxed_slice(),
        }
    }

    /// Where the key and value at `pointer` were written.
    pub fn get(&self, pointer: &str) -> Option<&Located> {
        let at = self
            .entries
            .binary_search_by(|(p, _)| (**p).cmp(pointer))
            .ok()?;
        Some(&self.entries[at].1)
    }

    pub fn contains(&self, pointer: &str) -> bool {
        self.get(pointer).is_some()
    }

    /// Every pointer and where it was written, in the order of the pointers.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Located)> {
        self.entries.iter().map(|(p, l)| (&**p, l))
    }

    /// The located entry at `pointer`, or at its nearest ancestor that has one.
    pub fn nearest(&self, pointer: &str) -> Option<&Located> {
        let mut pointer = pointer;
        loop {
            if let Some(found) = self.get(pointer) {
                return Some(found);
            }
            let cut = pointer.rfind('/')?;
            pointer = &pointer[..cut];
        }
    }
}

/// `pointer`, shared with every index this thread built that has it. The set is emptied
/// when it grows past what any project's settings need, so a long editor session holds no
/// more than that.
fn shared_pointer(pointer: &str) -> Arc<str> {
    const MOST: usize = 1 << 16;
    thread_local! {
        static POINTERS: RefCell<HashSet<Arc<str>>> = RefCell::default();
    }
    POINTERS.with_borrow_mut(|pointers| {
        if let Some(shared) = pointers.get(pointer) {
            return shared.clone();
        }
        if pointers.len() >= MOST {
            pointers.clear();
        }
        let shared: Arc<str> = Arc::from(pointer);
        pointers.insert(shared.clone());
        shared
    })
}

fn table_json(
    table: &Table,
    pointer: &str,
    index: &mut Vec<(Arc<str>, Located)>,
) -> serde_json::Value {
    let mut object = serde_json::Map::with_capacity(table.entries.len());
    for (key, entry) in &table.entries {
        let child = [pointer, "/", &pointer_token(key)].concat();
        let origin = entry.value.origin();
        let located = Located {
            key: entry.key_span,
            value: origin.span,
            env: origin.env.clone(),
        };
        index.push((shared_pointer(&child), located));
        let json = match &entry.value {
            Value::Scalar(s) => s.value.to_json(),
            Value::List(list) => {
                let mut items = Vec::with_capacity(list.items.len());
                for (i, item) in list.items.iter().enumerate() {
                    let located = Located {
                        key: item.origin.span,
                        value: item.origin.span,
                        env: item.origin.env.clone(),
                    };
                    index.push((shared_pointer(&format!("{child}/{i}")), located));
                    items.push(item.value.to_json());
                }
                serde_json::Value::Array(items)
            }
            Value::Table(t) => table_json(t, &child, index),
        };
        object.insert(key.clone(), json);
    }
    serde_json::Value::Object(object)
}

//! Merged values and their provenance.
//!
//! Every value of a [`Table`] carries an [`Origin`]: the environment and span that set it, and
//! the value it overrode (which carries its own origin, and so on up the `extends` chain).

use std::collections::HashMap;
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

#[derive(Debug, Clone)]
pub enum Value {
    Scalar(ScalarValue),
    List(ListValue),
    Table(Table),
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
        let mut index = SpanIndex::default();
        let json = table_json(self, "", &mut index);
        (json, index)
    }
}

/// Where the key and value at a JSON pointer were written.
#[derive(Debug, Clone)]
pub struct Located {
    pub key: Span,
    pub value: Span,
    pub env: Arc<str>,
}

/// JSON pointer (`/service/api/cpu`) → spans, for mapping schema errors back to the source.
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    pub by_pointer: HashMap<String, Located>,
}

impl SpanIndex {
    /// The located entry at `pointer`, or at its nearest ancestor that has one.
    pub fn nearest(&self, pointer: &str) -> Option<&Located> {
        let mut pointer = pointer;
        loop {
            if let Some(found) = self.by_pointer.get(pointer) {
                return Some(found);
            }
            let cut = pointer.rfind('/')?;
            pointer = &pointer[..cut];
        }
    }
}

fn table_json(table: &Table, pointer: &str, index: &mut SpanIndex) -> serde_json::Value {
    let mut object = serde_json::Map::with_capacity(table.entries.len());
    for (key, entry) in &table.entries {
        let child = format!("{pointer}/{}", pointer_token(key));
        let origin = entry.value.origin();
        index.by_pointer.insert(
            child.clone(),
            Located {
                key: entry.key_span,
                value: origin.span,
                env: origin.env.clone(),
            },
        );
        let json = match &entry.value {
            Value::Scalar(s) => s.value.to_json(),
            Value::List(list) => {
                let mut items = Vec::with_capacity(list.items.len());
                for (i, item) in list.items.iter().enumerate() {
                    index.by_pointer.insert(
                        format!("{child}/{i}"),
                        Located {
                            key: item.origin.span,
                            value: item.origin.span,
                            env: item.origin.env.clone(),
                        },
                    );
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

//! The syntax tree envc works on: KDL nodes with a span on every name, argument and property.

use crate::source::{FileId, Span};

/// A KDL scalar.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Scalar {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    Null,
}

impl Scalar {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as KDL would write it (strings quoted).
    pub fn to_kdl(&self) -> String {
        match self {
            Scalar::String(s) => format!("{s:?}"),
            other => other.to_plain(),
        }
    }

    /// The value as it appears inside an interpolated string.
    pub fn to_plain(&self) -> String {
        match self {
            Scalar::String(s) => s.clone(),
            Scalar::Integer(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => format!("#{b}"),
            Scalar::Null => "#null".to_string(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Scalar::String(s) => serde_json::Value::String(s.clone()),
            Scalar::Integer(i) => serde_json::Value::from(*i),
            Scalar::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Scalar::Bool(b) => serde_json::Value::Bool(*b),
            Scalar::Null => serde_json::Value::Null,
        }
    }
}

/// How a node in a child environment combines with what it inherits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum MergeMode {
    /// Tables merge key by key; scalars and lists replace.
    Merge,
    /// `(replace)`: the node replaces the inherited one whole.
    Replace,
    /// `(remove)`: the inherited node is deleted.
    Remove,
    /// `(append)`: the arguments are appended to the inherited list.
    Append,
}

impl MergeMode {
    pub const ANNOTATIONS: &'static [&'static str] = &["replace", "remove", "append"];

    pub fn from_annotation(name: &str) -> Option<MergeMode> {
        match name {
            "replace" => Some(MergeMode::Replace),
            "remove" => Some(MergeMode::Remove),
            "append" => Some(MergeMode::Append),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Argument {
    pub value: Scalar,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Property {
    pub name: String,
    pub name_span: Span,
    pub value: Scalar,
    pub value_span: Span,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Node {
    pub name: String,
    pub name_span: Span,
    pub mode: MergeMode,
    /// The span of the `(annotation)`, when there is one.
    pub mode_span: Option<Span>,
    pub args: Vec<Argument>,
    pub props: Vec<Property>,
    /// `None` when the node has no `{ }` block.
    pub children: Option<Vec<Node>>,
    /// The whole node, annotation to closing brace.
    pub span: Span,
}

impl Node {
    pub fn has_body(&self) -> bool {
        !self.props.is_empty() || self.children.is_some()
    }
}

/// A reference to another name in a file, like the parent in `extends "staging"`.
#[derive(Debug, Clone)]
pub struct NameRef {
    pub name: String,
    pub span: Span,
}

/// One `env/<name>.kdl`.
#[derive(Debug, Clone)]
pub struct EnvFile {
    pub name: String,
    pub file: FileId,
    pub extends: Option<NameRef>,
    /// Set by `abstract #true`: the environment can be a parent but is never deployed.
    pub is_abstract: bool,
    pub nodes: Vec<Node>,
}

/// `stacks.kdl`.
#[derive(Debug, Clone)]
pub struct StacksFile {
    pub file: FileId,
    pub nodes: Vec<Node>,
}

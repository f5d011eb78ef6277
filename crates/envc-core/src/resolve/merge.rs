//! Applying one file's nodes on top of what it inherits.
//!
//! Tables merge key by key (properties and child nodes alike), scalars and lists replace,
//! `(replace)` replaces whole, `(remove)` deletes, `(append)` extends an inherited list.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::did_you_mean;
use crate::model::Shape;
use crate::parse::{Argument, MergeMode, Node, Property, Scalar};
use crate::source::Span;

use super::value::{Entry, ListValue, Origin, Overridden, Removal, ScalarValue, Table, Value};

/// Applies the nodes of one file (by environment `env`) onto `table`.
pub struct Merger<'a> {
    pub env: &'a Arc<str>,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

/// What a node is, once its shape and syntax are put together.
enum Form {
    Table,
    List,
    Scalar,
}

impl Merger<'_> {
    /// Applies `nodes` (and a node's `props`) as one scope: a key set twice in it is an error.
    pub fn apply(&mut self, table: &mut Table, props: &[Property], nodes: &[Node], shape: &Shape) {
        let mut seen: HashMap<(String, Option<String>), Span> = HashMap::new();
        for prop in props {
            if self.reference_in_key(&prop.name, prop.name_span) {
                continue;
            }
            if let Some(first) = seen.insert((prop.name.clone(), None), prop.name_span) {
                self.duplicate(&prop.name, prop.name_span, first);
                continue;
            }
            self.apply_property(table, prop, shape.child(&prop.name));
        }
        for node in nodes {
            let field_shape = shape.child(&node.name);
            let keyed = matches!(field_shape, Shape::Keyed(_))
                || (*field_shape == Shape::Unknown
                    && node.args.len() == 1
                    && node.args[0].value.as_str().is_some()
                    && node.has_body());
            let key = if keyed {
                match node.args.first().and_then(|a| a.value.as_str()) {
                    Some(key) if node.args.len() == 1 => Some(key.to_string()),
                    _ => {
                        self.diagnostics.push(keyed_arity(node));
                        continue;
                    }
                }
            } else {
                None
            };
            let key_span = node.args.first().map_or(node.name_span, |a| a.span);
            if self.reference_in_key(&node.name, node.name_span)
                || key
                    .as_deref()
                    .is_some_and(|k| self.reference_in_key(k, key_span))
            {
                continue;
            }
            if let Some(first) = seen.insert((node.name.clone(), key.clone()), node.name_span) {
                let what = match &key {
                    Some(k) => format!("{} \"{k}\"", node.name),
                    None => node.name.clone(),
                };
                self.duplicate(&what, node.name_span, first);
                continue;
            }
            // A value written as another stack's output (`REDIS_URL output="cache.Url"`), in a
            // dictionary or a setting that takes one, is a small table of its properties; the
            // schema says where that is allowed.
            let properties_only = (*shape == Shape::Dictionary || *field_shape == Shape::Scalar)
                && node.args.is_empty()
                && node.props.len() == 1
                && node.props[0].name == "output"
                && node.children.is_none()
                && node.mode != MergeMode::Remove;
            match (key, field_shape) {
                (Some(key), Shape::Keyed(inner)) => self.apply_keyed(table, node, key, inner),
                (Some(key), _) => self.apply_keyed(table, node, key, &Shape::Unknown),
                (None, _) if properties_only => {
                    let fresh = self.fresh_table(node, &Shape::Unknown);
                    set(
                        table,
                        &node.name,
                        node.name_span,
                        Value::Table(Arc::new(fresh)),
                    );
                }
                (None, field_shape) => self.apply_node(table, node, field_shape),
            }
        }
    }

    /// Refuses a key holding a `${…}` reference: references are resolved in values only, so
    /// the key would be kept as written.
    fn reference_in_key(&mut self, key: &str, span: Span) -> bool {
        if !super::interpolate::holds_reference(key) {
            return false;
        }
        self.diagnostics.push(
            Diagnostic::error(
                Code::RefInKey,
                format!("`{key}` is a key, and references work in values only"),
            )
            .at(span, "a reference in a key is kept as written")
            .help("write the key out in full (each environment's file can set its own); `$${` writes a literal `${`"),
        );
        true
    }

    fn duplicate(&mut self, what: &str, span: Span, first: Span) {
        self.diagnostics.push(
            Diagnostic::error(Code::DuplicateNode, format!("`{what}` is set twice"))
                .at(span, "set again here")
                .also(first, "first set here")
                .help("set each key once per file; to change an inherited value, set it once in the child"),
        );
    }

    fn origin(&self, span: Span) -> Origin {
        Origin::new(self.env, span)
    }

    fn apply_property(&mut self, table: &mut Table, prop: &Property, shape: &Shape) {
        let scalar = ScalarValue {
            value: prop.value.clone(),
            template: None,
            origin: self.origin(prop.value_span),
        };
        let value = match shape {
            Shape::List => Value::List(ListValue {
                origin: scalar.origin.clone(),
                items: vec![scalar],
            }),
            Shape::Record(_) | Shape::Keyed(_) | Shape::Dictionary => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::Shape,
                        format!("`{}` is a block, not a single value", prop.name),
                    )
                    .at(prop.name_span, "written as a property here")
                    .help(format!("write it as a child node: `{} {{ … }}`", prop.name)),
                );
                return;
            }
            _ => Value::Scalar(scalar),
        };
        set(table, &prop.name, prop.name_span, value);
    }

    fn apply_keyed(&mut self, table: &mut Table, node: &Node, key: String, inner: &Shape) {
        let key_span = node.args[0].span;
        let group_origin = self.origin(node.name_span);
        let group = match table.entries.get_mut(&node.name) {
            Some(Entry {
                value: Value::Table(t),
                ..
            }) => Arc::make_mut(t),
            _ => {
                if node.mode == MergeMode::Remove {
                    self.remove_missing(node, &format!("{} \"{key}\"", node.name), &[]);
                    return;
                }
                set(
                    table,
                    &node.name,
                    node.name_span,
                    Value::Table(Arc::new(Table::new(group_origin))),
                );
                match table.entries.get_mut(&node.name) {
                    Some(Entry {
                        value: Value::Table(t),
                        ..
                    }) => Arc::make_mut(t),
                    _ => unreachable!("just inserted a table"),
                }
            }
        };
        match node.mode {
            MergeMode::Remove if !self.removes_only(node, 1) => {}
            MergeMode::Remove => {
                if !self.remove(group, &key, node) {
                    let known: Vec<String> = group.entries.keys().cloned().collect();
                    self.remove_missing(node, &format!("{} \"{key}\"", node.name), &known);
                }
            }
            MergeMode::Append => self.append_not_list(node),
            MergeMode::Merge => {
                if let Some(Entry {
                    value: Value::Table(existing),
                    ..
                }) = group.entries.get_mut(&key)
                {
                    let children = node.children.as_deref().unwrap_or(&[]);
                    self.apply(Arc::make_mut(existing), &node.props, children, inner);
                    return;
                }
                let fresh = self.fresh_table(node, inner);
                set(group, &key, key_span, Value::Table(Arc::new(fresh)));
            }
            MergeMode::Replace => {
                let fresh = self.fresh_table(node, inner);
                set(group, &key, key_span, Value::Table(Arc::new(fresh)));
            }
        }
    }

    fn fresh_table(&mut self, node: &Node, shape: &Shape) -> Table {
        let mut fresh = Table::new(self.origin(node.span));
        let children = node.children.as_deref().unwrap_or(&[]);
        self.apply(&mut fresh, &node.props, children, shape);
        fresh
    }

    fn apply_node(&mut self, table: &mut Table, node: &Node, shape: &Shape) {
        if node.mode == MergeMode::Remove {
            if !self.removes_only(node, 0) {
                return;
            }
            if !self.remove(table, &node.name, node) {
                let known: Vec<String> = table.entries.keys().cloned().collect();
                self.remove_missing(node, &node.name, &known);
            }
            return;
        }
        let Some(form) = self.form(node, shape) else {
            return;
        };
        match form {
            Form::Table => {
                if node.mode == MergeMode::Append {
                    self.append_not_list(node);
                    return;
                }
                if node.mode == MergeMode::Merge {
                    if let Some(Entry {
                        value: Value::Table(existing),
                        ..
                    }) = table.entries.get_mut(&node.name)
                    {
                        let children = node.children.as_deref().unwrap_or(&[]);
                        self.apply(Arc::make_mut(existing), &node.props, children, shape);
                        return;
                    }
                }
                let fresh = self.fresh_table(node, shape);
                set(
                    table,
                    &node.name,
                    node.name_span,
                    Value::Table(Arc::new(fresh)),
                );
            }
            Form::List => {
                let mut items: Vec<ScalarValue> =
                    node.args.iter().map(|a| self.scalar(a)).collect();
                if node.mode == MergeMode::Append {
                    match table.entries.get(&node.name).map(|e| &e.value) {
                        Some(Value::List(existing)) => {
                            let mut all = existing.items.clone();
                            all.append(&mut items);
                            items = all;
                        }
                        Some(_) => {
                            self.append_not_list(node);
                            return;
                        }
                        None => {}
                    }
                }
                let list = Value::List(ListValue {
                    items,
                    origin: self.origin(node.span),
                });
                set(table, &node.name, node.name_span, list);
            }
            Form::Scalar => {
                if node.mode == MergeMode::Append {
                    self.append_not_list(node);
                    return;
                }
                let value = Value::Scalar(self.scalar(&node.args[0]));
                set(table, &node.name, node.name_span, value);
            }
        }
    }

    fn scalar(&self, arg: &Argument) -> ScalarValue {
        ScalarValue {
            value: arg.value.clone(),
            template: None,
            origin: self.origin(arg.span),
        }
    }

    /// Decides a node's form from its shape, checking its syntax fits.
    fn form(&mut self, node: &Node, shape: &Shape) -> Option<Form> {
        let form = match shape {
            Shape::Record(_) | Shape::Dictionary => Form::Table,
            Shape::List => Form::List,
            Shape::Scalar => Form::Scalar,
            Shape::Keyed(_) => Form::Table,
            Shape::Unknown if node.has_body() => Form::Table,
            Shape::Unknown if node.args.len() > 1 => Form::List,
            Shape::Unknown => Form::Scalar,
        };
        let problem = match form {
            Form::Table if !node.args.is_empty() => Some((
                node.args[0].span,
                format!("`{}` is a block and takes no arguments", node.name),
                format!("put its settings inside: `{} {{ … }}`", node.name),
            )),
            Form::List if node.has_body() => Some((
                node.name_span,
                format!("`{}` is a list of values", node.name),
                format!("write the values as arguments: `{} \"a\" \"b\"`", node.name),
            )),
            Form::Scalar if node.args.len() != 1 || node.has_body() => Some((
                node.name_span,
                format!("`{}` takes exactly one value", node.name),
                format!("write it as `{} <value>`", node.name),
            )),
            _ => None,
        };
        match problem {
            Some((span, message, help)) => {
                let code = if matches!(form, Form::Scalar) && !node.has_body() {
                    Code::Arity
                } else {
                    Code::Shape
                };
                self.diagnostics
                    .push(Diagnostic::error(code, message).at(span, "here").help(help));
                None
            }
            None => Some(form),
        }
    }

    /// Takes `key` out of `table`, keeping what it held for `explain`; false when absent.
    fn remove(&self, table: &mut Table, key: &str, node: &Node) -> bool {
        let Some(entry) = table.entries.shift_remove(key) else {
            return false;
        };
        let removal = Removal {
            origin: self.origin(node.span),
            was: entry.value,
        };
        table.removed.insert(key.to_string(), removal);
        true
    }

    /// Whether a `(remove)` node holds nothing past its name and its `names` key arguments:
    /// a value, property or block on it would be silently dropped with it (reported).
    fn removes_only(&mut self, node: &Node, names: usize) -> bool {
        let value = node
            .args
            .get(names)
            .map(|a| a.span)
            .or(node.props.first().map(|p| p.name_span));
        let Some(at) = value.or(node.children.as_ref().map(|_| node.span)) else {
            return true;
        };
        self.diagnostics.push(
            Diagnostic::error(
                Code::RemoveWithValue,
                format!("`(remove){}` takes nothing but what it removes", node.name),
            )
            .at(at, "this would be dropped with it")
            .help("`(remove)` deletes the inherited value whole: write it alone (`(remove)waf`, `(remove)queue \"legacy\"`), or without `(remove)` to change the value"),
        );
        false
    }

    fn remove_missing(&mut self, node: &Node, what: &str, known: &[String]) {
        let mut diagnostic = Diagnostic::error(
            Code::RemoveMissing,
            format!("`(remove){what}` removes nothing: it is not inherited"),
        )
        .at(node.span, "nothing to remove");
        diagnostic = match did_you_mean(
            node.args
                .first()
                .and_then(|a| a.value.as_str())
                .unwrap_or(&node.name),
            known.iter().map(String::as_str),
        ) {
            Some(help) => diagnostic.help(help),
            None => diagnostic.help("delete this line, or check the parent environment defines it"),
        };
        self.diagnostics.push(diagnostic);
    }

    fn append_not_list(&mut self, node: &Node) {
        self.diagnostics.push(
            Diagnostic::error(
                Code::AppendNotList,
                format!("`(append)` needs a list, and `{}` is not one", node.name),
            )
            .at(node.mode_span.unwrap_or(node.name_span), "here")
            .help("`(append)` adds arguments to an inherited list; to change a block, set its keys; to swap it whole use `(replace)`"),
        );
    }
}

/// Sets `key`, recording what it overrode.
fn set(table: &mut Table, key: &str, key_span: Span, mut value: Value) {
    if let Some(previous) = table.entries.get(key) {
        if let (Value::Table(fresh), Value::Table(old)) = (&mut value, &previous.value) {
            // A block written whole (`(replace)`): each value in it overrode the one at its
            // place in the old block, which `explain` shows.
            overrode_within(Arc::make_mut(fresh), old);
        }
        overrode(&mut value, &previous.value);
    }
    table.removed.shift_remove(key);
    table
        .entries
        .insert(key.to_string(), Entry { key_span, value });
}

/// Records in `value` that it overrode `previous`.
fn overrode(value: &mut Value, previous: &Value) {
    let overridden = Some(Box::new(Overridden {
        shown: previous.shown(),
        origin: previous.origin().clone(),
    }));
    match value {
        Value::Scalar(s) => s.origin.overrode = overridden,
        Value::List(l) => l.origin.overrode = overridden,
        Value::Table(t) => Arc::make_mut(t).origin.overrode = overridden,
    }
}

/// Each value of `fresh` overrode the value at its place in `old`, when there is one.
fn overrode_within(fresh: &mut Table, old: &Table) {
    for (key, entry) in &mut fresh.entries {
        let Some(previous) = old.entries.get(key) else {
            continue;
        };
        match (&mut entry.value, &previous.value) {
            (Value::Table(inner), Value::Table(old_inner)) => {
                overrode_within(Arc::make_mut(inner), old_inner)
            }
            (Value::Table(_), _) => {}
            (value, previous) => overrode(value, previous),
        }
    }
}

/// A scalar from a `Scalar` for values envc injects (like `env`).
pub fn injected(env: &Arc<str>, span: Span, value: Scalar) -> Value {
    Value::Scalar(ScalarValue {
        value,
        template: None,
        origin: Origin::new(env, span),
    })
}

/// Why a keyed node (`stack "api"`, `service "api"`) does not have exactly one name.
fn keyed_arity(node: &Node) -> Diagnostic {
    let name = &node.name;
    let [first, extra, ..] = node.args.as_slice() else {
        return Diagnostic::error(Code::Arity, format!("`{name}` needs one name"))
            .at(node.name_span, "expected a name after this")
            .help(format!(
                "name it, like `{name} \"api\" {{ … }}`; every `{name}` has its own name"
            ));
    };
    let key = first.value.to_kdl();
    // `needs="network" "cluster"`: the second value belongs to the node, not the property.
    let before = node
        .props
        .iter()
        .filter(|p| p.value_span.end <= extra.span.start);
    if let Some(property) = before.max_by_key(|p| p.value_span.end) {
        return Diagnostic::error(
            Code::Arity,
            format!("`{name} {key}` has a value after its property `{}`", property.name),
        )
        .at(extra.span, "this value belongs to the node, not to the property before it")
        .help({
            let others: String = node
                .props
                .iter()
                .filter(|p| p.name != property.name)
                .map(|p| format!(" {}={}", p.name, p.value.to_kdl()))
                .collect();
            let list: Vec<String> = std::iter::once(&property.value)
                .chain(node.args[1..].iter().map(|a| &a.value))
                .map(|v| v.to_kdl())
                .collect();
            format!(
                "a property takes one value; write a list as a child node: `{name} {key}{others} {{ {} {} }}`",
                property.name,
                list.join(" ")
            )
        });
    }
    Diagnostic::error(
        Code::Arity,
        format!("`{name}` takes one name, not {}", node.args.len()),
    )
    .at(extra.span, "a second name")
    .help(format!(
        "each `{name}` has one name; write one `{name}` per name"
    ))
}

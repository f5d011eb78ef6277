//! The settings blocks of project-kind stacks: each environment's block (named after the
//! stack) is taken out of the document before the model's schema sees it, validated against
//! its kind's schema with the same diagnostics, and kept, with the schema's defaults filled
//! in, as the `settings` its template sees.

use indexmap::IndexMap;
use serde_json::{json, Value};

use super::schema::{CompiledSchema, Problems, ShapeOf};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::Shape;
use crate::resolve::{ResolvedProject, SpanIndex};
use crate::source::Span;

/// One stack's settings block and the schema it is checked against.
pub struct SettingsBlock {
    pub stack: String,
    kind: String,
    schema: CompiledSchema,
    kind_schema: Value,
    rules: Vec<crate::parse::kind_rules::KindRule>,
}

/// The settings blocks of a project, and the shape of its environments with them.
pub struct ProjectSettings {
    pub blocks: Vec<SettingsBlock>,
    /// The model's shape with a field per settings block (for did-you-mean).
    pub env_shape: Shape,
    /// Blocks of stacks whose kind was refused: taken out, never checked.
    refused: Vec<String>,
}

impl ProjectSettings {
    pub fn of(resolved: &ResolvedProject) -> ProjectSettings {
        let mut blocks = Vec::new();
        let mut fields = Vec::new();
        for (stack, kind) in &resolved.settings_blocks {
            let Some(definition) = resolved.kinds.iter().find(|k| &k.name == kind) else {
                continue;
            };
            let wrapper = crate::model::settings_block_schema(stack, &definition.schema);
            let shape = Shape::from_schema(&wrapper);
            fields.push((stack.clone(), shape.field(stack).clone()));
            blocks.push(SettingsBlock {
                stack: stack.clone(),
                kind: kind.clone(),
                schema: CompiledSchema::of_a_kind(
                    wrapper,
                    &definition.schema,
                    ShapeOf::Own(Box::new(shape)),
                    "environment",
                ),
                kind_schema: definition.schema.clone(),
                rules: definition.rules.clone(),
            });
        }
        ProjectSettings {
            blocks,
            env_shape: crate::resolve::Shapes::shared().env.with_fields(fields),
            refused: resolved.refused_blocks.clone(),
        }
    }

    /// Takes each settings block out of `document` (an environment's JSON).
    pub fn take(&self, document: &mut Value) -> IndexMap<String, Value> {
        let mut taken = IndexMap::new();
        if let Some(map) = document.as_object_mut() {
            for block in &self.blocks {
                if let Some(value) = map.shift_remove(&block.stack) {
                    taken.insert(block.stack.clone(), value);
                }
            }
            for stack in &self.refused {
                map.shift_remove(stack);
            }
        }
        taken
    }

    /// Checks the blocks `take` returned; returns them with their defaults filled in when
    /// every one is valid.
    pub fn check(
        &self,
        taken: IndexMap<String, Value>,
        spans: &SpanIndex,
        root: Span,
        skip: &dyn Fn(&str) -> bool,
    ) -> (IndexMap<String, Value>, Problems) {
        let mut found = Vec::new();
        let mut settings = IndexMap::new();
        for (stack, value) in taken {
            let Some(block) = self.blocks.iter().find(|b| b.stack == stack) else {
                continue;
            };
            let document = json!({ stack.clone(): value });
            let problems = block.schema.validate(&document, spans, root, skip);
            if problems.is_empty() {
                let mut value = document[&stack].clone();
                fill_defaults(&mut value, &block.kind_schema, &block.kind_schema);
                let refused = block.refusals(&value, spans, root);
                if refused.is_empty() {
                    let value = block.schema.shape().field(&stack).snake_keys(&value);
                    settings.insert(stack, value);
                }
                found.extend(refused);
            }
            found.extend(problems);
        }
        (settings, found)
    }
}

impl SettingsBlock {
    /// What the kind's rules refuse in `block` (its settings, defaults filled in): each at
    /// the setting the rule names first, with the others it names and their values.
    fn refusals(&self, block: &Value, spans: &SpanIndex, root: Span) -> Problems {
        let mut found = Vec::new();
        for rule in self.rules.iter().filter(|r| r.refuses(block)) {
            let mut diagnostic = Diagnostic::error(Code::KindRule, rule.message.clone());
            let mut first = None;
            for path in rule.settings() {
                let shown = path.join(".");
                let value = path
                    .iter()
                    .try_fold(block, |node, key| node.get(key))
                    .map(kdl_text)
                    .unwrap_or_default();
                let keys: Vec<&str> = std::iter::once(self.stack.as_str())
                    .chain(path.iter().map(String::as_str))
                    .collect();
                let pointer = crate::resolve::path::pointer(&keys);
                let (span, text) = match spans.get(&pointer) {
                    Some(set) => (set.value, format!("`{shown}` is {value}")),
                    None => (
                        spans.nearest(&pointer).map_or(root, |l| l.key),
                        format!("`{shown}` is {value}, its default"),
                    ),
                };
                if first.is_none() {
                    first = spans.nearest(&pointer).cloned();
                    diagnostic = diagnostic.at(span, text);
                } else {
                    diagnostic = diagnostic.also(span, text);
                }
            }
            let diagnostic = diagnostic.help(format!(
                "kind `{}` refuses settings where `{}` (its `x-envc-rules`, in kinds/{}.schema.json)",
                self.kind, rule.when, self.kind
            ));
            found.push((first, diagnostic));
        }
        found
    }
}

/// A value as it is written in KDL.
fn kdl_text(value: &Value) -> String {
    match value {
        Value::Bool(true) => "#true".into(),
        Value::Bool(false) => "#false".into(),
        Value::Null => "#null".into(),
        other => other.to_string(),
    }
}

/// Sets each absent property of `schema` (through `$ref`s into the kind's `$defs`) to its
/// `default`, or to null when it has none, recursively into objects.
fn fill_defaults(value: &mut Value, schema: &Value, root: &Value) {
    let schema = resolve_ref(schema, root);
    let (Some(object), Some(properties)) = (
        value.as_object_mut(),
        schema.get("properties").and_then(Value::as_object),
    ) else {
        return;
    };
    for (name, property) in properties {
        let property = resolve_ref(property, root);
        match object.get_mut(name) {
            Some(inner) => fill_defaults(inner, property, root),
            // An optional setting without a default is none (`is none` in a template).
            None => {
                let default = property.get("default").cloned().unwrap_or(Value::Null);
                object.insert(name.clone(), default);
            }
        }
    }
}

fn resolve_ref<'s>(schema: &'s Value, root: &'s Value) -> &'s Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs")?.get(name))
            .unwrap_or(schema),
        None => schema,
    }
}

/// The schemas a project publishes under `schema/`: the model's, with the environment schema
/// given a property per settings block (its kind's schema, whose `$defs` move to the root as
/// `<kind>.<name>`) so editors know the project's own kinds too.
pub fn published(
    resolved: &ResolvedProject,
    files: Vec<crate::model::SchemaFile>,
) -> Vec<crate::model::SchemaFile> {
    if resolved.settings_blocks.is_empty() {
        return files;
    }
    files
        .into_iter()
        .map(|file| {
            if file.file_name != "env.schema.json" {
                return file;
            }
            let mut schema = file.json();
            for (stack, kind) in &resolved.settings_blocks {
                let Some(definition) = resolved.kinds.iter().find(|k| &k.name == kind) else {
                    continue;
                };
                let mut inner = definition.schema.clone();
                rename_refs(&mut inner, kind);
                if let Some(object) = inner.as_object_mut() {
                    object.shift_remove("$schema");
                    for key in ["$defs", "definitions"] {
                        if let Some(Value::Object(defs)) = object.shift_remove(key) {
                            for (name, def) in defs {
                                schema["$defs"][format!("{kind}.{name}")] = def;
                            }
                        }
                    }
                }
                schema["properties"][stack] = inner;
            }
            let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            text.push('\n');
            crate::model::SchemaFile {
                file_name: file.file_name,
                text: text.into(),
            }
        })
        .collect()
}

/// `#/$defs/<name>` (or draft 7's `#/definitions/<name>`) → `#/$defs/<kind>.<name>`,
/// throughout `schema`.
fn rename_refs(schema: &mut Value, kind: &str) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => {
                        let name = reference
                            .strip_prefix("#/$defs/")
                            .or_else(|| reference.strip_prefix("#/definitions/"));
                        if let Some(name) = name {
                            *reference = format!("#/$defs/{kind}.{name}");
                        }
                    }
                    (_, value) => rename_refs(value, kind),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, kind)),
        _ => {}
    }
}

//! The schema defaults of project kinds, in the environments' settings blocks before
//! references resolve: `${uploads.thumbs-prefix}` sees a default as it sees a value written
//! in a file, and `explain` says it comes from the kind's schema (the `default` of that
//! setting in `kinds/<kind>.schema.json`).

use std::sync::Arc;

use serde_json::Value as Json;

use super::merge::injected;
use super::value::{Entry, Table, Value};
use crate::parse::ast::Scalar;
use crate::parse::ProjectKind;
use crate::source::{SourceMap, Span};

/// Fills each settings block of `root` (stack → kind in `blocks`) with the defaults of its
/// kind's schema that it does not set. Scalar defaults only: a list or table default is the
/// template's to use as it is.
pub fn fill(
    root: &mut Table,
    blocks: &indexmap::IndexMap<String, String>,
    kinds: &[ProjectKind],
    sources: &SourceMap,
) {
    for (stack, kind) in blocks {
        let Some(definition) = kinds.iter().find(|k| &k.name == kind) else {
            continue;
        };
        let Some(Entry {
            value: Value::Table(block),
            ..
        }) = root.entries.get_mut(stack)
        else {
            continue;
        };
        let text = &sources.file(definition.file).text;
        // `explain` says "set by kind redis", at the default in its schema.
        let layer: Arc<str> = Arc::from(format!("kind {kind}"));
        let at = Defaults {
            schema: &definition.schema,
            text,
            file: definition.file,
            layer: &layer,
        };
        at.fill(Arc::make_mut(block), &definition.schema, 0);
    }
}

struct Defaults<'a> {
    schema: &'a Json,
    text: &'a str,
    file: crate::source::FileId,
    layer: &'a Arc<str>,
}

impl Defaults<'_> {
    fn fill(&self, table: &mut Table, schema: &Json, depth: usize) {
        let schema = self.resolve(schema);
        let Some(properties) = schema.get("properties").and_then(Json::as_object) else {
            return;
        };
        if depth > 16 {
            return;
        }
        for (name, property) in properties {
            let property = self.resolve(property);
            match table.entries.get_mut(name) {
                Some(Entry {
                    value: Value::Table(inner),
                    ..
                }) => self.fill(Arc::make_mut(inner), property, depth + 1),
                Some(_) => {}
                None => {
                    let Some(scalar) = property.get("default").and_then(scalar) else {
                        continue;
                    };
                    let span = self.default_span(name);
                    table.entries.insert(
                        name.clone(),
                        Entry {
                            key_span: span,
                            value: injected(self.layer, span, scalar),
                        },
                    );
                }
            }
        }
    }

    /// Where `"<name>": { … "default" …` is in the schema's text (the first such place).
    fn default_span(&self, name: &str) -> Span {
        let key = format!("\"{name}\"");
        let found = self.text.find(&key).and_then(|at| {
            let after = at + key.len();
            let default = self.text[after..].find("\"default\"")? + after;
            Some(Span::new(self.file, default, default + "\"default\"".len()))
        });
        found.unwrap_or(Span::new(self.file, 0, 0))
    }

    fn resolve<'s>(&'s self, schema: &'s Json) -> &'s Json {
        let mut at = schema;
        for _ in 0..16 {
            let Some(reference) = at.get("$ref").and_then(Json::as_str) else {
                break;
            };
            let next = reference
                .strip_prefix("#/$defs/")
                .and_then(|n| self.schema.get("$defs")?.get(n))
                .or_else(|| {
                    reference
                        .strip_prefix("#/definitions/")
                        .and_then(|n| self.schema.get("definitions")?.get(n))
                });
            match next {
                Some(next) => at = next,
                None => break,
            }
        }
        at
    }
}

fn scalar(value: &Json) -> Option<Scalar> {
    Some(match value {
        Json::String(s) => Scalar::String(s.clone()),
        Json::Bool(b) => Scalar::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Scalar::Integer(i),
            None => Scalar::Float(n.as_f64()?),
        },
        _ => return None,
    })
}

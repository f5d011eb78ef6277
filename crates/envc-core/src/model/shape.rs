//! The shape of the model, read off its JSON Schema: which nodes are tables, which are keyed
//! (`service "api"`), which are lists and which are scalars.
//!
//! A map is keyed or a dictionary as its field declares it (`"x-envc-merge": "keyed"` or
//! `"dictionary"`, which every map field of the model carries: a test holds them to it; or
//! `"free"`, whose nodes take the form their syntax gives, for CloudFormation properties); the
//! rest follows from the schema's types. A project kind's schema may declare its maps the
//! same way; one that does not has them inferred (a map of objects is keyed).

use std::collections::BTreeMap;

use serde_json::Value;

/// The schema keyword a map field declares its merge shape with.
pub const MERGE: &str = "x-envc-merge";

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Scalar,
    List,
    /// A table with known fields.
    Record(BTreeMap<String, Shape>),
    /// A table keyed by the node's first argument, like `service "api" { … }`.
    Keyed(Box<Shape>),
    /// A table of free-form keys with scalar values, like `tags { team "api" }`.
    Dictionary,
    /// Not described by the schema (an unknown key): inferred from the syntax.
    Unknown,
}

impl Shape {
    /// Reads the shape of a schemars-generated schema.
    pub fn from_schema(schema: &Value) -> Shape {
        let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
        shape_of(schema, &defs, 0, &[])
    }

    /// The shape of field `name` of a record; `Unknown` for anything else.
    pub fn field(&self, name: &str) -> &Shape {
        match self {
            Shape::Record(fields) => fields.get(name).unwrap_or(&Shape::Unknown),
            _ => &Shape::Unknown,
        }
    }

    /// The shape of a child node or property: a field of a record, a scalar of a dictionary.
    pub fn child(&self, name: &str) -> &Shape {
        match self {
            Shape::Dictionary => &Shape::Scalar,
            _ => self.field(name),
        }
    }

    /// The field names of a record, for did-you-mean.
    pub fn field_names(&self) -> Vec<&str> {
        match self {
            Shape::Record(fields) => fields.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// A record with `extra` fields besides its own (the settings blocks of project kinds).
    pub fn with_fields(&self, extra: impl IntoIterator<Item = (String, Shape)>) -> Shape {
        let mut fields = match self {
            Shape::Record(fields) => fields.clone(),
            _ => BTreeMap::new(),
        };
        fields.extend(extra);
        Shape::Record(fields)
    }

    /// `value` as templates see it: field names in snake_case (`nat_gateways`), user keys
    /// (`service "api"`, tag and variable names) as written.
    pub fn snake_keys(&self, value: &Value) -> Value {
        match (value, self) {
            (Value::Object(map), Shape::Record(_)) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.replace('-', "_"), self.field(k).snake_keys(v)))
                    .collect(),
            ),
            (Value::Object(map), Shape::Keyed(inner)) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), inner.snake_keys(v)))
                    .collect(),
            ),
            _ => value.clone(),
        }
    }

    pub fn is_table(&self) -> bool {
        matches!(self, Shape::Record(_) | Shape::Dictionary)
    }
}

/// `refs` are the `$ref`s followed on the way here: one followed again is a schema inside
/// itself, whose shape is not read again (a project kind's is refused when loaded, and this
/// keeps the walk finite whatever it is given).
fn shape_of<'s>(schema: &'s Value, defs: &'s Value, depth: usize, refs: &[&'s str]) -> Shape {
    if depth > 32 {
        return Shape::Unknown;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        if refs.contains(&reference) {
            return Shape::Unknown;
        }
        let refs = &[refs, &[reference]].concat();
        let name = reference.trim_start_matches("#/$defs/");
        return defs
            .get(name)
            .map(|d| shape_of(d, defs, depth + 1, refs))
            .unwrap_or(Shape::Unknown);
    }
    // A value or another stack's output (`x-envc-output`): written as a value, or as
    // `output="…"` alone.
    if schema.get(MERGE).and_then(Value::as_str) == Some("value") {
        return Shape::Scalar;
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(options) = schema.get(combinator).and_then(Value::as_array) {
            // `Option<T>` is `anyOf: [T, null]`: the shape is T's.
            return options
                .iter()
                .map(|o| shape_of(o, defs, depth + 1, refs))
                .find(|s| *s != Shape::Scalar)
                .unwrap_or(Shape::Scalar);
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"array") {
        return Shape::List;
    }
    if types.contains(&"object") {
        match schema.get(MERGE).and_then(Value::as_str) {
            Some("keyed") => {
                let inner = schema.get("additionalProperties").unwrap_or(&Value::Null);
                return Shape::Keyed(Box::new(shape_of(inner, defs, depth + 1, refs)));
            }
            Some("dictionary") => return Shape::Dictionary,
            // Free-form tables (CloudFormation properties): the syntax decides.
            Some("free") => return Shape::Unknown,
            _ => {}
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            return Shape::Record(
                properties
                    .iter()
                    .map(|(k, v)| (k.clone(), shape_of(v, defs, depth + 1, refs)))
                    .collect(),
            );
        }
        return match schema.get("additionalProperties") {
            Some(value @ Value::Object(_)) => match shape_of(value, defs, depth + 1, refs) {
                Shape::Scalar => Shape::Dictionary,
                inner => Shape::Keyed(Box::new(inner)),
            },
            _ => Shape::Dictionary,
        };
    }
    Shape::Scalar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_shape_knows_keyed_lists_and_scalars() {
        let shape = Shape::from_schema(crate::model::env_schema());
        assert_eq!(*shape.field("account"), Shape::Scalar);
        assert_eq!(*shape.field("tags"), Shape::Dictionary);
        assert!(matches!(shape.field("network"), Shape::Record(_)));
        assert_eq!(*shape.field("network").field("endpoints"), Shape::List);
        let Shape::Keyed(service) = shape.field("service") else {
            panic!("service should be keyed: {:?}", shape.field("service"));
        };
        assert!(matches!(service.field("scaling"), Shape::Record(_)));
        assert!(matches!(service.field("secret"), Shape::Keyed(_)));
        assert_eq!(*shape.field("nonsense"), Shape::Unknown);
    }

    /// Every map of the model says how it merges; none is left to inference.
    #[test]
    fn every_map_of_the_model_declares_its_merge_shape() {
        fn walk(schema: &Value, path: &str, undeclared: &mut Vec<String>) {
            match schema {
                Value::Object(map) => {
                    if map
                        .get("additionalProperties")
                        .is_some_and(Value::is_object)
                        && !map.contains_key(MERGE)
                    {
                        undeclared.push(path.to_string());
                    }
                    for (key, value) in map {
                        walk(value, &format!("{path}/{key}"), undeclared);
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, path, undeclared)),
                _ => {}
            }
        }
        let mut undeclared = Vec::new();
        walk(crate::model::env_schema(), "env", &mut undeclared);
        walk(crate::model::stacks_schema(), "stacks", &mut undeclared);
        assert!(undeclared.is_empty(), "{undeclared:?}");
    }

    /// A definition inside itself has the shape of its first level; a `$ref` cycle none.
    #[test]
    fn a_schema_inside_itself_has_a_finite_shape() {
        let schema = serde_json::json!({
            "$defs": {
                "a": { "$ref": "#/$defs/b" },
                "b": { "$ref": "#/$defs/a" },
                "node": { "type": "object", "properties": {
                    "left": { "$ref": "#/$defs/node" }, "right": { "$ref": "#/$defs/node" } } }
            },
            "type": "object",
            "properties": { "x": { "$ref": "#/$defs/a" }, "tree": { "$ref": "#/$defs/node" } }
        });
        let shape = Shape::from_schema(&schema);
        assert_eq!(*shape.field("x"), Shape::Unknown);
        assert!(matches!(shape.field("tree"), Shape::Record(_)));
        assert_eq!(*shape.field("tree").field("left"), Shape::Unknown);
    }
}

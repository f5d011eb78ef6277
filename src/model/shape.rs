//! The shape of the model, read off its JSON Schema: which nodes are tables, which are keyed
//! (`service "api"`), which are lists and which are scalars.

use std::collections::BTreeMap;

use serde_json::Value;

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
        shape_of(schema, &defs, 0)
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

fn shape_of(schema: &Value, defs: &Value, depth: usize) -> Shape {
    if depth > 32 {
        return Shape::Unknown;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        return defs
            .get(name)
            .map(|d| shape_of(d, defs, depth + 1))
            .unwrap_or(Shape::Unknown);
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(options) = schema.get(combinator).and_then(Value::as_array) {
            // `Option<T>` is `anyOf: [T, null]`: the shape is T's.
            return options
                .iter()
                .map(|o| shape_of(o, defs, depth + 1))
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
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            return Shape::Record(
                properties
                    .iter()
                    .map(|(k, v)| (k.clone(), shape_of(v, defs, depth + 1)))
                    .collect(),
            );
        }
        return match schema.get("additionalProperties") {
            Some(value @ Value::Object(_)) => match shape_of(value, defs, depth + 1) {
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
        let shape = Shape::from_schema(&crate::model::env_schema());
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
}

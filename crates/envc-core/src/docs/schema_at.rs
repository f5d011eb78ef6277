//! One place of an environment schema, as an editor or `explain` asks about it: one step at
//! a time down a path of settings, each step finite (`$ref` chains are followed a bounded
//! number of times), so a schema that refers to itself cannot hold a walk.

use serde_json::Value;

use super::{allowed, description, is_empty, kdl_value, resolve, type_name};

/// One place of the environment schema, as an editor asks about it: a block or a setting,
/// with what the reference says of it.
#[derive(Clone, Copy)]
pub struct SchemaAt<'s> {
    /// The schema as the parent declares it (its description may be only here).
    raw: &'s Value,
    /// With `$ref` followed and `Option` unwrapped.
    resolved: &'s Value,
    defs: &'s Value,
}

impl<'s> SchemaAt<'s> {
    /// The root of an environment schema.
    pub fn root(env_schema: &'s Value) -> Self {
        let defs = &env_schema["$defs"];
        SchemaAt {
            raw: env_schema,
            resolved: resolve(env_schema, defs),
            defs,
        }
    }

    fn at(&self, raw: &'s Value) -> Self {
        SchemaAt {
            raw,
            resolved: resolve(raw, self.defs),
            defs: self.defs,
        }
    }

    /// The schema at a dotted path of values (`service.api.scaling.max`): keyed blocks take
    /// their key as a step.
    pub fn path(self, path: &[&str]) -> Option<Self> {
        path.iter().try_fold(self, |at, step| at.child(step))
    }

    /// One step down: a key of this block, or the key of a keyed block or dictionary.
    pub fn child(self, name: &str) -> Option<Self> {
        if let Some(property) = self.resolved["properties"].get(name) {
            return Some(self.at(property));
        }
        let additional = &self.resolved["additionalProperties"];
        additional.is_object().then(|| self.at(additional))
    }

    /// A keyed block (`service "api" { … }`): its entries are blocks named by their key.
    pub fn is_keyed(&self) -> bool {
        self.resolved["properties"].is_null()
            && resolve(&self.resolved["additionalProperties"], self.defs)["properties"].is_object()
    }

    /// The keys this block takes, with their schemas.
    pub fn keys(&self) -> Vec<(&'s str, Self)> {
        self.resolved["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, raw)| (name.as_str(), self.at(raw)))
            .collect()
    }

    /// Whether this is a block of settings rather than a value.
    pub fn is_block(&self) -> bool {
        self.resolved["properties"].is_object() || self.is_keyed()
    }

    pub fn description(&self) -> Option<&'s str> {
        description(self.raw).or_else(|| description(self.resolved))
    }

    pub fn type_name(&self) -> String {
        type_name(self.resolved, self.defs)
    }

    /// The default as KDL, when the schema gives one.
    pub fn default(&self) -> Option<String> {
        self.resolved
            .get("default")
            .or_else(|| self.raw.get("default"))
            .filter(|d| !is_empty(d))
            .map(kdl_value)
    }

    /// Allowed values and ranges in words (`—` when anything of its type goes).
    pub fn allowed(&self) -> String {
        allowed(self.resolved, self.defs)
    }

    /// The values it can take, as KDL, when they are a fixed set (`#true #false` for a flag).
    pub fn choices(&self) -> Vec<String> {
        let enumerated: Vec<String> = self.resolved["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                self.resolved["oneOf"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| &o["const"]),
            )
            .filter(|v| !v.is_null())
            .map(kdl_value)
            .collect();
        let flag = match &self.resolved["type"] {
            Value::String(t) => t == "boolean",
            Value::Array(ts) => ts.iter().any(|t| t == "boolean"),
            _ => false,
        };
        if enumerated.is_empty() && flag {
            return vec!["#true".to_string(), "#false".to_string()];
        }
        enumerated
    }
}

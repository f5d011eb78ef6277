//! The typed model of environments and stacks, and the JSON Schemas generated from it.
//!
//! The model is the one source of truth: `schema/*.schema.json` is generated from it (and
//! compiled into envc from there, held to the generator by a test), and the [`Shape`] the
//! resolver merges by is read off the same schema.

pub mod cidr;
pub mod env;
pub mod shape;
pub mod stacks;
pub mod workload;

pub use cidr::{Cidr, Subnet, Tier};
pub use env::*;
pub use shape::{Shape, MERGE};
pub use stacks::*;
pub use workload::*;

use std::borrow::Cow;

/// A project kind's settings schema as the property `name` of an environment document, so
/// problems carry the block's pointers: its `$defs` (and draft-7 `definitions`) move to the
/// root, where its `#/…` references find them.
pub fn settings_block_schema(name: &str, kind_schema: &serde_json::Value) -> serde_json::Value {
    let mut inner = kind_schema.clone();
    let mut wrapper = serde_json::json!({ "type": "object" });
    if let Some(object) = inner.as_object_mut() {
        object.shift_remove("$schema");
        for key in ["$defs", "definitions"] {
            if let Some(defs) = object.shift_remove(key) {
                wrapper[key] = defs;
            }
        }
    }
    wrapper["properties"] = serde_json::json!({ name: inner });
    wrapper
}

/// A JSON Schema envc publishes, and the file it is committed as.
pub struct SchemaFile {
    pub file_name: &'static str,
    /// Pretty JSON with a final newline, so it diffs well.
    pub text: Cow<'static, str>,
}

impl SchemaFile {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_default()
    }
}

/// The schemas compiled into this envc: `schema/*.schema.json` as generated from the model
/// (a test holds them to [`generated_schema_files`]). Every run needs them before it can
/// resolve or validate anything, and reading them is quicker than generating them.
const COMPILED_IN: [(&str, &str); 2] = [
    (
        "env.schema.json",
        include_str!("../../../../schema/env.schema.json"),
    ),
    (
        "stacks.schema.json",
        include_str!("../../../../schema/stacks.schema.json"),
    ),
];

/// The environment schema, read once per process.
pub fn env_schema() -> &'static serde_json::Value {
    compiled_in_json(0)
}

/// The stacks schema, read once per process.
pub fn stacks_schema() -> &'static serde_json::Value {
    compiled_in_json(1)
}

/// `COMPILED_IN[index]` parsed, once per process.
fn compiled_in_json(index: usize) -> &'static serde_json::Value {
    static PARSED: [std::sync::OnceLock<serde_json::Value>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    PARSED[index].get_or_init(|| serde_json::from_str(COMPILED_IN[index].1).unwrap_or_default())
}

/// Every schema envc publishes, as compiled in: what a project's `schema/` must hold.
pub fn schema_files() -> Vec<SchemaFile> {
    COMPILED_IN
        .iter()
        .map(|(file_name, text)| SchemaFile {
            file_name,
            text: Cow::Borrowed(text),
        })
        .collect()
}

/// Every schema, generated from the model now: what `envc schema` writes (so a changed model
/// reaches `schema/`, and from there the next build).
pub fn generated_schema_files() -> Vec<SchemaFile> {
    let pretty = |json: serde_json::Value| {
        let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
        text.push('\n');
        Cow::Owned(text)
    };
    vec![
        SchemaFile {
            file_name: "env.schema.json",
            text: pretty(
                serde_json::to_value(schemars::schema_for!(Environment)).unwrap_or_default(),
            ),
        },
        SchemaFile {
            file_name: "stacks.schema.json",
            text: pretty(
                serde_json::to_value(schemars::schema_for!(StacksConfig)).unwrap_or_default(),
            ),
        },
    ]
}

/// `api-v2` / `DATABASE_URL` → `ApiV2` / `DatabaseUrl`, for logical ids.
pub fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn compiled_in_schemas_are_the_generated_ones() {
        let generated = super::generated_schema_files();
        for (compiled_in, generated) in super::schema_files().iter().zip(&generated) {
            assert_eq!(compiled_in.file_name, generated.file_name);
            assert!(
                compiled_in.text == generated.text,
                "schema/{} is not what the model generates: run `cargo run -- schema` and rebuild",
                generated.file_name
            );
        }
    }
}

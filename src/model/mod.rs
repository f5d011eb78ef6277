//! The typed model of environments and stacks, and the JSON Schemas generated from it.
//!
//! The model is the one source of truth: `schema/*.schema.json` is generated from it, and the
//! [`Shape`] the resolver merges by is read off the same schema.

pub mod cidr;
pub mod env;
pub mod shape;
pub mod stacks;

pub use cidr::{Cidr, Subnet, Tier};
pub use env::*;
pub use shape::Shape;
pub use stacks::*;

/// A generated JSON Schema and the file it is committed as.
pub struct SchemaFile {
    pub file_name: &'static str,
    pub json: serde_json::Value,
}

impl SchemaFile {
    /// The file's text: pretty JSON with a final newline, so it diffs well.
    pub fn text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.json).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The environment schema, generated once per process.
pub fn env_schema() -> serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            serde_json::to_value(schemars::schema_for!(Environment)).unwrap_or_default()
        })
        .clone()
}

/// The stacks schema, generated once per process.
pub fn stacks_schema() -> serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            serde_json::to_value(schemars::schema_for!(StacksConfig)).unwrap_or_default()
        })
        .clone()
}

/// Every schema envc commits under `schema/`.
pub fn schema_files() -> Vec<SchemaFile> {
    vec![
        SchemaFile {
            file_name: "env.schema.json",
            json: env_schema(),
        },
        SchemaFile {
            file_name: "stacks.schema.json",
            json: stacks_schema(),
        },
    ]
}

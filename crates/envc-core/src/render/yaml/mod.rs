//! YAML for rendered templates: a fast reader for the block YAML templates write, the tree
//! it reads into, and the canonical writer golden files are kept in.
//!
//! [`parse`] reads a template's output into a [`Yaml`] tree that mirrors the `Value`
//! `serde_yaml_ng` builds, in a fraction of the time; text outside the subset it knows
//! exactly (anchors, folded scalars, multi-line flow, …) goes to `serde_yaml_ng`, which also
//! reports every syntax error.

mod emit;
mod kept;
mod reader;
mod scalar;
mod tree;

pub use emit::to_canonical_yaml;
pub use kept::{KeptTree, ReadTree};
pub use tree::{Mapping, Yaml};

use serde_yaml_ng::Value;

/// Parses one YAML document: the fast reader when it can, `serde_yaml_ng` otherwise.
pub fn parse(text: &str) -> Result<Yaml<'_>, serde_yaml_ng::Error> {
    match reader::parse(text) {
        Some(tree) => {
            // Every test run holds the fast reader to serde_yaml_ng on every template it renders.
            debug_assert_eq!(
                serde_yaml_ng::from_str::<Value>(text).ok(),
                Some(tree.to_value()),
                "the fast YAML reader disagrees with serde_yaml_ng on:\n{text}"
            );
            Ok(tree)
        }
        None => serde_yaml_ng::from_str(text).map(Yaml::from_value),
    }
}

/// [`parse`] without holding the fast reader to `serde_yaml_ng` in debug builds: for text this
/// run has read with [`parse`] already (a rendered template's canonical body, read back by a
/// later stage).
pub fn parse_again(text: &str) -> Result<Yaml<'_>, serde_yaml_ng::Error> {
    match reader::parse(text) {
        Some(tree) => Ok(tree),
        None => serde_yaml_ng::from_str(text).map(Yaml::from_value),
    }
}

/// What the fast reader makes of `text`, as `serde_yaml_ng`'s value, or `None` where it
/// leaves the text to `serde_yaml_ng` (for the differential tests and benchmarks).
pub fn parse_fast_only(text: &str) -> Option<Value> {
    reader::parse(text).map(|tree| tree.to_value())
}

/// A `serde_yaml_ng` value (a deployed template, a report) in canonical form.
pub fn value_to_canonical_yaml(value: Value) -> String {
    to_canonical_yaml(&Yaml::from_value(value))
}

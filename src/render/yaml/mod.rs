//! YAML for rendered templates: a fast reader for the block YAML templates write, and the
//! canonical writer golden files are kept in.
//!
//! [`parse`] reads a template's output into the same [`Value`] `serde_yaml_ng` builds, in a
//! fraction of the time; text outside the subset it knows exactly (anchors, folded scalars,
//! multi-line flow, …) goes to `serde_yaml_ng`, which also reports every syntax error.

mod emit;
mod fast;

pub use emit::to_canonical_yaml;

use serde_yaml_ng::Value;

/// Parses one YAML document: the fast reader when it can, `serde_yaml_ng` otherwise.
pub fn parse(text: &str) -> Result<Value, serde_yaml_ng::Error> {
    match fast::parse(text) {
        Some(value) => {
            // Every test run holds the fast reader to serde_yaml_ng on every template it renders.
            debug_assert_eq!(
                serde_yaml_ng::from_str::<Value>(text).ok().as_ref(),
                Some(&value),
                "the fast YAML reader disagrees with serde_yaml_ng on:\n{text}"
            );
            Ok(value)
        }
        None => serde_yaml_ng::from_str(text),
    }
}

/// What the fast reader makes of `text`, or `None` where it leaves the text to
/// `serde_yaml_ng` (for the differential tests and benchmarks).
pub fn parse_fast_only(text: &str) -> Option<Value> {
    fast::parse(text)
}

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

/// Why text is not a template's YAML.
#[derive(Debug)]
pub enum ParseError {
    /// Not YAML, or more than one document.
    Syntax(serde_yaml_ng::Error),
    /// Lists or mappings written inside one another (`[[[…`) deeper than
    /// [`MAX_FLOW_NESTING`]: where the one too deep opens.
    TooDeep(usize),
    /// A key longer than [`MAX_KEY_LEN`], which the canonical writer cannot write as a key
    /// libyaml reads back (a flow mapping in the text may hold one).
    KeyTooLong,
    /// A merge key (`<<`) whose value is not a mapping or a list of mappings.
    Merge(serde_yaml_ng::Error),
    /// YAML with a key that is a list, a mapping or a tagged node (`? [a, b]: x`), which
    /// neither CloudFormation (whose templates are JSON objects, keyed by strings) nor the
    /// canonical writer can take.
    KeyNotScalar,
}

/// Parses one YAML document: the fast reader when it can, `serde_yaml_ng` otherwise.
pub fn parse(text: &str) -> Result<Yaml<'_>, ParseError> {
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
        None => {
            // libyaml takes time that grows with the square of flow nesting (500,000 `[`
            // took six minutes before it refused them): deeper than it goes, it is not read.
            if let Some(at) = flow_nesting_over(text, MAX_FLOW_NESTING) {
                return Err(ParseError::TooDeep(at));
            }
            let mut value: Value = serde_yaml_ng::from_str(text).map_err(ParseError::Syntax)?;
            // Merge keys (`<<: *defaults`) are merged, as their author meant: written out,
            // `<<` would be a property CloudFormation does not know.
            value.apply_merge().map_err(ParseError::Merge)?;
            // The fast reader reads scalar keys alone; only serde_yaml_ng's tree can have others.
            if has_key_not_scalar(&value) {
                return Err(ParseError::KeyNotScalar);
            }
            if has_key_longer_than(&value, MAX_KEY_LEN) {
                return Err(ParseError::KeyTooLong);
            }
            Ok(Yaml::from_value(value))
        }
    }
}

/// The deepest flow nesting (`[` and `{`) read: libyaml's own recursion limit.
pub const MAX_FLOW_NESTING: usize = 128;

/// Where `text` opens a flow collection inside `limit` others, counting brackets outside
/// quoted scalars and comments.
fn flow_nesting_over(text: &str, limit: usize) -> Option<usize> {
    let (mut depth, mut quote, mut comment, mut previous) = (0usize, None, false, b'\n');
    let mut bytes = text.bytes().enumerate();
    while let Some((at, b)) = bytes.next() {
        match (quote, b) {
            (_, b'\n') if comment => comment = false,
            _ if comment => {}
            (Some(b'"'), b'\\') => {
                bytes.next();
            }
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') if previous.is_ascii_whitespace() => comment = true,
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > limit {
                    return Some(at);
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = b;
    }
    None
}

/// The longest key a golden file holds: libyaml reads no longer implicit key (its "simple
/// key" limit), and no CloudFormation name is near it. The fast reader leaves longer ones to
/// `serde_yaml_ng`.
pub const MAX_KEY_LEN: usize = 1024;

fn has_key_longer_than(value: &Value, limit: usize) -> bool {
    match value {
        Value::Sequence(items) => items.iter().any(|v| has_key_longer_than(v, limit)),
        Value::Mapping(map) => map.iter().any(|(key, value)| {
            key.as_str().is_some_and(|k| k.len() > limit) || has_key_longer_than(value, limit)
        }),
        Value::Tagged(tagged) => has_key_longer_than(&tagged.value, limit),
        _ => false,
    }
}

fn has_key_not_scalar(value: &Value) -> bool {
    match value {
        Value::Sequence(items) => items.iter().any(has_key_not_scalar),
        Value::Mapping(map) => map.iter().any(|(key, value)| {
            matches!(
                key,
                Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_)
            ) || has_key_not_scalar(value)
        }),
        Value::Tagged(tagged) => has_key_not_scalar(&tagged.value),
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_before_libyaml_reads_it() {
        let deep = format!("X: {}\n", "[".repeat(500_000));
        assert!(matches!(parse(&deep), Err(ParseError::TooDeep(131))));
        let quoted = format!("X: \"{}\"\nY: [[1]]\n", "[".repeat(500));
        assert!(
            parse(&quoted).is_ok(),
            "brackets in a quoted string are text"
        );
        assert_eq!(flow_nesting_over("a: [[[1]]] # [[[[\n", 3), None);
        assert_eq!(flow_nesting_over("a: [[[[1]]]]\n", 3), Some(6));
    }
}

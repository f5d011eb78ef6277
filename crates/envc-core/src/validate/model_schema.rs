//! How the model's own schemas are compiled, which envc writes and a test holds: without
//! their annotations, and with each `pattern` compiled by `regex-lite` when a value first
//! meets it. A project kind's schema is compiled as written.

use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};

use crate::pattern::Pattern;

/// Keywords that only annotate: a validator reads and ignores them.
pub(super) const ANNOTATIONS: [&str; 5] =
    ["description", "title", "default", "examples", "$comment"];

/// The model's own `schema` without its annotations, for compiling: a fifth of its keywords
/// are descriptions, which the validator would read only to ignore. Copied from the schema
/// the process read once (copying only what is kept costs less than a clone).
pub(super) fn without_annotations(schema: &Value) -> Value {
    let Value::Object(keywords) = schema else {
        return schema.clone();
    };
    let kept = keywords
        .iter()
        .filter(|(keyword, _)| !ANNOTATIONS.contains(&keyword.as_str()))
        .map(|(keyword, value)| (keyword.clone(), keyword_without_annotations(keyword, value)));
    Value::Object(kept.collect())
}

/// The value of `keyword` with the annotations taken out of the schemas it holds.
fn keyword_without_annotations(keyword: &str, value: &Value) -> Value {
    match (keyword, value) {
        ("properties" | "patternProperties" | "$defs" | "definitions", Value::Object(named)) => {
            let named = named.iter();
            Value::Object(
                named
                    .map(|(name, s)| (name.clone(), without_annotations(s)))
                    .collect(),
            )
        }
        ("allOf" | "anyOf" | "oneOf" | "items", Value::Array(schemas)) => {
            Value::Array(schemas.iter().map(without_annotations).collect())
        }
        (
            "items"
            | "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "propertyNames"
            | "contains",
            inner,
        ) => without_annotations(inner),
        _ => value.clone(),
    }
}

/// `pattern`, for the model's schemas. jsonschema compiles every pattern of a schema with
/// `fancy-regex` when it compiles the schema: 19 patterns, 3.5 M instructions of a fresh
/// `check` of the root project, for settings most projects leave out. Here a pattern is a
/// [`Pattern`]: one class repeated is matched without a regex, and any other is compiled
/// by `regex-lite` (which builds one in a fraction of that) the first time a string reaches
/// it. The model's patterns are ASCII classes, anchors and groups, which read alike in both;
/// a test compiles each one.
pub(super) fn pattern_keyword<'a>(
    _parent: &'a Map<String, Value>,
    pattern: &'a Value,
    _location: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let source = pattern
        .as_str()
        .ok_or_else(|| ValidationError::custom("`pattern` must be a string"))?;
    Ok(Box::new(PatternKeyword(Pattern::new(source))))
}

struct PatternKeyword(Pattern);

impl<'i> Keyword<'i> for PatternKeyword {
    /// A refused string's error carries the pattern as its message, as
    /// `ValidationErrorKind::Pattern` carries it (see `schema::value_problem`).
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(self.0.as_str()))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|text| self.0.is_match(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(schema: &Value, found: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("pattern", Value::String(pattern)) => found.push(pattern.clone()),
                        ("properties" | "$defs", Value::Object(named)) => {
                            named.values().for_each(|s| patterns(s, found))
                        }
                        ("enum" | "const" | "default" | "examples", _) => {}
                        _ => patterns(value, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|s| patterns(s, found)),
            _ => {}
        }
    }

    /// Each pattern of the model compiles with `regex-lite`, and it and [`Pattern`] mean what
    /// `regex` (which `fancy-regex`, jsonschema's engine, hands such patterns to) makes of
    /// it: all accept and refuse the same strings of a sample made of the pattern's own
    /// characters.
    #[test]
    fn every_pattern_of_the_model_reads_alike_in_regex_lite() {
        let mut found = Vec::new();
        for file in crate::model::schema_files() {
            patterns(&file.json(), &mut found);
        }
        assert!(found.len() > 10, "the model has patterns: {found:?}");
        for pattern in &found {
            let lite = regex_lite::Regex::new(pattern).expect(pattern);
            let ours = Pattern::new(pattern);
            let full = regex::Regex::new(pattern).expect(pattern);
            for sample in samples(pattern) {
                let expected = full.is_match(&sample);
                assert_eq!(lite.is_match(&sample), expected, "{pattern} on {sample:?}");
                assert_eq!(ours.is_match(&sample), expected, "{pattern} on {sample:?}");
            }
        }
    }

    /// Strings to try a pattern on: its literal characters, runs of each, and strings that
    /// should fail (empty, a space, non-ASCII, a slash at the end).
    fn samples(pattern: &str) -> Vec<String> {
        let letters: Vec<char> = pattern
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let mut samples = vec![
            String::new(),
            " ".into(),
            "é".into(),
            "a/".into(),
            "abc-DEF_1.2".into(),
            "123456789012".into(),
            "vpc-0123abcd".into(),
            "Z123ABC".into(),
        ];
        for length in [1, 8, 64, 200] {
            samples.push(letters.iter().cycle().take(length).collect());
        }
        samples
    }

    #[test]
    fn a_refused_string_names_its_pattern() {
        let schema = serde_json::json!({"type": "string", "pattern": "^[a-z]+$"});
        let validator = jsonschema::options()
            .with_keyword("pattern", pattern_keyword)
            .build(&schema)
            .unwrap();
        assert!(validator.is_valid(&serde_json::json!("abc")));
        let refused = serde_json::json!("Abc");
        assert!(!validator.is_valid(&refused));
        let error = validator.validate(&refused).unwrap_err();
        match error.kind() {
            jsonschema::error::ValidationErrorKind::Custom { keyword, message } => {
                assert_eq!(
                    (keyword.as_str(), message.as_str()),
                    ("pattern", "^[a-z]+$")
                )
            }
            other => panic!("{other:?}"),
        }
    }
}

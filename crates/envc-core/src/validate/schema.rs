//! JSON Schema validation of merged environments, with each error mapped back to the span of
//! the value (or key) in the file that set it.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::Validator;

use super::model_schema;
use super::value_problems::{not_allowed, value_problem, value_text};
use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::Shape;
use crate::resolve::path::pointer_token;
use crate::resolve::{KeyPath, Located, SpanIndex};
use crate::source::Span;

/// Schema problems, each with the located value it is about.
pub type Problems = Vec<(Option<Located>, Diagnostic)>;

/// Where a schema's shape comes from: the model's (shared by every run), or its own.
pub enum ShapeOf {
    Shared(fn() -> &'static Shape),
    Own(Box<Shape>),
}

/// A schema (compiled when first used) and the shape of the model it describes.
pub struct CompiledSchema {
    schema: serde_json::Value,
    /// Whether this is one of the model's own schemas (see [`super::model_schema`]).
    of_the_model: bool,
    /// The draft it is compiled as: 7 for the model's (see [`CompiledSchema::new`]), the one
    /// a project kind names for its own.
    draft: jsonschema::Draft,
    validator: std::sync::OnceLock<Validator>,
    /// The shape, looked up when a problem needs it (so compiling waits for nothing else).
    shape: ShapeOf,
    /// What the document is called in messages: "environment", "stacks.kdl".
    pub noun: &'static str,
}

impl CompiledSchema {
    /// `schema` is published as draft 2020-12 but compiled as draft 7: jsonschema checks a
    /// schema against its draft's meta-schema before compiling it, and draft 7's takes a
    /// fraction of the time (a fresh `envc check` of the root example: 2.5 M fewer
    /// instructions, about 7% faster). For the keywords envc's schemas use (a test lists
    /// them and holds the schemas to the list) the two drafts validate alike; formats are
    /// annotations in both, as 2020-12 has them.
    pub fn new(mut schema: serde_json::Value, shape: ShapeOf, noun: &'static str) -> Self {
        if let Some(keywords) = schema.as_object_mut() {
            keywords.remove("$schema");
        }
        CompiledSchema {
            schema,
            of_the_model: false,
            draft: jsonschema::Draft::Draft7,
            validator: std::sync::OnceLock::new(),
            shape,
            noun,
        }
    }

    /// A project kind's schema, compiled as the draft it names (`$schema`; 2020-12, the
    /// draft `envc new-kind` writes, when it names none): its author may use what draft 7
    /// lacks (`dependentRequired`, `prefixItems`, keywords beside a `$ref`).
    pub fn of_a_kind(
        schema: serde_json::Value,
        declared: &serde_json::Value,
        shape: ShapeOf,
        noun: &'static str,
    ) -> Self {
        CompiledSchema {
            draft: crate::parse::declared_draft(declared),
            ..CompiledSchema::new(schema, shape, noun)
        }
    }

    /// One of the model's own schemas: compiled without its annotations, each `pattern` when
    /// a value first meets it (see [`super::model_schema`]).
    pub fn of_the_model(schema: &serde_json::Value, shape: ShapeOf, noun: &'static str) -> Self {
        CompiledSchema {
            of_the_model: true,
            ..CompiledSchema::new(model_schema::without_annotations(schema), shape, noun)
        }
    }

    /// The compiled validator; a run whose documents all validated before (see
    /// [`super::validate_project`]) never compiles it.
    fn validator(&self) -> &Validator {
        self.validator.get_or_init(|| {
            let options = jsonschema::options()
                .with_draft(self.draft)
                .should_validate_formats(false);
            let options = if self.of_the_model {
                options.with_keyword("pattern", model_schema::pattern_keyword)
            } else {
                options
            };
            options
                .build(&self.schema)
                .unwrap_or_else(|e| panic!("the generated {} schema is invalid: {e}", self.noun))
        })
    }

    /// Compiles the validator now (on another core, while files are parsed) rather than
    /// when the first document needs it.
    pub fn prepare(&self) {
        self.validator();
    }

    pub fn shape(&self) -> &Shape {
        match &self.shape {
            ShapeOf::Shared(shape) => shape(),
            ShapeOf::Own(shape) => shape,
        }
    }

    /// Validates `json`; `root` is where a problem with the document as a whole is shown.
    pub fn validate(
        &self,
        json: &serde_json::Value,
        spans: &SpanIndex,
        root: Span,
        skip: &dyn Fn(&str) -> bool,
    ) -> Vec<(Option<Located>, Diagnostic)> {
        self.validate_as(json, spans, root, skip, self.shape())
    }

    /// [`Self::validate`], with `shape` for did-you-mean (the model's with the project's
    /// settings blocks, whose keys this schema does not have).
    pub fn validate_as(
        &self,
        json: &serde_json::Value,
        spans: &SpanIndex,
        root: Span,
        skip: &dyn Fn(&str) -> bool,
        shape: &Shape,
    ) -> Vec<(Option<Located>, Diagnostic)> {
        let mut found = Vec::new();
        // Most documents are valid, and asking that stops at no branch's errors.
        if self.validator().is_valid(json) {
            return found;
        }
        for error in self.validator().iter_errors(json) {
            self.describe(&error, spans, root, skip, shape, &mut found);
        }
        found
    }

    /// `json` without the keys the schema does not know (each already reported), so the
    /// rest can still make a typed model and the rules can run on it; and the pointers of
    /// the blocks they were taken from.
    pub fn without_unknown_keys(
        &self,
        json: &serde_json::Value,
    ) -> (serde_json::Value, Vec<String>) {
        let mut unknown: Vec<(String, String)> = Vec::new();
        for error in self.validator().iter_errors(json) {
            collect_unknown_keys(&error, &mut unknown);
        }
        let mut pruned = json.clone();
        let mut blocks = Vec::new();
        for (pointer, key) in unknown {
            if let Some(serde_json::Value::Object(map)) = pruned.pointer_mut(&pointer) {
                map.shift_remove(&key);
                blocks.push(pointer);
            }
        }
        (pruned, blocks)
    }

    /// One schema error as diagnostics at the spans that set the values. An error of
    /// `anyOf`/`oneOf` (an optional block, a union like the database engines) is described
    /// by the alternative the value came closest to, so the user reads the one setting that
    /// is wrong, at its line, instead of the whole block.
    fn describe(
        &self,
        error: &jsonschema::ValidationError<'_>,
        spans: &SpanIndex,
        root: Span,
        skip: &dyn Fn(&str) -> bool,
        shape: &Shape,
        found: &mut Vec<(Option<Located>, Diagnostic)>,
    ) {
        let pointer = error.instance_path().as_str().to_string();
        if skip(&pointer) {
            return;
        }
        if let ValidationErrorKind::AnyOf { context }
        | ValidationErrorKind::OneOfNotValid { context } = error.kind()
        {
            if let Some(closest) = closest_alternative(context, &pointer) {
                for inner in closest {
                    match inner.kind() {
                        // A tag that picks the alternative (`engine`): every alternative's
                        // value is allowed there.
                        ValidationErrorKind::Constant { .. } => {
                            let at = inner.instance_path().as_str();
                            let options = constants_at(context, at);
                            found.push(not_allowed(inner, &options, spans, root, self.noun));
                        }
                        _ => self.describe(inner, spans, root, skip, shape, found),
                    }
                }
                return;
            }
        }
        let name = display_name(&pointer, self.noun);
        let located = spans.nearest(&pointer).cloned();
        let value_span = located.as_ref().map(|l| l.value).unwrap_or(root);
        let diagnostic = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let keys = unknown_keys(unexpected, &pointer, &name, value_span, spans, shape);
                found.extend(keys);
                return;
            }
            ValidationErrorKind::Required { property } => {
                let property = property.as_str().unwrap_or_default();
                let span = if pointer.is_empty() {
                    root
                } else {
                    located.as_ref().map(|l| l.key).unwrap_or(root)
                };
                Diagnostic::error(Code::MissingKey, format!("{name} is missing `{property}`"))
                    .at(span, format!("`{property}` is required here"))
                    .help(required_help(property))
            }
            ValidationErrorKind::Type { kind } => wrong_type(error, kind, &name, value_span),
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(value_text).collect())
                    .unwrap_or_default();
                found.push(not_allowed(error, &options, spans, root, self.noun));
                return;
            }
            ValidationErrorKind::Constant { expected_value } => {
                let options: Vec<String> = expected_value
                    .as_str()
                    .map(String::from)
                    .into_iter()
                    .collect();
                found.push(not_allowed(error, &options, spans, root, self.noun));
                return;
            }
            _ => value_problem(error, &pointer, &name, value_span),
        };
        found.push((located, diagnostic));
    }
}

/// An unknown key of each of `unexpected` in the object at `pointer`, with did-you-mean
/// from the keys its shape has.
fn unknown_keys(
    unexpected: &[String],
    pointer: &str,
    name: &str,
    value_span: Span,
    spans: &SpanIndex,
    shape: &Shape,
) -> Problems {
    let mut found = Vec::new();
    for key in unexpected {
        let child = format!("{pointer}/{}", pointer_token(key));
        let at = spans.get(&child).cloned();
        let span = at.as_ref().map(|l| l.key).unwrap_or(value_span);
        let fields = shape_at(shape, pointer).field_names();
        let (help, suggestion) = suggestion(key, fields.iter().copied(), || {
            format!("{} takes: {}", name, fields.join(", "))
        });
        found.push((
            at,
            Diagnostic::error(Code::UnknownKey, format!("unknown key `{key}` in {name}"))
                .at(span, "unknown key")
                .help(help)
                .suggest(suggestion),
        ));
    }
    found
}

/// A value of the wrong JSON type.
fn wrong_type(
    error: &jsonschema::ValidationError<'_>,
    kind: &TypeKind,
    name: &str,
    value_span: Span,
) -> Diagnostic {
    let expected = match kind {
        TypeKind::Single(t) => type_name(&t.to_string()),
        TypeKind::Multiple(ts) => ts
            .iter()
            .map(|t| type_name(&t.to_string()))
            .collect::<Vec<_>>()
            .join(" or "),
    };
    Diagnostic::error(
        Code::WrongType,
        format!(
            "{name} must be {expected}, not {}",
            json_type(error.instance())
        ),
    )
    .at(value_span, format!("expected {expected}"))
    .help(type_help(&expected))
}

/// The (object pointer, key) of every unknown key an error reports, looking into the
/// alternative an `anyOf`/`oneOf` value came closest to, as [`CompiledSchema::describe`]
/// does.
fn collect_unknown_keys(error: &jsonschema::ValidationError<'_>, out: &mut Vec<(String, String)>) {
    let pointer = error.instance_path().as_str();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            out.extend(
                unexpected
                    .iter()
                    .map(|key| (pointer.to_string(), key.clone())),
            );
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            for inner in closest_alternative(context, pointer).unwrap_or_default() {
                collect_unknown_keys(inner, out);
            }
        }
        _ => {}
    }
}

/// The constants that alternatives expect at `pointer`, in their order.
fn constants_at(
    alternatives: &[Vec<jsonschema::ValidationError<'static>>],
    pointer: &str,
) -> Vec<String> {
    let mut options: Vec<String> = Vec::new();
    for error in alternatives.iter().flatten() {
        if let ValidationErrorKind::Constant { expected_value } = error.kind() {
            if let Some(option) = expected_value.as_str() {
                if error.instance_path().as_str() == pointer && !options.iter().any(|o| o == option)
                {
                    options.push(option.to_string());
                }
            }
        }
    }
    options
}

/// Of the alternatives an `anyOf`/`oneOf` value failed, the one it came closest to: one
/// whose type it has (not `null` for an optional block), then the fewest problems at the
/// value itself (a missing key, a key only another alternative has), then the fewest
/// problems. `None` when the value has the type of no alternative: the value as a whole is
/// wrong.
fn closest_alternative<'e>(
    alternatives: &'e [Vec<jsonschema::ValidationError<'static>>],
    pointer: &str,
) -> Option<&'e [jsonschema::ValidationError<'static>]> {
    let at_value = |errors: &[jsonschema::ValidationError<'_>], types_only: bool| {
        errors
            .iter()
            .filter(|e| e.instance_path().as_str() == pointer)
            .filter(|e| !types_only || matches!(e.kind(), ValidationErrorKind::Type { .. }))
            .count()
    };
    alternatives
        .iter()
        .filter(|errors| !errors.is_empty() && at_value(errors, true) == 0)
        .min_by_key(|errors| (at_value(errors, false), errors.len()))
        .map(Vec::as_slice)
}

/// `/service/api/scaling/max` → "`service.api.scaling.max`".
pub(super) fn display_name(pointer: &str, noun: &str) -> String {
    match KeyPath::from_pointer(pointer) {
        Some(path) if !path.is_empty() => format!("`{path}`"),
        _ => format!("the {noun}"),
    }
}

/// The shape at a JSON pointer, following keyed tables through their keys.
fn shape_at<'s>(shape: &'s Shape, pointer: &str) -> &'s Shape {
    let mut current = shape;
    let path = KeyPath::from_pointer(pointer).unwrap_or_default();
    let mut parts = path.iter();
    while let Some(part) = parts.next() {
        current = current.child(part);
        if let Shape::Keyed(inner) = current {
            if parts.next().is_none() {
                return current;
            }
            current = inner;
        }
    }
    current
}

fn type_name(schema_type: &str) -> String {
    match schema_type {
        "integer" => "a whole number".to_string(),
        "number" => "a number".to_string(),
        "string" => "a string".to_string(),
        "boolean" => "#true or #false".to_string(),
        "object" => "a block".to_string(),
        "array" => "a list".to_string(),
        "null" => "absent".to_string(),
        other => other.to_string(),
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "#null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(n) if n.is_f64() => "a decimal number",
        serde_json::Value::Number(n) if n.as_i64().is_some_and(|i| i < 0) => "a negative number",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a block",
    }
}

fn type_help(expected: &str) -> String {
    match expected {
        "a string" => "quote the value: `\"…\"`".to_string(),
        "a whole number" => "write a number without quotes, like `512`".to_string(),
        "#true or #false" => "KDL v2 booleans are `#true` and `#false`".to_string(),
        other => format!("write {other} here"),
    }
}

fn required_help(property: &str) -> String {
    match property {
        "account" => "add `account \"123456789012\"` to this environment or one it extends".to_string(),
        "network" => "add `network { cidr \"10.0.0.0/16\" }` (a new VPC) or `network { vpc-id \"vpc-…\" }` (an existing one)".to_string(),
        "project" => "add `project \"<name>\"` to stacks.kdl".to_string(),
        other => format!("add `{other}` here, or to an environment this one extends"),
    }
}

#[cfg(test)]
mod tests {
    use super::model_schema::{without_annotations, ANNOTATIONS};
    use super::*;

    /// The keywords envc's generated schemas may use: each means the same in draft 7 as in
    /// draft 2020-12 (a test holds the schemas to this list, with no keyword beside a `$ref`).
    const KEYWORDS_ALIKE_IN_DRAFT7: &[&str] = &[
        // envc's own annotation (how a map merges): no validator of either draft reads it.
        "x-envc-merge",
        "$defs",
        "$ref",
        "$schema",
        "additionalProperties",
        "allOf",
        "anyOf",
        "const",
        "default",
        "description",
        "enum",
        "format",
        "items",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "not",
        "oneOf",
        "pattern",
        "patternProperties",
        "properties",
        "required",
        "title",
        "type",
        "uniqueItems",
    ];

    /// Every keyword in `schema` (not the names under `properties`, `$defs` and
    /// `patternProperties`), and whether any stands beside a `$ref`.
    fn keywords(schema: &serde_json::Value, found: &mut Vec<String>, beside_ref: &mut bool) {
        match schema {
            serde_json::Value::Object(map) => {
                *beside_ref |= map.contains_key("$ref") && map.len() > 1;
                for (key, value) in map {
                    found.push(key.clone());
                    match (key.as_str(), value) {
                        (
                            "properties" | "$defs" | "patternProperties",
                            serde_json::Value::Object(named),
                        ) => {
                            for schema in named.values() {
                                keywords(schema, found, beside_ref);
                            }
                        }
                        ("enum" | "const" | "default" | "required", _) => {}
                        // A list of item schemas is a tuple in draft 7, an error in 2020-12.
                        ("items", serde_json::Value::Array(_)) => {
                            found.push("items (a list)".into())
                        }
                        _ => keywords(value, found, beside_ref),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    keywords(item, found, beside_ref);
                }
            }
            _ => {}
        }
    }

    /// What is compiled is the model's schema less its annotations, wherever they are.
    #[test]
    fn leaving_out_annotations_leaves_every_other_keyword() {
        for file in crate::model::schema_files() {
            let (mut all, mut compiled, mut beside_ref) = (Vec::new(), Vec::new(), false);
            keywords(&file.json(), &mut all, &mut beside_ref);
            keywords(
                &without_annotations(&file.json()),
                &mut compiled,
                &mut beside_ref,
            );
            let before = all.len();
            all.retain(|keyword| !ANNOTATIONS.contains(&keyword.as_str()));
            assert_eq!(compiled, all, "{}", file.file_name);
            if file.file_name == "env.schema.json" {
                assert!(
                    all.len() < before,
                    "the environment schema has descriptions"
                );
            }
        }
    }

    #[test]
    fn generated_schemas_mean_the_same_in_draft7() {
        for file in crate::model::schema_files() {
            let (mut found, mut beside_ref) = (Vec::new(), false);
            keywords(&file.json(), &mut found, &mut beside_ref);
            for keyword in &found {
                assert!(
                    KEYWORDS_ALIKE_IN_DRAFT7.contains(&keyword.as_str()),
                    "{} uses `{keyword}`, whose meaning in draft 7 is not checked",
                    file.file_name
                );
            }
            assert!(
                !beside_ref,
                "{} has a keyword beside a `$ref`, which draft 7 ignores",
                file.file_name
            );
        }
    }

    #[test]
    fn shape_at_follows_keyed_tables() {
        let shape = Shape::from_schema(crate::model::env_schema());
        assert!(shape_at(&shape, "/service/api/scaling")
            .field_names()
            .contains(&"max"));
        assert!(shape_at(&shape, "").field_names().contains(&"network"));
        assert_eq!(
            display_name("/service/api/cpu", "environment"),
            "`service.api.cpu`"
        );
    }
}

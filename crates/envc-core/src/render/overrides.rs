//! An environment's `override` blocks: properties of rendered resources set or removed, per
//! stack and resource, after the template has rendered. Each is checked against the resource
//! type's CloudFormation schema (its properties and their JSON types, `data/aws-properties.json`,
//! written by `scripts/aws-rules.py` from the provider schemas cfn-lint ships): an unknown
//! resource or property gets did-you-mean, a value of the wrong type is refused, so is one
//! outside the values, range or length the schema gives the property
//! (`data/aws-property-limits.json`, from the same schemas), and each is placed at the line of
//! the env file that set it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::yaml::{self, Yaml};
use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::resolve::path::pointer;
use crate::source::Span;
use crate::validate::ValidEnv;

#[derive(serde::Deserialize)]
struct Data {
    /// Resource type → property → JSON type (`string`, `integer`, …, `any`).
    types: BTreeMap<String, BTreeMap<String, String>>,
}

static PROPERTIES: LazyLock<Data> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../../data/aws-properties.json"))
        .expect("data/aws-properties.json is valid")
});

/// What the provider schemas allow of each property under `Properties`, where they say.
#[derive(serde::Deserialize)]
struct LimitData {
    /// Resource type → property → its limits.
    types: BTreeMap<String, BTreeMap<String, Limits>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Limits {
    #[serde(rename = "enum")]
    one_of: Option<Vec<Value>>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

/// Read the first time an override sets a property (a project without overrides never does).
static LIMITS: LazyLock<LimitData> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../../data/aws-property-limits.json"))
        .expect("data/aws-property-limits.json is valid")
});

/// What is wrong with `value` as property `name` of resource type `kind`, by the limits its
/// schema gives: the problem and the help. A block, a list or an intrinsic function is not
/// looked into.
fn outside_limits(kind: &str, name: &str, value: &Value) -> Option<(String, String)> {
    let limits = LIMITS.types.get(kind)?.get(name)?;
    if let Some(allowed) = &limits.one_of {
        let same = |a: &Value| match (a, value) {
            (Value::Number(a), Value::Number(v)) => a.as_f64() == v.as_f64(),
            (a, v) => a == v,
        };
        if (value.is_string() || value.is_number()) && !allowed.iter().any(same) {
            let shown: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            return Some((
                format!("`{kind}` takes no `{name}` of {value}"),
                format!("`{name}` is one of {}", shown.join(", ")),
            ));
        }
    }
    if let Some(number) = value.as_f64() {
        let (low, high) = (limits.minimum, limits.maximum);
        if low.is_some_and(|low| number < low) || high.is_some_and(|high| number > high) {
            let range = match (low, high) {
                (Some(low), Some(high)) => format!("from {low} to {high}"),
                (Some(low), None) => format!("at least {low}"),
                (None, Some(high)) => format!("at most {high}"),
                (None, None) => unreachable!("a bound was crossed"),
            };
            return Some((
                format!("`{name}` of `{kind}` takes {range}, not {number}"),
                format!("set `{name}` {range}"),
            ));
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count();
        let (low, high) = (limits.min_length.unwrap_or(0), limits.max_length);
        if length < low || high.is_some_and(|high| length > high) {
            let most = high.map_or(String::new(), |high| format!(" and at most {high}"));
            return Some((
                format!("`{name}` of `{kind}` is {length} characters long"),
                format!("`{name}` takes at least {low}{most} characters"),
            ));
        }
    }
    None
}

/// The JSON type the CloudFormation schema of resource type `kind` gives its property `name`
/// (`integer`, `string`, …), for an editor's hover.
pub fn property_type(kind: &str, name: &str) -> Option<&'static str> {
    PROPERTIES.types.get(kind)?.get(name).map(String::as_str)
}

/// The overrides of one stack: resource logical id → property → value (`null` removes it).
pub type StackOverrides = indexmap::IndexMap<String, Map<String, Value>>;

/// `text` (one stack's rendered template) with `overrides` applied, in canonical form; the
/// problems go to `out`. `None` when the text does not read as YAML (the render's own check
/// reports that) or nothing could be applied.
pub(super) fn apply(
    text: &str,
    overrides: &StackOverrides,
    env: &ValidEnv,
    stack: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<String> {
    let mut tree = yaml::parse(text).ok()?;
    let resources = tree
        .as_mapping_mut()?
        .get_mut("Resources")?
        .as_mapping_mut()?;
    let ids: Vec<String> = resources
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    for (id, properties) in overrides {
        let at = Place { env, stack, id };
        let Some(resource) = resources.get_mut(id).and_then(Yaml::as_mapping_mut) else {
            out.push(at.unknown_resource(&ids));
            continue;
        };
        let kind = resource
            .get("Type")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_string();
        let known = PROPERTIES.types.get(&kind);
        if resource.get("Properties").is_none() {
            resource.set("Properties", Yaml::Mapping(yaml::Mapping::default()));
        }
        let Some(target) = resource
            .get_mut("Properties")
            .and_then(Yaml::as_mapping_mut)
        else {
            continue;
        };
        for (name, value) in properties {
            if let Some(known) = known {
                if let Some(problem) = at.check(&kind, known, name, value) {
                    out.push(problem);
                    continue;
                }
            }
            if value.is_null() {
                target.remove(name);
            } else {
                let value = serde_yaml_ng::to_value(value).ok()?;
                target.set(name, Yaml::from_value(value));
            }
        }
    }
    Some(yaml::to_canonical_yaml(&tree))
}

/// Where one resource's overrides were set, to place problems.
struct Place<'a> {
    env: &'a ValidEnv,
    stack: &'a str,
    id: &'a str,
}

impl Place<'_> {
    /// The key at `keys` under this resource's block, with the note that `env` inherits it.
    fn at(&self, keys: &[&str], diagnostic: Diagnostic, label: &str) -> Diagnostic {
        let path = [&["override", self.stack, self.id][..], keys].concat();
        let located = self.env.spans.nearest(&pointer(&path));
        let span = located.map_or(Span::new(self.env.file, 0, 0), |l| l.key);
        let diagnostic = diagnostic.at(span, label);
        match located {
            Some(l) if *l.env != *self.env.name => diagnostic.inherited_by(&self.env.name),
            _ => diagnostic,
        }
    }

    fn unknown_resource(&self, ids: &[String]) -> Diagnostic {
        let (help, meant) = suggestion(self.id, ids.iter().map(String::as_str), || {
            format!(
                "the resources of stack `{}` are {}",
                self.stack,
                ids.iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        self.at(
            &[],
            Diagnostic::error(
                Code::OverrideTarget,
                format!(
                    "stack `{}` of `{}` renders no resource `{}`",
                    self.stack, self.env.name, self.id
                ),
            )
            .help(help),
            "no such resource",
        )
        .suggest(meant)
    }

    /// A problem with setting `name` to `value` on a resource of `kind`, whose schema's
    /// properties are `known`.
    fn check(
        &self,
        kind: &str,
        known: &BTreeMap<String, String>,
        name: &str,
        value: &Value,
    ) -> Option<Diagnostic> {
        let Some(expected) = known.get(name) else {
            let (help, meant) = suggestion(name, known.keys().map(String::as_str), || {
                "the property names are the resource type's in CloudFormation's reference"
                    .to_string()
            });
            return Some(
                self.at(
                    &[name],
                    Diagnostic::error(
                        Code::OverrideTarget,
                        format!("`{kind}` has no property `{name}`"),
                    )
                    .help(help),
                    "not a property of this resource",
                )
                .suggest(meant),
            );
        };
        if value.is_null() {
            return None;
        }
        if fits(expected, value) {
            let (message, help) = outside_limits(kind, name, value)?;
            return Some(self.at(
                &[name],
                Diagnostic::error(Code::OverrideValue, message).help(help),
                "not a value AWS takes",
            ));
        }
        Some(
            self.at(
                &[name],
                Diagnostic::error(
                    Code::OverrideType,
                    format!(
                        "`{name}` of `{}` (`{kind}`) takes {}, not {}",
                        self.id,
                        a_json_type(expected),
                        a_json_type(json_type(value))
                    ),
                )
                .help(format!(
                    "write {} as CloudFormation reads it; `#null` removes the property",
                    a_json_type(expected)
                )),
                "wrong type",
            ),
        )
    }
}

/// Whether `value` is of the schema type `expected`. An intrinsic function (`{ Ref … }`,
/// `{ "Fn::Sub" … }`) stands for any type.
fn fits(expected: &str, value: &Value) -> bool {
    let intrinsic = value.as_object().is_some_and(|m| {
        m.len() == 1
            && m.keys()
                .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    });
    intrinsic
        || match expected {
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn a_json_type(kind: &str) -> &'static str {
    match kind {
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "`#true` or `#false`",
        "string" => "a string",
        "array" => "a list",
        "object" => "a block",
        "null" => "`#null`",
        _ => "a value",
    }
}

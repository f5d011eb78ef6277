//! Project kinds: `kinds/<name>.schema.json`, the JSON Schema of the settings an environment
//! gives a stack of that kind, beside `kinds/<name>.yaml.j2`, its template (read by the
//! renderer). Each schema is read, parsed and checked to describe a settings block; a kind
//! missing its schema or template, or named like a built-in, is a diagnostic; so is a schema
//! out of bounds ([`kind_schema`]): none of those makes a kind, so nothing walks it.

use std::path::Path;

use super::kind_schema;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::StackKind;
use crate::source::{FileId, SourceMap, Span};

/// One kind of the project's own.
#[derive(Debug, Clone)]
pub struct ProjectKind {
    pub name: String,
    /// `kinds/<name>.schema.json`, in the source map.
    pub file: FileId,
    pub schema: serde_json::Value,
    /// Its `x-envc-rules`, read.
    pub rules: Vec<super::kind_rules::KindRule>,
}

const SCHEMA_SUFFIX: &str = ".schema.json";
const TEMPLATE_SUFFIX: &str = ".yaml.j2";

/// The project's kinds, in name order, and the names of those whose files make no kind
/// (each reported into `diagnostics`, so stacks of them are not reported again).
pub fn load_kinds(
    root: &Path,
    sources: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<ProjectKind>, Vec<String>) {
    let dir = root.join("kinds");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut kinds = Vec::new();
    let mut broken = Vec::new();
    for file_name in &names {
        if let Some(name) = file_name.strip_suffix(TEMPLATE_SUFFIX) {
            if !names.contains(&format!("{name}{SCHEMA_SUFFIX}")) {
                broken.push(name.to_string());
                let relative = Path::new("kinds").join(file_name);
                let text = crate::files::read_text(root, &relative).unwrap_or_default();
                let file = sources.add(crate::files::display_path(root, &relative), text);
                diagnostics.push(
                    Diagnostic::error(
                        Code::KindDefinition,
                        format!("kind `{name}` has a template and no settings schema"),
                    )
                    .at(Span::new(file, 0, 0), "this kind's template")
                    .help(format!(
                        "add `kinds/{name}{SCHEMA_SUFFIX}`: a JSON Schema of the settings (`envc new-kind {name}` writes one)"
                    )),
                );
            }
            continue;
        }
        let Some(name) = file_name.strip_suffix(SCHEMA_SUFFIX) else {
            continue;
        };
        let relative = Path::new("kinds").join(file_name);
        let text = match crate::files::read_text(root, &relative) {
            Ok(text) => text,
            Err(problem) => {
                diagnostics.push(problem.into_diagnostic(root, &relative, Some(sources)));
                broken.push(name.to_string());
                continue;
            }
        };
        let file = sources.add(crate::files::display_path(root, &relative), text);
        match check_kind(name, file, &names, sources, diagnostics) {
            Some(kind) => kinds.push(kind),
            None => broken.push(name.to_string()),
        }
    }
    (kinds, broken)
}

fn check_kind(
    name: &str,
    file: FileId,
    names: &[String],
    sources: &SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ProjectKind> {
    let text = &sources.file(file).text;
    let whole = Span::new(file, 0, 0);
    if let Some(problem) = check_kind_name(name, whole, names) {
        diagnostics.push(problem);
        return None;
    }
    if let Some(too_large) = kind_schema::check_size(name, file, text) {
        diagnostics.push(too_large);
        return None;
    }
    let schema = match read_schema(name, file, text) {
        Ok(schema) => schema,
        Err(problem) => {
            diagnostics.push(problem);
            return None;
        }
    };
    let problems = check_schema(name, file, text, &schema);
    if !problems.is_empty() {
        diagnostics.extend(problems);
        return None;
    }
    let rules = match read_kind_rules(name, file, text, &schema) {
        Ok(rules) => rules,
        Err(problem) => {
            diagnostics.push(problem);
            return None;
        }
    };
    Some(ProjectKind {
        name: name.to_string(),
        file,
        schema,
        rules,
    })
}

/// A problem with a kind's files.
fn kind_problem(message: String, at: Span, help: &str) -> Diagnostic {
    Diagnostic::error(Code::KindDefinition, message)
        .at(at, "here")
        .help(help.to_string())
}

/// What is wrong with a kind's name, if anything: not a valid name, a built-in kind's, or
/// one without a template.
fn check_kind_name(name: &str, whole: Span, names: &[String]) -> Option<Diagnostic> {
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_name {
        return Some(kind_problem(
            format!("`{name}` is not a valid kind name"),
            whole,
            "kind names are lowercase letters, digits and `-`, starting with a letter",
        ));
    }
    if serde_json::from_value::<StackKind>(serde_json::Value::String(name.into())).is_ok() {
        return Some(kind_problem(
            format!("`{name}` is a built-in kind"),
            whole,
            "name the project's kind differently; to change the built-in, override its template in `templates/`",
        ));
    }
    if !names.contains(&format!("{name}{TEMPLATE_SUFFIX}")) {
        return Some(kind_problem(
            format!("kind `{name}` has a settings schema and no template"),
            whole,
            &format!("add `kinds/{name}{TEMPLATE_SUFFIX}`"),
        ));
    }
    None
}

/// A kind's schema read from its text, with its outputs expanded ([`expand_outputs`]).
fn read_schema(name: &str, file: FileId, text: &str) -> Result<serde_json::Value, Diagnostic> {
    let schema: serde_json::Value = match serde_json::from_str(text) {
        Ok(schema) => schema,
        Err(error) => {
            let at = offset_of(text, error.line(), error.column());
            return Err(kind_problem(
                format!("`kinds/{name}{SCHEMA_SUFFIX}` is not valid JSON: {error}"),
                Span::new(file, at, (at + 1).min(text.len())),
                "a kind's schema is a JSON Schema object",
            ));
        }
    };
    if let Some((key, why)) = annotation_problem(&schema, 0) {
        let quoted = format!("\"{key}\"");
        let at = text.find(&quoted).map_or(Span::new(file, 0, 0), |at| {
            Span::new(file, at, at + quoted.len())
        });
        return Err(kind_problem(
            format!("kind `{name}`'s schema has `{key}`, which envc does not read as written"),
            at,
            &why,
        ));
    }
    let mut schema = schema;
    // The schema becomes part of each environment's, its `$defs` with it: an `$id` of its own
    // would make its `#/$defs/…` references point into a document that no longer holds them.
    if let Some(object) = schema.as_object_mut() {
        object.shift_remove("$id");
    }
    expand_outputs(&mut schema, 0);
    // A settings block takes the settings its kind names, as a built-in's does: a key its
    // schema does not name is refused (a misspelt setting was read by no template), unless
    // the schema says which others it takes.
    close_objects(&mut schema, 0);
    Ok(schema)
}

/// Makes each object schema of `schema` that names its properties take only those, unless it
/// says what else it takes: a nested block's misspelt key (`tags { tema "b" }`) was read by
/// no template. Left alone: schemas combined with others (`allOf`, `anyOf`, `oneOf`, `$ref`,
/// `if`), where a closed part would refuse the keys another part names.
fn close_objects(schema: &mut serde_json::Value, depth: usize) {
    const COMBINING: &[&str] = &["allOf", "anyOf", "oneOf", "$ref", "if", "not"];
    const OPEN: &[&str] = &[
        "additionalProperties",
        "patternProperties",
        "unevaluatedProperties",
    ];
    // Deeper than any settings block nests; a hostile schema's depth is bounded here.
    if depth > 32 {
        return;
    }
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if COMBINING.iter().any(|k| object.contains_key(*k)) {
        return;
    }
    if object.contains_key("properties") && !OPEN.iter().any(|k| object.contains_key(*k)) {
        object.insert(
            "additionalProperties".into(),
            serde_json::Value::Bool(false),
        );
    }
    for key in ["properties", "$defs", "definitions"] {
        if let Some(children) = object.get_mut(key).and_then(|c| c.as_object_mut()) {
            for child in children.values_mut() {
                close_objects(child, depth + 1);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = object.get_mut(key) {
            close_objects(child, depth + 1);
        }
    }
    if let Some(items) = object.get_mut("prefixItems").and_then(|p| p.as_array_mut()) {
        for child in items {
            close_objects(child, depth + 1);
        }
    }
}

/// The problems of a kind's schema, the first found only: it does not describe a settings
/// block, it is out of bounds, or it does not compile.
fn check_schema(
    name: &str,
    file: FileId,
    text: &str,
    schema: &serde_json::Value,
) -> Vec<Diagnostic> {
    let whole = Span::new(file, 0, 0);
    let describes_block = schema.get("type").and_then(|t| t.as_str()) == Some("object")
        && schema.get("properties").is_some_and(|p| p.is_object());
    if !describes_block {
        return vec![kind_problem(
            format!("the schema of kind `{name}` does not describe a settings block"),
            whole,
            "give it `\"type\": \"object\"` and the settings under `\"properties\"`",
        )];
    }
    let bounds = kind_schema::check_refs(name, file, text, schema);
    if !bounds.is_empty() {
        return bounds;
    }
    if let Some((first, second)) = same_in_templates(schema, 0) {
        let quoted = serde_json::to_string(&second).unwrap_or_default();
        let at = text
            .find(&format!("{quoted}:"))
            .or_else(|| text.find(&quoted))
            .map_or(whole, |at| Span::new(file, at, at + quoted.len()));
        return vec![kind_problem(
            format!("settings `{first}` and `{second}` of kind `{name}` are both `{}` in templates", second.replace('-', "_")),
            at,
            "templates see a setting's name with `-` as `_`, so one would hide the other: rename one of them",
        )];
    }
    // Compiled as validation will compile it: the block inside an environment document.
    let compiled = jsonschema::options()
        .with_draft(declared_draft(schema))
        .should_validate_formats(false)
        .build(&crate::model::settings_block_schema("block", schema));
    if let Err(error) = jsonschema::validator_for(schema).and(compiled) {
        let pointer = error.instance_path().as_str().to_string();
        let at = place_in_schema(text, &pointer, error.instance())
            .map_or(whole, |range| Span::new(file, range.start, range.end));
        let place = if pointer.is_empty() {
            String::new()
        } else {
            format!(" at `{pointer}`")
        };
        let help = if pointer.ends_with("/type") {
            "a type is one of \"string\", \"number\", \"integer\", \"boolean\", \"object\", \"array\" or \"null\""
        } else {
            "see https://json-schema.org/understanding-json-schema for what each keyword takes"
        };
        return vec![kind_problem(
            format!("the schema of kind `{name}` is not a valid JSON Schema{place}: {error}"),
            at,
            help,
        )];
    }
    Vec::new()
}

/// Where in the schema's text the value at `pointer` (which is `value`) is: its key and
/// value written together (`"type": "strnig"`), else the value alone, else the key.
fn place_in_schema(
    text: &str,
    pointer: &str,
    value: &serde_json::Value,
) -> Option<std::ops::Range<usize>> {
    let key = pointer.rsplit('/').next().filter(|k| !k.is_empty())?;
    let key = key.replace("~1", "/").replace("~0", "~");
    let key_json = serde_json::to_string(&key).ok()?;
    let value_json = serde_json::to_string(value).ok()?;
    let pair = text.match_indices(&key_json).find_map(|(at, _)| {
        let after = text[at + key_json.len()..].trim_start_matches([' ', '\t', '\n', '\r']);
        let rest = after
            .strip_prefix(':')?
            .trim_start_matches([' ', '\t', '\n', '\r']);
        rest.starts_with(&value_json).then(|| {
            let start = text.len() - rest.len();
            start..start + value_json.len()
        })
    });
    pair.or_else(|| {
        let at = text.find(&key_json)?;
        Some(at..at + key_json.len())
    })
}

/// Two properties of one object of `schema` whose names are the same once `-` is `_` (as
/// templates see them), at any depth of `properties`.
fn same_in_templates(schema: &serde_json::Value, depth: usize) -> Option<(String, String)> {
    let properties = schema.get("properties")?.as_object()?;
    if depth > 32 {
        return None;
    }
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (key, inner) in properties {
        let snake = key.replace('-', "_");
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == snake) {
            return Some((first.to_string(), key.clone()));
        }
        seen.push((snake, key));
        if let Some(found) = same_in_templates(inner, depth + 1) {
            return Some(found);
        }
    }
    None
}

/// A kind's `x-envc-rules`, read; a rule that cannot be read is shown where its text is.
fn read_kind_rules(
    name: &str,
    file: FileId,
    text: &str,
    schema: &serde_json::Value,
) -> Result<Vec<super::kind_rules::KindRule>, Diagnostic> {
    super::kind_rules::read_rules(schema).map_err(|(at_text, why)| {
        let quoted = serde_json::to_string(&at_text).unwrap_or_default();
        let at = text
            .find(&quoted)
            .map(|at| Span::new(file, at, at + quoted.len()))
            .unwrap_or(Span::new(file, 0, 0));
        kind_problem(
            format!("a rule of kind `{name}` cannot be read: {why}"),
            at,
            "a rule is `{ \"when\": \"read.min > read.max\", \"message\": \"…\" }`: settings of the kind compared with <, <=, >, >=, == or !=, joined by &&",
        )
    })
}

/// The draft a kind's schema names (`$schema`), which it is compiled as; 2020-12, the draft
/// `envc new-kind` writes, when it names none.
pub fn declared_draft(schema: &serde_json::Value) -> jsonschema::Draft {
    let named = schema
        .get("$schema")
        .and_then(|s| s.as_str())
        .unwrap_or_default();
    if named.contains("draft-04") {
        jsonschema::Draft::Draft4
    } else if named.contains("draft-06") {
        jsonschema::Draft::Draft6
    } else if named.contains("draft-07") {
        jsonschema::Draft::Draft7
    } else if named.contains("2019-09") {
        jsonschema::Draft::Draft201909
    } else {
        jsonschema::Draft::Draft202012
    }
}

/// The first `x-envc-…` annotation of `schema` that envc would not read: one it does not
/// know (a misspelling), or one whose value it does not take. Dropped without a word, it
/// left a setting without the behaviour its author asked for.
fn annotation_problem(schema: &serde_json::Value, depth: usize) -> Option<(String, String)> {
    use serde_json::Value;
    const KNOWN: &[&str] = &[OUTPUT, super::kind_rules::RULES, crate::model::MERGE];
    if depth > 64 {
        return None;
    }
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                let why = if !key.starts_with("x-envc-") {
                    None
                } else if !KNOWN.contains(&key.as_str()) {
                    Some(
                        crate::did_you_mean::did_you_mean(key, KNOWN.iter().copied())
                            .unwrap_or_else(|| format!("envc reads {}", KNOWN.join(", "))),
                    )
                } else if key == OUTPUT && !value.is_boolean() {
                    Some(format!(
                        "`{OUTPUT}` takes `true` or `false`, not a string or number"
                    ))
                } else if key == crate::model::MERGE
                    && !matches!(value.as_str(), Some("keyed" | "dictionary" | "free"))
                {
                    Some(format!(
                        "`{}` takes \"keyed\", \"dictionary\" or \"free\"",
                        crate::model::MERGE
                    ))
                } else {
                    None
                };
                if let Some(why) = why {
                    return Some((key.clone(), why));
                }
                if let Some(found) = annotation_problem(value, depth + 1) {
                    return Some(found);
                }
            }
            None
        }
        Value::Array(items) => items.iter().find_map(|v| annotation_problem(v, depth + 1)),
        _ => None,
    }
}

/// The keyword that lets a setting of a kind take another stack's output
/// (`redis-url output="cache.Url"`) instead of a value.
pub const OUTPUT: &str = "x-envc-output";

/// Each property marked `"x-envc-output": true` becomes its schema or another stack's output,
/// `{ "output": "<stack>.<Output>" }`, which a template writes with `env_value(…)`.
fn expand_outputs(schema: &mut serde_json::Value, depth: usize) {
    use serde_json::{json, Value};
    if depth > 64 {
        return;
    }
    match schema {
        Value::Object(map) => {
            if map.shift_remove(OUTPUT) == Some(Value::Bool(true)) {
                // What describes the setting stays on it (its default, description, examples).
                let kept: Vec<(String, Value)> = ["description", "default", "examples"]
                    .iter()
                    .filter_map(|k| Some((k.to_string(), map.get(*k)?.clone())))
                    .collect();
                let own = Value::Object(std::mem::take(map));
                let mut expanded = json!({
                    "anyOf": [own, {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["output"],
                        "properties": { "output": {
                            "type": "string",
                            "pattern": "^[a-z][a-z0-9-]*\\.[A-Za-z][A-Za-z0-9]*$",
                            "description": "`<stack>.<Output>`: an output of another stack of the environment, which this stack needs"
                        } }
                    }],
                    crate::model::MERGE: "value"
                });
                for (key, value) in kept {
                    expanded[key] = value;
                }
                *schema = expanded;
                return;
            }
            for value in map.values_mut() {
                expand_outputs(value, depth + 1);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| expand_outputs(v, depth + 1)),
        _ => {}
    }
}

/// The byte offset of a 1-based line and column in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

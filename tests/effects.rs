//! Every setting of the environment model takes effect: for each field of the published
//! schema, `tests/effects/*.effects` holds a change that either changes the render of a
//! named stack or gets a named diagnostic where the setting cannot apply. A field without an
//! entry fails the test, so a new setting comes with its effect.
//!
//! An entry:
//!
//! ```text
//! ## service.*.cpu service.*.memory        the fields it covers (`*` for a name)
//! # expect: render api                     stacks whose render must change, or a code
//! --- given                                optional: what both renders start from
//! network { cidr "10.0.0.0/16" }           (default: this line)
//! --- set                                  the change
//! service "api" { cpu 512; memory 1024 }
//! ```
//!
//! Both renders are of `dev` in a copy of the root project: `dev` extends `given`, which
//! extends the root project's `base`; the second `dev` adds the change.

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use envc::diagnostic::Severity;
use serde_json::Value;

struct Entry {
    file: String,
    fields: Vec<String>,
    expect: Expect,
    given: String,
    set: String,
}

enum Expect {
    Render(Vec<String>),
    /// The tags every stack of the environment is deployed with (they are not in templates).
    StackTags,
    Code(String),
}

fn entries() -> Vec<Entry> {
    let dir = support::root().join("tests/effects");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/effects/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "effects"))
        .collect();
    files.sort();
    let mut entries = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for chunk in format!("\n{text}").split("\n## ").skip(1) {
            entries.push(parse_entry(&file, chunk));
        }
    }
    entries
}

fn parse_entry(file: &str, chunk: &str) -> Entry {
    let mut lines = chunk.lines();
    let fields = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    let (mut expect, mut given, mut set) = (None, None::<String>, None::<String>);
    let mut section: Option<&mut Option<String>> = None;
    for line in lines {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let words: Vec<String> = rest.split_whitespace().map(String::from).collect();
            expect = Some(match words.split_first() {
                Some((first, stacks)) if first == "render" => Expect::Render(stacks.to_vec()),
                Some((first, [])) if first == "stack-tags" => Expect::StackTags,
                Some((code, [])) => Expect::Code(code.clone()),
                _ => panic!("{file}: `# expect: render STACK…` or `# expect: CODE`: {rest}"),
            });
        } else if line == "--- given" {
            section = Some(&mut given);
        } else if line == "--- set" {
            section = Some(&mut set);
        } else if let Some(target) = section.as_deref_mut() {
            let text = target.get_or_insert_with(String::new);
            text.push_str(line);
            text.push('\n');
        } else if !line.trim().is_empty() && !line.starts_with('#') {
            panic!("{file}: a line outside `--- given`/`--- set`: {line}");
        }
    }
    Entry {
        file: file.to_string(),
        fields,
        expect: expect.unwrap_or_else(|| panic!("{file}: an entry needs `# expect:`")),
        given: given.unwrap_or_else(|| "network {\n    cidr \"10.0.0.0/16\"\n}\n".to_string()),
        set: set.unwrap_or_else(|| panic!("{file}: an entry needs `--- set`")),
    }
}

/// The settable fields of the published environment schema, as `block.*.field` paths.
fn schema_fields() -> BTreeSet<String> {
    let text = std::fs::read_to_string(support::root().join("schema/env.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let mut fields = BTreeSet::new();
    walk(&schema, &schema["$defs"], &mut Vec::new(), &mut fields);
    // Set by envc itself, never by a file.
    fields.remove("env");
    fields.remove("project");
    fields
}

/// A schema with `$ref`s and `anyOf`/`oneOf` alternatives folded into one set of properties.
fn properties(schema: &Value, defs: &Value) -> Option<serde_json::Map<String, Value>> {
    if let Some(name) = schema["$ref"].as_str() {
        return properties(&defs[name.rsplit('/').next().unwrap()], defs);
    }
    if let Some(map) = schema["properties"].as_object() {
        return Some(map.clone());
    }
    let mut merged = serde_json::Map::new();
    for key in ["anyOf", "oneOf"] {
        for alternative in schema[key].as_array().into_iter().flatten() {
            merged.extend(properties(alternative, defs).unwrap_or_default());
        }
    }
    (!merged.is_empty()).then_some(merged)
}

/// Whether one of a schema's alternatives is a value without properties (a string).
fn takes_scalar(schema: &Value, defs: &Value) -> bool {
    let schema = match schema["$ref"].as_str() {
        Some(name) => &defs[name.rsplit('/').next().unwrap()],
        None => schema,
    };
    ["anyOf", "oneOf"].iter().any(|key| {
        schema[*key]
            .as_array()
            .into_iter()
            .flatten()
            .any(|alternative| properties(alternative, defs).is_none())
    })
}

fn walk(schema: &Value, defs: &Value, path: &mut Vec<String>, out: &mut BTreeSet<String>) {
    if let Some(props) = properties(schema, defs) {
        for (name, inner) in props {
            path.push(name);
            walk(&inner, defs, path, out);
            path.pop();
        }
    } else if schema["additionalProperties"].is_object()
        && properties(&schema["additionalProperties"], defs).is_some()
    {
        // A map whose values are a scalar or a block (an environment variable's text, or
        // another stack's output) is a field itself too.
        if takes_scalar(&schema["additionalProperties"], defs) {
            out.insert(path.join("."));
        }
        path.push("*".to_string());
        walk(&schema["additionalProperties"], defs, path, out);
        path.pop();
    } else {
        out.insert(path.join("."));
    }
}

struct Outcome {
    stacks: std::collections::BTreeMap<String, String>,
    tags: Vec<(String, String)>,
    codes: Vec<(String, Severity, String)>,
}

/// `dev` rendered with `given` and the change `dev`; with `tags`, also the deploy target's
/// stack tags.
fn render(dir: &Path, given: &str, dev: &str, tags: bool) -> Outcome {
    std::fs::write(
        dir.join("env/given.kdl"),
        format!("abstract #true\nextends \"base\"\n{given}"),
    )
    .unwrap();
    std::fs::write(dir.join("env/dev.kdl"), format!("extends \"given\"\n{dev}")).unwrap();
    let run = envc::run(dir, &["dev".to_string()], envc::Stages::Render);
    let tags = if tags {
        let options = envc::AwsOptions::default();
        let (_, target) = envc::deploy_target(dir, "dev", &options, envc::Stages::Render);
        target.map(|t| t.tags).unwrap_or_default()
    } else {
        Vec::new()
    };
    Outcome {
        tags,
        stacks: run
            .rendered
            .iter()
            .flat_map(|env| env.stacks.iter())
            .map(|s| (s.stack.clone(), s.body.clone()))
            .collect(),
        codes: run
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str().to_string(), d.severity, d.message.clone()))
            .collect(),
    }
}

#[test]
fn every_setting_changes_the_render_or_is_refused_where_it_cannot_apply() {
    let entries = entries();
    let covered: BTreeSet<String> = entries.iter().flat_map(|e| e.fields.clone()).collect();
    let fields = schema_fields();
    let missing: Vec<&String> = fields.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "settings without an entry in tests/effects/: {missing:?}"
    );
    let unknown: Vec<&String> = covered.difference(&fields).collect();
    assert!(
        unknown.is_empty(),
        "tests/effects/ names fields the schema does not have: {unknown:?}"
    );

    let project = tempfile::tempdir().unwrap();
    support::copy_project(support::root(), project.path());
    let dir = project.path();
    let mut failures = Vec::new();
    for entry in &entries {
        let name = format!("{} `{}`", entry.file, entry.fields.join(" "));
        let tags = matches!(entry.expect, Expect::StackTags);
        let before = render(dir, &entry.given, "", tags);
        let errors: Vec<_> = before
            .codes
            .iter()
            .filter(|c| c.1 == Severity::Error)
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{name}: `given` is not clean: {errors:?}"));
            continue;
        }
        let after = render(dir, &entry.given, &entry.set, tags);
        match &entry.expect {
            Expect::Render(stacks) => {
                let errors: Vec<_> = after
                    .codes
                    .iter()
                    .filter(|c| c.1 == Severity::Error)
                    .collect();
                if !errors.is_empty() {
                    failures.push(format!("{name}: the change is refused: {errors:?}"));
                    continue;
                }
                for stack in stacks {
                    match (before.stacks.get(stack), after.stacks.get(stack)) {
                        (Some(a), Some(b)) if a == b => {
                            failures.push(format!("{name}: `{stack}` renders the same"))
                        }
                        (None, None) => failures.push(format!("{name}: no stack `{stack}`")),
                        _ => {}
                    }
                }
            }
            Expect::StackTags => {
                if before.tags == after.tags {
                    failures.push(format!("{name}: the stacks' tags are the same"));
                }
            }
            Expect::Code(code) => {
                if !after.codes.iter().any(|c| &c.0 == code) {
                    failures.push(format!("{name}: no {code}, got {:?}", after.codes));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} entries:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}

//! `envc explain ENV PATH`: a merged value and the chain of files that set and overrode it;
//! for a value a `(remove)` took out, who removed it and what it was; for a setting no file
//! sets, the schema's default.

use std::path::Path;

use crate::credentials::{looks_like_credential, Context};
use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::did_you_mean;
use crate::docs::SchemaAt;
use crate::resolve::{Entry, KeyPath, Origin, Removal, ResolvedProject, Table, Value};
use crate::source::{SourceMap, Span};

/// What a step of a value's history did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The file that set the value the environment has (or had, before a removal).
    Set,
    /// An older value that the step before replaced.
    Overrode,
    /// A `(remove)` took the value out.
    Removed,
    /// No file sets it: the schema's default.
    Default,
}

/// One step of a value's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    /// The environment that set it (`stacks.kdl` for project defaults).
    pub env: String,
    /// `path:line:col` (empty for a default).
    pub location: String,
    /// The value as written there.
    pub shown: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedValue {
    /// The path as a person writes it, keys holding dots quoted.
    pub path: String,
    /// The merged value, references resolved.
    pub shown: String,
    /// The string as written, when it held `${…}` references.
    pub template: Option<String>,
    /// Who set it, then what it overrode, and so on.
    pub history: Vec<Step>,
    /// What the value looks like when it looks like a credential (then it must not be
    /// shown, and explaining it is a problem).
    pub credential: Option<&'static str>,
    /// Where the value was written, when a file wrote it.
    pub span: Option<Span>,
}

#[derive(Debug)]
pub struct Explanation {
    pub env: String,
    pub values: Vec<ExplainedValue>,
    /// Values that look like plaintext credentials.
    pub problems: Vec<Diagnostic>,
}

/// Explains `path` of `env`; a path naming a block explains every value inside it.
pub fn explain(
    root: &Path,
    env: &str,
    path: &str,
) -> (SourceMap, Result<Explanation, Vec<Diagnostic>>) {
    // Provenance is a matter of parsing and merging: nothing after resolve runs.
    let (sources, resolved_project, diagnostics) = crate::load_and_resolve(root);
    let fatal: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.is_error() && matches!(d.code, Code::NoProject | Code::Io))
        .cloned()
        .collect();
    if !fatal.is_empty() {
        return (sources, Err(fatal));
    }
    let Some(resolved) = resolved_project.env(env) else {
        let mut problems: Vec<Diagnostic> = diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        // An environment whose file has errors exists: the errors say why it is not here.
        let broken = !problems.is_empty() && root.join("env").join(format!("{env}.kdl")).is_file();
        if !broken {
            let known = resolved_project.envs.iter().map(|e| e.name.as_str());
            problems.insert(0, crate::unknown_env(env, known));
        }
        return (sources, Err(problems));
    };
    let text = path.trim_matches('.');
    let values = match resolved.root.find(text) {
        Some(path) => {
            let mut values = Vec::new();
            let value = resolved.root.get(&path).expect("found paths have values");
            describe(&path, value, &sources, &mut values);
            values
        }
        None => match removed_or_default(&resolved_project, &resolved.root, text, &sources) {
            Some(value) => vec![value],
            None => return (sources, Err(vec![unknown_path(env, text, &resolved.root)])),
        },
    };
    let problems = values
        .iter()
        .filter_map(|v| {
            let what = v.credential?;
            Some(
                Diagnostic::error(
                    Code::PlaintextSecret,
                    format!("`{}` of `{env}` looks like {what} written in plain text; its value is hidden", v.path),
                )
                .at(v.span?, "plaintext credential (value hidden)")
                .help("store it in Secrets Manager and reference it with `secret … from=… key=…`; then rotate it, since it was committed"),
            )
        })
        .collect();
    (
        sources,
        Ok(Explanation {
            env: env.to_string(),
            values,
            problems,
        }),
    )
}

fn unknown_path(env: &str, text: &str, root: &Table) -> Diagnostic {
    let paths = root.leaf_paths();
    let help = did_you_mean(text, paths.iter().map(String::as_str)).unwrap_or_else(|| {
        "paths are dotted, like `network.cidr` or `service.api.scaling.max`; quote a key holding a dot, like `tags.\"cost.center\"`".to_string()
    });
    Diagnostic::error(
        Code::UnknownPath,
        format!("environment `{env}` has no value at `{text}`"),
    )
    .help(help)
}

/// A value no file of the environment's chain sets: one a `(remove)` took out, or a setting
/// left at the schema's default.
fn removed_or_default(
    project: &ResolvedProject,
    root: &Table,
    text: &str,
    sources: &SourceMap,
) -> Option<ExplainedValue> {
    let path = KeyPath::parse(text)?;
    if let Some((removal, was)) = removed_at(root, &path) {
        let mut history = vec![Step {
            kind: StepKind::Removed,
            ..step(&removal.origin, String::new(), sources)
        }];
        history.extend(history_of(was, &None, sources));
        return Some(ExplainedValue {
            path: path.to_string(),
            shown: "(removed)".to_string(),
            template: None,
            history,
            credential: credential(&path, was),
            span: Some(was.origin().span),
        });
    }
    let schema = crate::published::env_schema_of(project);
    let default = schema_default(&schema, root, &path)?;
    Some(ExplainedValue {
        path: path.to_string(),
        shown: default.clone(),
        template: None,
        history: vec![Step {
            kind: StepKind::Default,
            env: "default".to_string(),
            location: String::new(),
            shown: default,
        }],
        credential: None,
        span: None,
    })
}

/// The `(remove)` that took out the value at `path` (or a block holding it), and the value.
fn removed_at<'t>(root: &'t Table, path: &KeyPath) -> Option<(&'t Removal, &'t Value)> {
    let mut table = root;
    for (depth, key) in path.iter().enumerate() {
        if let Some(removal) = table.removed.get(key) {
            let rest = &path[depth + 1..];
            let was = match &removal.was {
                _ if rest.is_empty() => &removal.was,
                Value::Table(inner) => inner.get(rest)?,
                _ => return None,
            };
            return Some((removal, was));
        }
        match &table.entries.get(key)?.value {
            Value::Table(inner) => table = inner,
            _ => return None,
        }
    }
    None
}

/// The schema's default for a setting at `path`, as KDL. A key of a keyed block or map
/// (`service "api"`) must be in the table: the schema has defaults for any service, but
/// only a service the environment has takes them.
fn schema_default(schema: &serde_json::Value, root: &Table, path: &KeyPath) -> Option<String> {
    let mut at = SchemaAt::root(schema);
    let mut table = Some(root);
    for key in path.iter() {
        let entry = table.and_then(|t| t.entries.get(key));
        if entry.is_none() && !at.keys().iter().any(|(name, _)| name == key) {
            return None;
        }
        at = at.child(key)?;
        table = match entry {
            Some(Entry {
                value: Value::Table(inner),
                ..
            }) => Some(inner),
            _ => None,
        };
    }
    if at.is_block() {
        return None;
    }
    at.default()
}

fn describe(path: &KeyPath, value: &Value, sources: &SourceMap, out: &mut Vec<ExplainedValue>) {
    if let Value::Table(table) = value {
        for (key, entry) in &table.entries {
            describe(&path.child(key), &entry.value, sources, out);
        }
        return;
    }
    let template = match value {
        Value::Scalar(s) => s.template.clone(),
        _ => None,
    };
    out.push(ExplainedValue {
        path: path.to_string(),
        shown: value.shown(),
        history: history_of(value, &template, sources),
        template,
        credential: credential(path, value),
        span: Some(value.origin().span),
    });
}

/// Who set `value`, then what it overrode, and so on.
fn history_of(value: &Value, template: &Option<String>, sources: &SourceMap) -> Vec<Step> {
    let mut history = vec![step(value.origin(), written(value, template), sources)];
    let mut origin: &Origin = value.origin();
    while let Some(previous) = &origin.overrode {
        history.push(Step {
            kind: StepKind::Overrode,
            ..step(&previous.origin, previous.shown.clone(), sources)
        });
        origin = &previous.origin;
    }
    history
}

fn credential(path: &KeyPath, value: &Value) -> Option<&'static str> {
    let Value::Scalar(scalar) = value else {
        return None;
    };
    let context = Context {
        key: path.last().map_or("", String::as_str),
        in_secret_reference: path.iter().any(|key| key == "secret"),
    };
    looks_like_credential(context, scalar.value.as_str()?)
}

fn written(value: &Value, template: &Option<String>) -> String {
    match template {
        Some(t) => format!("{t:?}"),
        None => value.shown(),
    }
}

fn step(origin: &Origin, shown: String, sources: &SourceMap) -> Step {
    Step {
        kind: StepKind::Set,
        env: origin.env.to_string(),
        location: sources.location(origin.span),
        shown,
    }
}

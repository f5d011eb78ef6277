//! `envc explain ENV PATH`: a merged value and the chain of files that set and overrode it.

use std::path::Path;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::did_you_mean;
use crate::resolve::{Origin, Value};
use crate::source::SourceMap;

/// One step of a value's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The environment that set it (`stacks.kdl` for project defaults).
    pub env: String,
    /// `path:line:col`.
    pub location: String,
    /// The value as written there.
    pub shown: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedValue {
    pub path: String,
    /// The merged value, references resolved.
    pub shown: String,
    /// The string as written, when it held `${…}` references.
    pub template: Option<String>,
    /// Who set it, then what it overrode, and so on.
    pub history: Vec<Step>,
}

#[derive(Debug)]
pub struct Explanation {
    pub env: String,
    pub values: Vec<ExplainedValue>,
}

/// Explains `path` of `env`; a path naming a block explains every value inside it.
pub fn explain(
    root: &Path,
    env: &str,
    path: &str,
) -> (SourceMap, Result<Explanation, Vec<Diagnostic>>) {
    let checked = crate::check(root, &[]);
    let sources = checked.sources;
    let fatal: Vec<Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && matches!(d.code, Code::NoProject | Code::Io))
        .cloned()
        .collect();
    if !fatal.is_empty() {
        return (sources, Err(fatal));
    }
    let Some(resolved) = checked.resolved.env(env) else {
        let known = checked.resolved.envs.iter().map(|e| e.name.as_str());
        let mut problems = vec![crate::unknown_env(env, known)];
        problems.extend(checked.diagnostics.into_iter().filter(Diagnostic::is_error));
        return (sources, Err(problems));
    };
    let path = path.trim_matches('.');
    let Some(value) = resolved.root.get_path(path) else {
        let paths = resolved.root.leaf_paths();
        let help = did_you_mean(path, paths.iter().map(String::as_str)).unwrap_or_else(|| {
            "paths are dotted, like `network.cidr` or `service.api.scaling.max`".to_string()
        });
        return (
            sources,
            Err(vec![Diagnostic::error(
                Code::UnknownPath,
                format!("environment `{env}` has no value at `{path}`"),
            )
            .help(help)]),
        );
    };
    let mut values = Vec::new();
    describe(path, value, &sources, &mut values);
    (
        sources,
        Ok(Explanation {
            env: env.to_string(),
            values,
        }),
    )
}

fn describe(path: &str, value: &Value, sources: &SourceMap, out: &mut Vec<ExplainedValue>) {
    if let Value::Table(table) = value {
        for (key, entry) in &table.entries {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            describe(&child, &entry.value, sources, out);
        }
        return;
    }
    let template = match value {
        Value::Scalar(s) => s.template.clone(),
        _ => None,
    };
    let mut history = vec![step(value.origin(), written(value, &template), sources)];
    let mut origin: &Origin = value.origin();
    while let Some(previous) = &origin.overrode {
        history.push(step(&previous.origin, previous.shown.clone(), sources));
        origin = &previous.origin;
    }
    out.push(ExplainedValue {
        path: path.to_string(),
        shown: value.shown(),
        template,
        history,
    });
}

fn written(value: &Value, template: &Option<String>) -> String {
    match template {
        Some(t) => format!("{t:?}"),
        None => value.shown(),
    }
}

fn step(origin: &Origin, shown: String, sources: &SourceMap) -> Step {
    Step {
        env: origin.env.to_string(),
        location: sources.location(origin.span),
        shown,
    }
}

//! `envc explain ENV PATH`: a merged value and the chain of files that set and overrode it.

use std::path::Path;

use crate::credentials::{looks_like_credential, Context};
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
    /// What the value looks like when it looks like a credential (then it must not be
    /// shown, and explaining it is a problem).
    pub credential: Option<&'static str>,
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
    let problems = values
        .iter()
        .filter_map(|v| {
            let what = v.credential?;
            let span = value_span(value, path, &v.path)?;
            Some(
                Diagnostic::error(
                    Code::PlaintextSecret,
                    format!("`{}` of `{env}` looks like {what} written in plain text; its value is hidden", v.path),
                )
                .at(span, "plaintext credential (value hidden)")
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
    let credential = match value {
        Value::Scalar(scalar) => scalar.value.as_str().and_then(|text| {
            let context = Context {
                key: path.rsplit('.').next().unwrap_or(path),
                in_secret_reference: path.split('.').any(|part| part == "secret"),
            };
            looks_like_credential(context, text)
        }),
        _ => None,
    };
    out.push(ExplainedValue {
        path: path.to_string(),
        shown: value.shown(),
        template,
        history,
        credential,
    });
}

/// The span that set the value at `path`, inside `value` found at `base`.
fn value_span(value: &Value, base: &str, path: &str) -> Option<crate::source::Span> {
    let mut value = value;
    let rest = path
        .strip_prefix(base)
        .unwrap_or("")
        .trim_start_matches('.');
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        match value {
            Value::Table(table) => value = &table.entries.get(part)?.value,
            _ => return None,
        }
    }
    Some(value.origin().span)
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

//! What a project publishes besides its golden files: the JSON Schemas editors read
//! (`schema/`) and its reference documents (`docs/`). Both are made from the resolved
//! project, written only when asked (`envc schema`, `envc docs`), and, in a project that
//! commits them, a stale or missing one is a diagnostic of `check`.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::ResolvedProject;
use crate::source::{SourceMap, Span};
use crate::{docs, files, load_and_resolve, model, validate, Refusal};

/// What the project publishes (`schema/`, `docs/`) and is stale: what `check` reports of them.
pub(crate) fn stale_diagnostics(
    root: &Path,
    resolved: &ResolvedProject,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let mut found = stale_schema_diagnostics(root, resolved, sources);
    found.extend(stale_doc_diagnostics(root, resolved, sources));
    found
}

/// Schema files that differ from what this envc generates, when the project commits `schema/`.
fn stale_schema_diagnostics(
    root: &Path,
    resolved: &ResolvedProject,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let dir = root.join("schema");
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for schema in validate::published_schemas(resolved, model::schema_files()) {
        let relative = Path::new("schema").join(schema.file_name);
        let current = match files::read_text(root, &relative) {
            Ok(current) => Some(current),
            Err(files::ReadProblem::Missing(_)) => None,
            Err(problem) => {
                found.push(problem.into_diagnostic(root, &relative, Some(sources)));
                continue;
            }
        };
        let Some(current) = current else {
            found.push(
                Diagnostic::error(
                    Code::SchemaStale,
                    format!(
                        "`{}` is missing",
                        files::display_path(root, &relative).display()
                    ),
                )
                .help("run `envc schema` and commit the result"),
            );
            continue;
        };
        if current != schema.text {
            let file = sources.add(files::display_path(root, &relative), current);
            found.push(
                Diagnostic::error(
                    Code::SchemaStale,
                    format!("`{}` is out of date with this envc", relative.display()),
                )
                .at(Span::new(file, 0, 0), "stale schema")
                .help("run `envc schema` and commit the result"),
            );
        }
    }
    found
}

/// The reference documents of the project (`docs/`), from its published environment schema.
fn project_docs(resolved: &ResolvedProject) -> Vec<docs::Doc> {
    if resolved.settings_blocks.is_empty() {
        return docs::of_the_model();
    }
    docs::documents(&env_schema_of(resolved))
}

/// The project's published environment schema: the model's, with its kinds' blocks.
pub fn env_schema_of(resolved: &ResolvedProject) -> serde_json::Value {
    let schemas = validate::published_schemas(resolved, model::schema_files());
    schemas
        .iter()
        .find(|s| s.file_name == "env.schema.json")
        .map(model::SchemaFile::json)
        .unwrap_or_default()
}

/// A project that keeps `docs/` keeps it fresh: a stale or missing document is a diagnostic.
fn stale_doc_diagnostics(
    root: &Path,
    resolved: &ResolvedProject,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    if !root.join("docs").is_dir() {
        return Vec::new();
    }
    stale_docs_of(root, resolved)
        .into_iter()
        .map(|(relative, current, _)| {
            let diagnostic = Diagnostic::error(
                Code::DocsStale,
                format!("`{}` is out of date with this project", relative.display()),
            )
            .help("run `envc docs` and commit the result");
            match current {
                Some(current) => {
                    let file = sources.add(files::display_path(root, &relative), current);
                    diagnostic.at(Span::new(file, 0, 0), "stale document")
                }
                None => diagnostic,
            }
        })
        .collect()
}

/// (path, committed text if any, generated text) of each document that differs.
fn stale_docs_of(
    root: &Path,
    resolved: &ResolvedProject,
) -> Vec<(PathBuf, Option<String>, String)> {
    project_docs(resolved)
        .into_iter()
        .filter_map(|doc| {
            let relative = PathBuf::from(doc.path);
            let current = files::read_text(root, &relative).ok();
            (current.as_deref() != Some(doc.text.as_str())).then_some((relative, current, doc.text))
        })
        .collect()
}

/// Writes `docs/settings.md` and `docs/templates.md`.
pub fn write_docs(root: &Path) -> Result<Vec<PathBuf>, Refusal> {
    let resolved = resolved_to_publish(root)?;
    // Generated, never the compiled-in copies: this is how those are brought up to date.
    let documents = docs::documents(&env_schema_of(&resolved));
    let files: Vec<(PathBuf, &[u8])> = documents
        .iter()
        .map(|doc| (PathBuf::from(doc.path), doc.text.as_bytes()))
        .collect();
    write_all(root, &files)
}

/// Writes `files` (paths relative to `root`) all or none; the paths written, as shown.
fn write_all(root: &Path, files: &[(PathBuf, &[u8])]) -> Result<Vec<PathBuf>, Refusal> {
    files::Gate::new(root)?.write_all(files)?;
    Ok(files
        .iter()
        .map(|(relative, _)| files::display_path(root, relative))
        .collect())
}

/// Documents under `docs/` that differ from a fresh generation: (path, committed, generated).
/// The files come with the project's sources they were made from, so what shows them can
/// mask the credentials those hold.
pub fn stale_docs(root: &Path) -> (SourceMap, Vec<(PathBuf, String, String)>) {
    let (sources, resolved, _) = load_and_resolve(root);
    let stale = stale_docs_of(root, &resolved)
        .into_iter()
        .map(|(relative, current, expected)| {
            (root.join(relative), current.unwrap_or_default(), expected)
        })
        .collect();
    (sources, stale)
}

/// The project resolved, for what it publishes: a kind whose files make no kind stops it
/// (what is written would silently lack the kind); other problems are left to `check`.
fn resolved_to_publish(root: &Path) -> Result<ResolvedProject, Refusal> {
    let (sources, resolved, found) = load_and_resolve(root);
    // Only a project has documents and schemas to publish: a folder that is none is not
    // written into.
    let diagnostics: Vec<Diagnostic> = found
        .into_iter()
        .filter(|d| matches!(d.code, Code::KindDefinition | Code::NoProject) && d.is_error())
        .collect();
    if diagnostics.is_empty() {
        return Ok(resolved);
    }
    let exit = crate::exit_code(&diagnostics);
    Err(Refusal {
        sources,
        diagnostics,
        exit,
    })
}

/// Writes `schema/*.schema.json`; returns the files written.
pub fn write_schemas(root: &Path) -> Result<Vec<PathBuf>, Refusal> {
    let resolved = resolved_to_publish(root)?;
    let schemas = validate::published_schemas(&resolved, model::generated_schema_files());
    // All or none: an environment schema without its stacks schema would not match.
    let files: Vec<(PathBuf, &[u8])> = schemas
        .iter()
        .map(|schema| {
            (
                Path::new("schema").join(schema.file_name),
                schema.text.as_bytes(),
            )
        })
        .collect();
    write_all(root, &files)
}

/// Schema files that are missing or differ: (path, committed text, the text this envc
/// publishes), with the project's sources (see [`stale_docs`]).
pub fn stale_schemas(root: &Path) -> (SourceMap, Vec<(PathBuf, String, String)>) {
    let (sources, resolved, _) = load_and_resolve(root);
    let stale = validate::published_schemas(&resolved, model::schema_files())
        .into_iter()
        .filter_map(|schema| {
            let relative = Path::new("schema").join(schema.file_name);
            let current = files::read_text(root, &relative).unwrap_or_default();
            let path = root.join(relative);
            let expected = schema.text.into_owned();
            (current != expected).then_some((path, current, expected))
        })
        .collect();
    (sources, stale)
}

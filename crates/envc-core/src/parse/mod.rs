//! Parse: read `stacks.kdl` and `env/*.kdl` and turn KDL into [`ast`] nodes.
//!
//! Every node, argument and property keeps the span it was written at. A file with a syntax
//! error yields diagnostics and no document; the other files still parse.
//!
//! Plain KDL is read by `kdl_reader`, straight into nodes; the kdl crate reads the rest and
//! explains every syntax error. `strict` first refuses what KDL v2 forbids and the kdl crate
//! lets through.

pub mod ast;
pub mod bounded;
mod convert;
mod depth;
mod directives;
mod json_spans;
mod kdl_reader;
pub mod kind_rules;
mod kind_schema;
mod kinds;
mod names;

pub use kinds::declared_draft;
pub use names::{env_names_on_disk, is_env_name, is_project_name, MAX_ENV_NAME, MAX_PROJECT_NAME};
pub mod lexer;
mod strict;

pub use kinds::ProjectKind;

use std::path::Path;

use crate::diagnostic::{Code, Diagnostic};
use crate::files::ReadProblem;
use crate::source::{FileId, SourceMap, Span};
pub use ast::*;
use convert::Converter;

/// Every file of a project, parsed.
#[derive(Debug, Default)]
pub struct ParsedProject {
    pub stacks: Option<StacksFile>,
    pub envs: Vec<EnvFile>,
    /// Environments whose file exists but did not parse: children of these are not told
    /// their parent is missing.
    pub broken_envs: Vec<String>,
    /// The project's own kinds (`kinds/`).
    pub kinds: Vec<ProjectKind>,
    /// Kinds whose files make no kind (already reported).
    pub broken_kinds: Vec<String>,
    /// Where each environment is in `envs`, made at the first lookup: resolving a thousand
    /// environments looks their parents up thousands of times.
    by_name: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

impl ParsedProject {
    /// Drops the environments' files (what resolve reads), keeping the kinds and the rest.
    pub fn forget_envs(&mut self) {
        self.envs = Vec::new();
        self.by_name = std::sync::OnceLock::new();
    }

    pub fn env(&self, name: &str) -> Option<&EnvFile> {
        let index = self.by_name.get_or_init(|| {
            let names = self.envs.iter().enumerate();
            names.map(|(i, e)| (e.name.clone(), i)).collect()
        });
        if index.len() != self.envs.len() {
            // Changed since the index was made: look the slow way.
            return self.envs.iter().find(|e| e.name == name);
        }
        index.get(name).map(|&i| &self.envs[i])
    }
}

/// Texts that stand in for project files (`stacks.kdl`, `env/<name>.kdl`), by path relative to
/// the root: an editor's unsaved buffers. An `env/` file here exists even when not on disk.
pub type Overlay = std::collections::BTreeMap<std::path::PathBuf, String>;

/// Reads and parses the project in `root`. Paths in `sources` are relative to `root`.
pub fn load_project(root: &Path, sources: &mut SourceMap) -> (ParsedProject, Vec<Diagnostic>) {
    load_project_with(root, &Overlay::new(), sources)
}

/// [`load_project`], reading `overlay`'s texts instead of the files they stand for.
pub fn load_project_with(
    root: &Path,
    overlay: &Overlay,
    sources: &mut SourceMap,
) -> (ParsedProject, Vec<Diagnostic>) {
    let mut project = ParsedProject::default();
    let mut diagnostics = Vec::new();

    let env_dir = root.join("env");
    if !root.join("stacks.kdl").is_file() && !env_dir.is_dir() && !in_overlay(overlay, "stacks.kdl")
    {
        diagnostics.push(
            Diagnostic::error(
                Code::NoProject,
                format!("`{}` is not an envc project", root.display()),
            )
            .help("an envc project has a `stacks.kdl` and an `env/` folder; use `-C DIR` to point at one"),
        );
        return (project, diagnostics);
    }

    (project.kinds, project.broken_kinds) = kinds::load_kinds(root, sources, &mut diagnostics);

    match read(root, Path::new("stacks.kdl"), overlay, sources) {
        Ok(file) => {
            if let Some(nodes) = parse_document(file, sources, &mut diagnostics) {
                project.stacks = Some(StacksFile { file, nodes });
            }
        }
        Err(diagnostic) => diagnostics.push(diagnostic),
    }

    let names = env_file_names(&env_dir, overlay, &mut diagnostics);
    let files = read_env_files(
        root,
        names,
        overlay,
        sources,
        &mut project.broken_envs,
        &mut diagnostics,
    );
    parse_env_files(files, sources, &mut project, &mut diagnostics);
    (project, diagnostics)
}

/// Whether a path of `overlay` is `path` or under it.
fn in_overlay(overlay: &Overlay, path: &str) -> bool {
    overlay.keys().any(|key| key.starts_with(path))
}

/// The file names of the environments: the `.kdl` files of `env/` and of the overlay,
/// sorted, each once.
fn env_file_names(
    env_dir: &Path,
    overlay: &Overlay,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut names = match std::fs::read_dir(env_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter_map(|e| match e.file_name().into_string() {
                Ok(name) => Some(name),
                // Its name cannot be written in a stack name, nor the file be read by it.
                Err(raw) => {
                    let shown = raw.to_string_lossy().into_owned();
                    if shown.ends_with(".kdl") {
                        diagnostics.push(
                            Diagnostic::error(
                                Code::EnvName,
                                format!("`env/{shown}` has a name that is not UTF-8"),
                            )
                            .help("rename the file: environment names are lowercase letters, digits and single `-` between them"),
                        );
                    }
                    None
                }
            })
            .filter(|n| n.ends_with(".kdl"))
            .collect::<Vec<_>>(),
        // A project not yet written (`init`): its environments are all in the overlay.
        Err(_) if in_overlay(overlay, "env") => Vec::new(),
        Err(err) => {
            diagnostics.push(
                Diagnostic::error(Code::Io, format!("cannot read `env/`: {err}"))
                    .help("create `env/` with one `<name>.kdl` per environment"),
            );
            Vec::new()
        }
    };
    for path in overlay.keys() {
        let in_env = path.parent() == Some(Path::new("env"));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = name.filter(|n| in_env && n.ends_with(".kdl")) {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Reads the environment files named (in parallel) into `sources`: each environment's name
/// and file, in the order of `names`. A file that cannot be read is reported, and its
/// environment counted as broken.
fn read_env_files(
    root: &Path,
    names: Vec<String>,
    overlay: &Overlay,
    sources: &mut SourceMap,
    broken_envs: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(String, FileId)> {
    // Files are read, then parsed, in parallel; results keep the sorted file order.
    let texts: Vec<(String, Result<String, ReadProblem>)> =
        crate::parallel::map(names, |file_name| {
            let relative = Path::new("env").join(&file_name);
            let text = match overlay_text(root, &relative, overlay) {
                Some(text) => text,
                None => crate::files::read_text(root, &relative),
            };
            (file_name, text)
        });
    let mut files = Vec::with_capacity(texts.len());
    for (file_name, text) in texts {
        let relative = Path::new("env").join(&file_name);
        let name = file_name.trim_end_matches(".kdl");
        match text {
            Ok(text) => {
                let file = sources.add(crate::files::display_path(root, &relative), text);
                files.push((name.to_string(), file));
            }
            Err(problem) => {
                let mut problem = problem.into_diagnostic(root, &relative, Some(sources));
                if problem.primary.is_none() && overlay.contains_key(&relative) {
                    problem = at_buffer(problem, root, &relative, sources);
                }
                diagnostics.push(problem);
                if is_env_name(name) {
                    broken_envs.push(name.to_string());
                }
            }
        }
    }
    files
}

/// Parses the environment files (in parallel) into `project`'s environments, in order; a
/// file that does not parse counts its environment as broken.
fn parse_env_files(
    files: Vec<(String, FileId)>,
    sources: &SourceMap,
    project: &mut ParsedProject,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let parsed: Vec<_> = crate::parallel::map(files, |(name, file)| {
        let mut found = Vec::new();
        let nodes = if is_env_name(&name) {
            parse_document(file, sources, &mut found)
        } else {
            found.push(
                    Diagnostic::error(
                        Code::EnvName,
                        format!("`{name}` is not a valid environment name"),
                    )
                    .at(Span::new(file, 0, 0), "in this file")
                    .help(format!("environment names are lowercase letters, digits and single `-` between them, starting with a letter, at most {MAX_ENV_NAME} characters (they become part of stack names)")),
                );
            None
        };
        (name, file, nodes, found)
    });
    for (name, file, nodes, found) in parsed {
        let valid_name = !found.iter().any(|d| d.code == Code::EnvName);
        diagnostics.extend(found);
        match nodes {
            Some(nodes) => project
                .envs
                .push(directives::env_file(name, file, nodes, diagnostics)),
            None if valid_name => project.broken_envs.push(name),
            None => {}
        }
    }
}

fn read(
    root: &Path,
    relative: &Path,
    overlay: &Overlay,
    sources: &mut SourceMap,
) -> Result<FileId, Diagnostic> {
    if let Some(text) = overlay_text(root, relative, overlay) {
        return match text {
            Ok(text) => Ok(sources.add(crate::files::display_path(root, relative), text)),
            Err(problem) => Err(at_buffer(
                problem.into_diagnostic(root, relative, None),
                root,
                relative,
                sources,
            )),
        };
    }
    match crate::files::read_text(root, relative) {
        Ok(text) => Ok(sources.add(crate::files::display_path(root, relative), text)),
        Err(problem) => Err(problem.into_diagnostic(root, relative, Some(sources))),
    }
}

/// The text `overlay` holds for `relative` (an editor's buffer), refused as the file would
/// be when it is larger than envc reads.
fn overlay_text(
    root: &Path,
    relative: &Path,
    overlay: &Overlay,
) -> Option<Result<String, ReadProblem>> {
    let text = overlay.get(relative)?;
    let shown = crate::files::display_path(root, relative);
    Some(match crate::files::check_text_size(&shown, text) {
        Ok(()) => Ok(text.clone()),
        Err(problem) => Err(ReadProblem::Refused(Box::new(problem))),
    })
}

/// `problem` with a label at the start of the buffer of `relative` it is about (whose text
/// is not kept), so an editor lists it with that file.
fn at_buffer(
    problem: Diagnostic,
    root: &Path,
    relative: &Path,
    sources: &mut SourceMap,
) -> Diagnostic {
    let file = sources.add(crate::files::display_path(root, relative), String::new());
    problem.at(Span::new(file, 0, 0), "this buffer")
}

/// Parses one file's text (already in `sources`) into nodes.
pub fn parse_document(
    file: FileId,
    sources: &SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<Node>> {
    let text = &sources.file(file).text;
    if let Some(problem) = depth::check(text, file) {
        diagnostics.push(problem);
        return None;
    }
    let strict = strict::check(text, file);
    if !strict.is_empty() {
        diagnostics.extend(at_most_shown(strict));
        return None;
    }
    // Debug builds (and so every test) check each fast answer against the kdl crate.
    let fast = if cfg!(debug_assertions) {
        parse_fast_checked(text, file)
    } else {
        kdl_reader::parse(text, file)
    };
    let before = diagnostics.len();
    let nodes = fast.or_else(|| parse_with_kdl(file, text, diagnostics))?;
    check_numbers(&nodes, diagnostics);
    let numbers_ok = !diagnostics[before..].iter().any(|d| d.code == Code::Number);
    numbers_ok.then_some(nodes)
}

/// Numbers must be finite: `1e400` reads as infinity, and `#nan`/`#inf` are no setting's
/// value.
fn check_numbers(nodes: &[Node], diagnostics: &mut Vec<Diagnostic>) {
    for node in nodes {
        let values = node
            .args
            .iter()
            .map(|a| (&a.value, a.span))
            .chain(node.props.iter().map(|p| (&p.value, p.value_span)));
        for (value, span) in values {
            if let Scalar::Float(f) = value {
                if !f.is_finite() {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::Number,
                            format!("`{}` is not a finite number", node.name),
                        )
                        .at(
                            span,
                            if f.is_nan() {
                                "not a number"
                            } else {
                                "too large: it reads as infinity"
                            },
                        )
                        .help("write a number within the setting's range, like `100` or `0.5`"),
                    );
                }
            }
        }
        if let Some(children) = &node.children {
            check_numbers(children, diagnostics);
        }
    }
}

/// What the fast reader makes of `text`, checked against the kdl crate: it panics where the
/// kdl crate finds a problem in text the fast reader took, or leads to other nodes or spans.
/// `None` where the fast reader leaves the text to the kdl crate. For debug builds, the
/// differential tests and fuzzing.
pub fn parse_fast_checked(text: &str, file: FileId) -> Option<Vec<Node>> {
    let nodes = kdl_reader::parse(text, file)?;
    let mut found = Vec::new();
    let reference = parse_with_kdl(file, text, &mut found);
    let problems: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert!(
        problems.is_empty(),
        "the fast KDL reader took text with problems ({problems:?}): {text:?}"
    );
    assert_eq!(
        serde_json::to_value(&nodes).ok(),
        serde_json::to_value(reference).ok(),
        "the fast KDL reader disagrees with the kdl crate on {text:?}"
    );
    Some(nodes)
}

/// Parses with the kdl crate: the reference reader, and the one that explains syntax errors.
fn parse_with_kdl(
    file: FileId,
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<Node>> {
    match bounded::parse(text) {
        Ok(chunks) => {
            let mut nodes = Vec::new();
            for chunk in chunks {
                if let bounded::Chunk::Parsed {
                    offset, document, ..
                } = chunk
                {
                    let mut converter = Converter {
                        file,
                        text,
                        offset,
                        diagnostics,
                    };
                    nodes.extend(converter.document(&document));
                }
            }
            Some(nodes)
        }
        Err(broken) => {
            // The kdl crate reads a `)` that closes nothing as the end of the document, and
            // reports the blocks around it unclosed: it is the one problem, said so.
            if let Some(at) = stray_close_paren(text) {
                diagnostics.push(
                    Diagnostic::error(Code::Syntax, "a `)` that closes nothing")
                        .at(Span::new(file, at, at + 1), "nothing opened it")
                        .help("in KDL `(` opens only a type annotation, like `(u8)5`: remove this `)`")
                        .note("envc files are KDL v2: https://kdl.dev"),
                );
                return None;
            }
            diagnostics.extend(at_most_shown(
                broken
                    .into_iter()
                    .flat_map(|chunk| kdl_problems(file, chunk))
                    .collect(),
            ));
            None
        }
    }
}

/// Where the first `)` outside strings, comments and type annotations is: it closes
/// nothing, as every `(…)` the lexer reads is an annotation with its own `)`.
fn stray_close_paren(text: &str) -> Option<usize> {
    lexer::spanned(text)
        .into_iter()
        .find_map(|(at, token)| match token {
            lexer::Token::Atom(atom) if atom.starts_with(')') => Some(at),
            _ => None,
        })
}

/// The kdl crate's syntax errors of a node that did not parse, as diagnostics.
fn kdl_problems(file: FileId, chunk: bounded::Chunk) -> Vec<Diagnostic> {
    let (offset, error) = match chunk {
        bounded::Chunk::Broken { offset, error } => (offset, error),
        bounded::Chunk::TooLong(range) => {
            return vec![Diagnostic::error(
                Code::NodeTooLong,
                format!(
                    "this node is {} KiB long, and not KDL envc reads at that length",
                    range.len() / 1024
                ),
            )
            // Its first character: a label over the whole node would be unreadable.
            .at(Span::new(file, range.start, range.start + 1), "it starts here")
            .help(format!(
                "envc explains syntax errors in nodes up to {} KiB, and reads longer ones written plainly \
                 (without `/-`, raw or multi-line strings and line continuations): check this node's \
                 braces and quotes, or split it",
                bounded::MAX_NODE / 1024
            ))];
        }
        bounded::Chunk::Seen(found) => {
            return found
                .into_iter()
                .map(|problem| {
                    let span = Span::new(file, problem.at, problem.at + problem.len);
                    Diagnostic::error(Code::Syntax, problem.what)
                        .at(span, problem.label)
                        .help(problem.help)
                        .note("envc files are KDL v2: https://kdl.dev")
                })
                .collect();
        }
        bounded::Chunk::Parsed { .. } => return Vec::new(),
    };
    error
        .diagnostics
        .into_iter()
        .map(|kdl_diagnostic| {
            let span = Span::from_miette(file, kdl_diagnostic.span).shifted(offset);
            let message = kdl_diagnostic
                .message
                .unwrap_or_else(|| "invalid KDL".to_string());
            let label = kdl_diagnostic.label.unwrap_or_else(|| "here".to_string());
            Diagnostic::error(Code::Syntax, message)
                .at(span, label)
                .maybe_help(kdl_diagnostic.help.filter(|help| !help.trim().is_empty()))
                .note("envc files are KDL v2: https://kdl.dev")
        })
        .collect()
}

/// The KDL syntax problems of a file in `sources`, and nothing envc adds: what `fmt` needs
/// to know before it touches a file.
pub fn syntax_problems(file: FileId, sources: &SourceMap) -> Vec<Diagnostic> {
    kdl_nodes(file, sources).err().unwrap_or_default()
}

/// The kdl crate's nodes of a file in `sources` (as [`bounded::nodes`] gives them), or its
/// syntax problems: what `fmt` compares its new layout with.
pub fn kdl_nodes(file: FileId, sources: &SourceMap) -> Result<Vec<kdl::KdlNode>, Vec<Diagnostic>> {
    let text = &sources.file(file).text;
    if let Some(problem) = depth::check(text, file) {
        return Err(vec![problem]);
    }
    let strict = strict::check(text, file);
    if !strict.is_empty() {
        return Err(at_most_shown(strict));
    }
    match bounded::parse(text) {
        Ok(chunks) => Ok(bounded::nodes_of(chunks)),
        Err(broken) => Err(at_most_shown(
            broken
                .into_iter()
                .flat_map(|chunk| kdl_problems(file, chunk))
                .collect(),
        )),
    }
}

/// The syntax problems shown of one file: the first ones (the rest are often the same
/// mistake read on), then one that says how many more there are.
const MAX_SYNTAX_PROBLEMS: usize = 20;

fn at_most_shown(mut problems: Vec<Diagnostic>) -> Vec<Diagnostic> {
    if problems.len() <= MAX_SYNTAX_PROBLEMS {
        return problems;
    }
    let more = problems.len() - MAX_SYNTAX_PROBLEMS;
    let next = problems[MAX_SYNTAX_PROBLEMS].primary.clone();
    problems.truncate(MAX_SYNTAX_PROBLEMS);
    let summary = Diagnostic::error(
        Code::Syntax,
        format!("{more} more syntax problems follow in this file"),
    )
    .help("fix the ones above first: the rest often follow from them");
    problems.push(match next {
        Some(label) => summary.at(label.span, "the first of them"),
        None => summary,
    });
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Node>, Vec<Diagnostic>, SourceMap) {
        let mut sources = SourceMap::default();
        let file = sources.add("t.kdl", text.to_string());
        let mut diagnostics = Vec::new();
        let nodes = parse_document(file, &sources, &mut diagnostics).unwrap_or_default();
        (nodes, diagnostics, sources)
    }

    #[test]
    fn keeps_spans_of_names_arguments_and_property_values() {
        let (nodes, diagnostics, sources) =
            parse("service \"api\" {\n  scaling min=1 max = 3\n}\n(remove)queue \"old\"");
        assert!(diagnostics.is_empty());
        let service = &nodes[0];
        assert_eq!(sources.text(service.name_span), "service");
        assert_eq!(sources.text(service.args[0].span), "\"api\"");
        let scaling = &service.children.as_ref().unwrap()[0];
        assert_eq!(sources.text(scaling.props[0].value_span), "1");
        assert_eq!(sources.text(scaling.props[1].name_span), "max");
        assert_eq!(sources.text(scaling.props[1].value_span), "3");
        assert_eq!(nodes[1].mode, MergeMode::Remove);
        assert_eq!(sources.text(nodes[1].mode_span.unwrap()), "remove");
    }

    #[test]
    fn syntax_errors_become_diagnostics_with_spans() {
        let (_, diagnostics, sources) = parse("network {\n  cidr 1.\n");
        assert!(!diagnostics.is_empty());
        assert!(diagnostics.iter().all(|d| d.code == Code::Syntax));
        let span = diagnostics[0].primary.as_ref().unwrap().span;
        assert!(span.end <= sources.file(span.file).text.len());
    }

    #[test]
    fn unknown_annotation_suggests_the_near_one() {
        let (_, diagnostics, _) = parse("(repalce)network { cidr \"10.0.0.0/16\" }");
        assert_eq!(diagnostics[0].code, Code::UnknownAnnotation);
        assert_eq!(
            diagnostics[0].help.as_deref(),
            Some("did you mean `replace`?")
        );
    }
}

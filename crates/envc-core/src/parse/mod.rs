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
mod depth;
mod directives;
mod json_spans;
mod kdl_reader;
pub mod kind_rules;
mod kind_schema;
mod kinds;
pub mod lexer;
mod strict;

pub use kinds::ProjectKind;

use std::path::Path;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::files::ReadProblem;
use crate::source::{FileId, SourceMap, Span};
pub use ast::*;

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
    let in_overlay = |path: &str| overlay.keys().any(|key| key.starts_with(path));
    if !root.join("stacks.kdl").is_file() && !env_dir.is_dir() && !in_overlay("stacks.kdl") {
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

    let mut names = match std::fs::read_dir(&env_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".kdl"))
            .collect::<Vec<_>>(),
        // A project not yet written (`init`): its environments are all in the overlay.
        Err(_) if in_overlay("env") => Vec::new(),
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

    // Files are read, then parsed, in parallel; results keep the sorted file order.
    let texts: Vec<(String, Result<String, ReadProblem>)> =
        crate::parallel::map(names, |file_name| {
            let relative = Path::new("env").join(&file_name);
            let text = match overlay.get(&relative) {
                Some(text) => Ok(text.clone()),
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
                diagnostics.push(problem.into_diagnostic(root, &relative, Some(sources)));
                if is_env_name(name) {
                    project.broken_envs.push(name.to_string());
                }
            }
        }
    }
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
                    .help(format!("environment names are lowercase letters, digits and `-`, starting with a letter, at most {MAX_ENV_NAME} characters (they become part of stack names)")),
                );
            None
        };
        (name, file, nodes, found)
    });
    for (name, file, nodes, found) in parsed {
        let valid_name = !found.iter().any(|d| d.code == Code::EnvName);
        diagnostics.extend(found);
        match nodes {
            Some(nodes) => {
                project
                    .envs
                    .push(directives::env_file(name, file, nodes, &mut diagnostics))
            }
            None if valid_name => project.broken_envs.push(name),
            None => {}
        }
    }
    (project, diagnostics)
}

/// The longest environment name: with a project name of 32 and a stack name, it stays in
/// a CloudFormation stack name's 128 characters, and every name the built-ins derive from it
/// fits AWS's limits (those that would not are shortened with a hash; see `fit`).
pub const MAX_ENV_NAME: usize = 40;

/// Environment names become part of CloudFormation stack names.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.len() <= MAX_ENV_NAME
}

fn read(
    root: &Path,
    relative: &Path,
    overlay: &Overlay,
    sources: &mut SourceMap,
) -> Result<FileId, Diagnostic> {
    if let Some(text) = overlay.get(relative) {
        return Ok(sources.add(crate::files::display_path(root, relative), text.clone()));
    }
    match crate::files::read_text(root, relative) {
        Ok(text) => Ok(sources.add(crate::files::display_path(root, relative), text)),
        Err(problem) => Err(problem.into_diagnostic(root, relative, Some(sources))),
    }
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

/// The kdl crate's syntax errors of a node that did not parse, as diagnostics.
fn kdl_problems(file: FileId, chunk: bounded::Chunk) -> Vec<Diagnostic> {
    let (offset, error) = match chunk {
        bounded::Chunk::Broken { offset, error } => (offset, error),
        bounded::Chunk::TooLong(range) => {
            return vec![Diagnostic::error(
                Code::NodeTooLong,
                format!(
                    "this node is {} KiB long and is not valid KDL",
                    range.len() / 1024
                ),
            )
            // Its first character: a label over the whole node would be unreadable.
            .at(Span::new(file, range.start, range.start + 1), "it starts here")
            .help(format!(
                "envc explains syntax errors in nodes up to {} KiB; check this node's braces and quotes, or split it",
                bounded::MAX_NODE / 1024
            ))];
        }
        bounded::Chunk::Unclosed(found) => {
            return found
                .into_iter()
                .map(|problem| {
                    let span = Span::new(file, problem.at, problem.at + problem.len);
                    let closes = problem.what.starts_with("`}`");
                    Diagnostic::error(Code::Syntax, problem.what)
                        .at(
                            span,
                            if closes {
                                "closes nothing"
                            } else {
                                "opened here"
                            },
                        )
                        .help(if closes {
                            "remove it, or open the block it was meant to close"
                        } else {
                            "close it where it was meant to end"
                        })
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

/// The kdl crate's nodes of one top-level chunk of a file as envc's.
struct Converter<'a> {
    file: FileId,
    text: &'a str,
    /// Where the chunk starts in `text`: the kdl crate's spans count from there.
    offset: usize,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Converter<'_> {
    fn span(&self, span: miette::SourceSpan) -> Span {
        Span::from_miette(self.file, span).shifted(self.offset)
    }

    fn document(&mut self, document: &kdl::KdlDocument) -> Vec<Node> {
        document.nodes().iter().map(|n| self.node(n)).collect()
    }

    fn node(&mut self, node: &kdl::KdlNode) -> Node {
        let mut mode = MergeMode::Merge;
        let mut mode_span = None;
        if let Some(ty) = node.ty() {
            let span = self.span(ty.span());
            mode_span = Some(span);
            match MergeMode::from_annotation(ty.value()) {
                Some(m) => mode = m,
                None => self.diagnostics.push({
                    let (help, suggestion) =
                        suggestion(ty.value(), MergeMode::ANNOTATIONS.iter().copied(), || {
                            "envc knows `(replace)`, `(remove)` and `(append)`".to_string()
                        });
                    Diagnostic::error(
                        Code::UnknownAnnotation,
                        format!("unknown annotation `({})`", ty.value()),
                    )
                    .at(span, "not an envc annotation")
                    .help(help)
                    .suggest(suggestion)
                }),
            }
        }

        let mut args = Vec::new();
        let mut props: Vec<Property> = Vec::new();
        for entry in node.entries() {
            if let Some(ty) = entry.ty() {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownAnnotation,
                        format!(
                            "envc does not use value annotations like `({})`",
                            ty.value()
                        ),
                    )
                    .at(self.span(ty.span()), "remove this annotation")
                    .help("merge annotations go before the node name: `(replace)network { … }`"),
                );
            }
            let value = scalar(entry.value());
            let span = self.span(entry.span());
            if let kdl::KdlValue::Integer(i) = entry.value() {
                if i64::try_from(*i).is_err() {
                    self.diagnostics.push(
                        Diagnostic::error(Code::Number, "this number is too large")
                            .at(span, "it does not fit in 64 bits")
                            .help("write a number within the setting's range"),
                    );
                }
            }
            match entry.name() {
                None => args.push(Argument { value, span }),
                Some(name) => {
                    let name_span = self.span(name.span());
                    let value_span = self.value_span(entry, span, name_span);
                    if let Some(first) = props.iter().find(|p| p.name == name.value()) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                Code::DuplicateProperty,
                                format!("property `{}` is given twice", name.value()),
                            )
                            .at(name_span, "given again here")
                            .also(first.name_span, "first given here")
                            .help("keep one of them"),
                        );
                        continue;
                    }
                    props.push(Property {
                        name: name.value().to_string(),
                        name_span,
                        value,
                        value_span,
                    });
                }
            }
        }

        let children = node
            .children()
            .map(|doc| doc.nodes().iter().map(|n| self.node(n)).collect());
        let node_span = self.span(node.span());
        Node {
            name: node.name().value().to_string(),
            name_span: self.span(node.name().span()),
            mode,
            mode_span,
            args,
            props,
            children,
            span: node_span,
        }
    }

    /// The span of the value in `name=value`: the value as written ends the entry.
    fn value_span(&self, entry: &kdl::KdlEntry, entry_span: Span, name: Span) -> Span {
        let written = entry.format().map_or(0, |f| f.value_repr.len());
        let start = if written > 0 && entry_span.end >= name.end + written {
            entry_span.end - written
        } else {
            // Without the written form: after the `=` and any spaces.
            let rest = self.text.get(name.end..entry_span.end).unwrap_or("");
            rest.find('=')
                .map(|eq| {
                    let value = rest[eq + 1..].trim_start();
                    entry_span.end - value.len()
                })
                .unwrap_or(name.end)
        };
        Span::new(self.file, start, entry_span.end)
    }
}

fn scalar(value: &kdl::KdlValue) -> Scalar {
    match value {
        kdl::KdlValue::String(s) => Scalar::String(s.clone()),
        kdl::KdlValue::Integer(i) => i64::try_from(*i)
            .map(Scalar::Integer)
            .unwrap_or(Scalar::Float(*i as f64)),
        kdl::KdlValue::Float(f) => Scalar::Float(*f),
        kdl::KdlValue::Bool(b) => Scalar::Bool(*b),
        kdl::KdlValue::Null => Scalar::Null,
    }
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

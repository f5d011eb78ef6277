//! `envc fmt`: one canonical layout for `.kdl` files (see [`layout`]).
//!
//! Only whitespace changes. Every comment, `/-` and value is written back as it was, and
//! before anything is written the new text is read again and must hold the same nodes,
//! values and comments as the old, so formatting can never change what a file means. A file
//! with a syntax error is reported and left alone.

mod layout;

use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::parse::lexer::{self, Token};
use crate::source::{FileId, SourceMap, Span};

/// One file's text and its canonical layout.
pub struct FormattedFile {
    /// Relative to the project root, as diagnostics show it.
    pub path: PathBuf,
    pub file: FileId,
    pub formatted: String,
}

impl FormattedFile {
    pub fn is_changed(&self, sources: &SourceMap) -> bool {
        sources.file(self.file).text.as_str() != self.formatted
    }
}

/// The canonical layout of `text`, which must be valid KDL v2.
pub fn layout_of(text: &str) -> String {
    layout::layout(&lexer::tokens(text))
}

/// Formats the file `file` of `sources`: its new text, or why it is left alone.
pub fn format_file(file: FileId, sources: &SourceMap) -> Result<String, Vec<Diagnostic>> {
    let before = crate::parse::kdl_nodes(file, sources)?;
    let text = sources.file(file).text.as_str();
    let formatted = layout_of(text);
    if formatted != text && !reads_the_same(text, before, &formatted) {
        return Err(vec![meaning_changed(file, sources)]);
    }
    Ok(formatted)
}

/// The refusal of a layout that would change what `file` says: a bug of the formatter's,
/// which leaves the file as it is.
fn meaning_changed(file: FileId, sources: &SourceMap) -> Diagnostic {
    Diagnostic::error(
        Code::FormatMeaning,
        format!(
            "`{}` is left as it is: its new layout would not read the same",
            sources.file(file).display_path()
        ),
    )
    .at(Span::new(file, 0, 0), "in this file")
    .help("this is a bug in `envc fmt`; please report it with this file")
}

/// Whether two texts (the first read as `before_nodes`) hold the same KDL nodes and the
/// same comments, in order.
fn reads_the_same(before: &str, before_nodes: Vec<kdl::KdlNode>, after: &str) -> bool {
    let cleared = |mut nodes: Vec<kdl::KdlNode>| {
        nodes
            .iter_mut()
            .for_each(kdl::KdlNode::clear_format_recursive);
        nodes
    };
    let comments = |text: &str| -> Vec<String> {
        lexer::tokens(text)
            .into_iter()
            .filter_map(|t| match t {
                Token::LineComment(c) => Some(c.trim_end().to_string()),
                Token::BlockComment(c) => Some(c.to_string()),
                Token::Slashdash => Some("/-".to_string()),
                _ => None,
            })
            .collect()
    };
    crate::parse::bounded::nodes(after).is_some_and(|after_nodes| {
        cleared(after_nodes) == cleared(before_nodes) && comments(before) == comments(after)
    })
}

/// The `.kdl` files `envc fmt` works on: under each of `paths` (files, or folders searched
/// for `.kdl` files, skipping hidden folders and `target`), or the project's own
/// (`stacks.kdl` and `env/`) when none is given. Sorted, relative to `root` where they are
/// inside it.
pub fn files_to_format(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut found = Vec::new();
    if paths.is_empty() {
        if root.join("stacks.kdl").is_file() {
            found.push(PathBuf::from("stacks.kdl"));
        }
        collect_kdl(root, Path::new("env"), &mut found)?;
    }
    for path in paths {
        let path = &inside_project(root, path)?;
        if root.join(path).is_dir() {
            collect_kdl(root, path, &mut found)?;
        } else if root.join(path).is_file() {
            found.push(path.clone());
        } else {
            return Err(Diagnostic::error(
                Code::Io,
                format!("there is no file or folder `{}`", path.display()),
            )
            .help("name `.kdl` files or folders that hold them"));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// `path` (as given on the command line) relative to the project `root`, when it is inside
/// it: `fmt` writes only the project's files.
fn inside_project(root: &Path, path: &Path) -> Result<PathBuf, Diagnostic> {
    let resolved_root = std::fs::canonicalize(if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    });
    let resolved = std::fs::canonicalize(root.join(path));
    match (resolved_root, resolved) {
        (Ok(resolved_root), Ok(resolved)) if !resolved.starts_with(&resolved_root) => {
            Err(Diagnostic::error(
                Code::FileRefused,
                format!("`{}` is outside the project", path.display()),
            )
            .help(format!(
                "`envc fmt` formats the files of the project in `{}`; run it with `-C` in the project that holds this file",
                root.display()
            )))
        }
        _ if path.is_absolute() => Ok(path
            .strip_prefix(root)
            .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)),
        _ => Ok(path.to_path_buf()),
    }
}

fn collect_kdl(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), Diagnostic> {
    let full = root.join(dir);
    if !full.is_dir() {
        return Ok(());
    }
    let entries = std::fs::read_dir(&full).map_err(|e| {
        Diagnostic::error(Code::Io, format!("cannot read `{}`: {e}", dir.display()))
    })?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = dir.join(&name);
        // Not followed: a link may lead out of the project, or round in a circle.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && !name.starts_with('.') && name != "target" {
            collect_kdl(root, &relative, found)?;
        } else if kind.is_file() && name.ends_with(".kdl") {
            found.push(relative);
        }
    }
    Ok(())
}

/// Reads and formats `paths` (relative to `root`): each file's canonical text, and the
/// problems of files that are left alone.
pub fn format_paths(
    root: &Path,
    paths: &[PathBuf],
    sources: &mut SourceMap,
) -> (Vec<FormattedFile>, Vec<Diagnostic>) {
    let mut formatted = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let file = match crate::files::read_text(root, path) {
            Ok(text) => sources.add(crate::files::display_path(root, path), text),
            Err(problem) => {
                problems.push(problem.into_diagnostic(root, path, Some(sources)));
                continue;
            }
        };
        match format_file(file, sources) {
            Ok(text) => formatted.push(FormattedFile {
                path: path.clone(),
                file,
                formatted: text,
            }),
            Err(found) => problems.extend(found),
        }
    }
    (formatted, problems)
}

/// `fmt --check`: a diagnostic at the first line of `file` whose layout would change.
pub fn unformatted(file: &FormattedFile, sources: &SourceMap) -> Diagnostic {
    let text = sources.file(file.file).text.as_str();
    let mut start = 0;
    let mut old_lines = text.split_inclusive('\n');
    let mut new_lines = file.formatted.split_inclusive('\n');
    let mut differing = "";
    loop {
        match (old_lines.next(), new_lines.next()) {
            (Some(old), Some(new)) if old == new => start += old.len(),
            (Some(old), _) => {
                differing = old;
                break;
            }
            _ => break,
        }
    }
    let end = start + differing.trim_end_matches(['\n', '\r']).len();
    Diagnostic::error(
        Code::Unformatted,
        format!(
            "`{}` is not formatted",
            sources.file(file.file).display_path()
        ),
    )
    .at(
        Span::new(file.file, start, end),
        "laid out differently from here",
    )
    .help("run `envc fmt` to lay it out the one way envc writes KDL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_canonical() {
        let text = "a   1  key = 2{\n  b\n\n\n\n  c;d }\n(replace)e\n\n";
        assert_eq!(
            layout_of(text),
            "a 1 key=2 {\n    b\n\n    c\n    d\n}\n(replace)e\n"
        );
    }

    #[test]
    fn a_change_of_meaning_is_noticed() {
        let same = |before: &str, after: &str| {
            let nodes = crate::parse::bounded::nodes(before).expect("valid");
            reads_the_same(before, nodes, after)
        };
        assert!(same("a 1 // x\n", "a 1\t// x\n"));
        assert!(!same("a 1 // x\n", "a 1\n"));
        assert!(!same("a 1\nb\n", "a 1 b\n"));
        // What a slashdashed block holds counts too, wherever the text splits.
        assert!(same("a /-{ b 1 }; c\n", "a /-{\n    b 1\n}\nc\n"));
        assert!(!same("a /-{ b 1 }\n", "a /-{ b 2 }\n"));
    }

    #[test]
    fn a_slashdash_glued_to_a_value_ends_its_node() {
        // The kdl crate reads `#true/-` as the end of `abstract`, with the `/-` commenting
        // out the next node; `#true /-` would comment out an argument instead.
        for (text, laid_out) in [
            (
                "abstract #true/-\ndomain \"x\"\nb\n",
                "abstract #true\n/-\ndomain \"x\"\nb\n",
            ),
            ("a k=#null/-b 2\nc\n", "a k=#null\n/-b 2\nc\n"),
            ("a {\n}/-b\nc\n", "a {} /-b\nc\n"),
        ] {
            assert_eq!(layout_of(text), laid_out);
            let nodes = crate::parse::bounded::nodes(text).expect("valid");
            assert!(reads_the_same(text, nodes, laid_out), "{text:?}");
            assert_eq!(layout_of(laid_out), laid_out);
        }
    }

    #[test]
    fn a_layout_that_would_change_the_meaning_is_refused_at_the_file() {
        let mut sources = SourceMap::default();
        let file = sources.add("env/dev.kdl", "a 1\n".to_string());
        let refused = meaning_changed(file, &sources);
        assert_eq!(refused.code.as_str(), "envc::fmt::meaning");
        assert!(
            refused.message.contains("`env/dev.kdl` is left as it is"),
            "{}",
            refused.message
        );
    }
}

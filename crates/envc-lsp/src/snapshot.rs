//! What a request is answered from: the latest analysis, the run completion falls back on
//! while a buffer does not parse, and the buffers, borrowed from the server for one answer
//! (rust-analyzer's world snapshot). Handlers take a snapshot, never the server, so they
//! cannot change what it holds, and what they read stays as it was while they answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use envc_core::parse::Overlay;

use crate::publish::ResourceTypes;
use crate::{position, Analysis, Encoding};

/// The server's state as one request sees it.
pub struct Snapshot<'a> {
    pub analysis: &'a Analysis,
    /// The last run in which every file parsed, while a buffer has a syntax error.
    pub fallback: Option<&'a Analysis>,
    pub root: &'a Path,
    pub encoding: Encoding,
    /// Open buffers of project files, by path relative to the root.
    pub overlay: &'a Overlay,
    /// Open buffers outside the project (only formatted), by absolute path.
    pub loose: &'a BTreeMap<PathBuf, String>,
    /// The type of each resource the latest full check rendered (what an `override` names).
    pub resource_types: Arc<ResourceTypes>,
}

/// A project file an editor asks about.
pub struct Document<'a> {
    pub file: envc_core::source::FileId,
    pub text: &'a str,
    pub relative: PathBuf,
}

impl Snapshot<'_> {
    /// The buffer's text (or the file's, when it is not open) and, for project files, its
    /// file in the analysis.
    pub fn document(&self, uri: &lsp_types::Uri) -> Option<Document<'_>> {
        let relative = project_path(self.root, uri)?;
        let file = self.analysis.file_at(&relative)?;
        Some(Document {
            file,
            text: self.analysis.text(file),
            relative,
        })
    }

    /// The environment of `document` and those that inherit it, from the latest run in
    /// which they resolved.
    pub fn lineage(&self, document: &Document) -> Vec<&envc_core::resolve::ResolvedEnv> {
        let name = document
            .relative
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let Some(name) = name else {
            return Vec::new();
        };
        let latest = self.analysis.lineage(&name);
        match &self.fallback {
            Some(fallback) if latest.is_empty() => fallback.lineage(&name),
            _ => latest,
        }
    }

    pub fn offset(&self, document: &Document, position: lsp_types::Position) -> usize {
        position::offset(document.text, position, self.encoding)
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> lsp_types::Range {
        position::range(text, start, end, self.encoding)
    }

    pub fn location(&self, span: envc_core::source::Span) -> lsp_types::Location {
        let file = self.analysis.checked.sources.file(span.file);
        let path = self.root.join(&file.path);
        lsp_types::Location::new(
            position::uri_of(&path),
            self.range(&file.text, span.start, span.end),
        )
    }

    /// `envc fmt` of the buffer: one edit of the whole text, none when it is formatted or
    /// not KDL.
    pub fn formatting(&self, uri: &lsp_types::Uri) -> Option<Vec<lsp_types::TextEdit>> {
        let text = match project_path(self.root, uri) {
            Some(relative) => match self.overlay.get(&relative) {
                Some(text) => text.clone(),
                // Only a regular file inside the project, of a size envc reads: never a FIFO.
                None => envc_core::files::read_text(self.root, &relative).ok()?,
            },
            None => self.loose.get(&position::path_of(uri)?)?.clone(),
        };
        // A buffer larger than envc reads from a file is not laid out (its problem is shown).
        envc_core::files::check_text_size(Path::new("buffer.kdl"), &text).ok()?;
        let mut sources = envc_core::source::SourceMap::default();
        let file = sources.add("buffer.kdl", text.clone());
        let formatted = envc_core::format::format_file(file, &sources).ok()?;
        let whole = self.range(&text, 0, text.len());
        Some(if formatted == text {
            Vec::new()
        } else {
            vec![lsp_types::TextEdit::new(whole, formatted)]
        })
    }
}

/// The path of `uri` relative to the project in `root`, when it is a project file.
pub(crate) fn project_path(root: &Path, uri: &lsp_types::Uri) -> Option<PathBuf> {
    let path = position::path_of(uri)?;
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let relative = path.strip_prefix(root).ok()?.to_path_buf();
    let in_project = relative == Path::new("stacks.kdl")
        || (relative.parent() == Some(Path::new("env"))
            && relative.extension().is_some_and(|e| e == "kdl"));
    in_project.then_some(relative)
}

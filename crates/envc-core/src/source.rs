//! Source files of a project and byte spans into them.
//!
//! Every span in envc names the file it points into, so a diagnostic or a provenance record
//! can always be turned into `path:line:column` and a source snippet.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    pub fn from_miette(file: FileId, span: miette::SourceSpan) -> Self {
        Span::new(file, span.offset(), span.offset() + span.len())
    }

    /// The same span, `by` bytes later.
    pub fn shifted(self, by: usize) -> Self {
        Span::new(self.file, self.start + by, self.end + by)
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One loaded source file: its path relative to the project root and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<String>,
    /// Where each line starts, found when a line and column is first asked for (most
    /// rendered text never is).
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    fn new(path: PathBuf, text: String) -> Self {
        SourceFile {
            path,
            text: Arc::new(text),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// Line and column of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line_starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = line_starts.partition_point(|&s| s <= offset) - 1;
        let start = line_starts[line];
        let column = self.text[start..floor_char_boundary(&self.text, offset)]
            .chars()
            .count()
            + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// Path as shown to users, with forward slashes.
    pub fn display_path(&self) -> String {
        self.path.to_string_lossy().replace('\\', "/")
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// All files read in one run.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The id of `files[0]`: a scratch map made for parallel work numbers its files after
    /// the map it will be absorbed into, so ids of either never clash.
    first: u32,
}

impl SourceMap {
    /// An empty map for work done beside this one, to [`absorb`](Self::absorb) afterwards;
    /// spans into this map stay valid.
    pub fn scratch(&self) -> SourceMap {
        SourceMap {
            files: Vec::new(),
            first: self.first + self.files.len() as u32,
        }
    }

    pub fn add(&mut self, path: impl AsRef<Path>, text: String) -> FileId {
        let id = FileId(self.first + self.files.len() as u32);
        self.files
            .push(SourceFile::new(path.as_ref().to_path_buf(), text));
        id
    }

    /// The file already loaded from `path`, or a new one with `text`.
    pub fn add_once(&mut self, path: impl AsRef<Path>, text: &str) -> FileId {
        match self.files.iter().position(|f| f.path == path.as_ref()) {
            Some(i) => FileId(self.first + i as u32),
            None => self.add(path, text.to_string()),
        }
    }

    /// The file of an id from this map (or from the map it is a scratch of).
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        let index = id.0.checked_sub(self.first)?;
        self.files.get(index as usize)
    }

    /// The file of an id from this map; an id from another map (a bug, never a panic) is an
    /// empty file named `<unknown file>`.
    pub fn file(&self, id: FileId) -> &SourceFile {
        static UNKNOWN: std::sync::LazyLock<SourceFile> = std::sync::LazyLock::new(|| {
            SourceFile::new(PathBuf::from("<unknown file>"), String::new())
        });
        self.get(id).unwrap_or(&UNKNOWN)
    }

    pub fn text(&self, span: Span) -> &str {
        let text = &self.file(span.file).text;
        text.get(span.start..span.end).unwrap_or("")
    }

    /// `path:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> String {
        let file = self.file(span.file);
        let at = file.line_col(span.start);
        format!("{}:{}:{}", file.display_path(), at.line, at.column)
    }

    /// Moves every file of a [`scratch`](Self::scratch) map into this one; returns how ids
    /// into it change (ids into this map stay as they are).
    pub fn absorb(&mut self, other: SourceMap) -> impl Fn(FileId) -> FileId {
        let (from, to) = (other.first, self.first + self.files.len() as u32);
        self.files.extend(other.files);
        move |id: FileId| {
            if id.0 >= from {
                FileId(id.0 - from + to)
            } else {
                id
            }
        }
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        let first = self.first;
        self.files
            .iter()
            .enumerate()
            .map(move |(i, f)| (FileId(first + i as u32), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let mut map = SourceMap::default();
        let id = map.add("a.kdl", "ab\ncdé\nx".to_string());
        let file = map.file(id);
        assert_eq!(file.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(file.line_col(3), LineCol { line: 2, column: 1 });
        assert_eq!(file.line_col(7), LineCol { line: 2, column: 4 });
        assert_eq!(file.line_col(8), LineCol { line: 3, column: 1 });
        assert_eq!(file.line_col(99), LineCol { line: 3, column: 2 });
        assert_eq!(map.location(Span::new(id, 4, 5)), "a.kdl:2:2");
    }

    #[test]
    fn scratch_maps_absorb_without_clashing_ids() {
        let mut map = SourceMap::default();
        let kept = map.add("stacks.kdl", "a".into());
        let mut one = map.scratch();
        let mut two = map.scratch();
        let in_one = one.add("one", "1".into());
        let in_two = two.add("two", "2".into());
        assert_eq!(in_one, in_two, "scratch maps number alike");
        let rename = map.absorb(one);
        assert_eq!(map.file(rename(in_one)).path, Path::new("one"));
        assert_eq!(rename(kept), kept);
        let rename = map.absorb(two);
        assert_eq!(map.file(rename(in_two)).path, Path::new("two"));
        assert_eq!(map.file(kept).path, Path::new("stacks.kdl"));
    }
}

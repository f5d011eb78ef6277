//! Reading a project's files: only regular files inside the project root, within a size
//! limit, as UTF-8; writing them whole, inside the root ([`Gate`]); and how their paths are
//! shown.
//!
//! Every stage that reads the project goes through [`read_bytes`], so a FIFO cannot block a
//! run, a device cannot fill memory, and a symlink cannot show a file from outside the
//! project in a diagnostic. Invalid UTF-8 is a located diagnostic, not an I/O error.

mod write;

pub use write::Gate;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceMap, Span};

/// The largest file envc reads. An environment file is a few kilobytes, a generated
/// template some tens; CloudFormation's own limit for a template is 1 MB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a project file was not read.
#[derive(Debug)]
pub enum ReadProblem {
    /// Not there (or not readable): callers decide whether that is a problem.
    Missing(std::io::Error),
    /// There, but envc refuses it (a FIFO, a device, a symlink out of the project, too
    /// large). The diagnostic says why.
    Refused(Box<Diagnostic>),
    /// Read, but not UTF-8: the bytes, to point at the first bad one.
    NotUtf8(std::string::FromUtf8Error),
}

impl ReadProblem {
    /// The problem as a diagnostic at `relative` of `root`. Text that is not UTF-8 is added
    /// to `sources` (with replacement characters), when given, so the diagnostic points at
    /// the first bad byte.
    pub fn into_diagnostic(
        self,
        root: &Path,
        relative: &Path,
        sources: Option<&mut SourceMap>,
    ) -> Diagnostic {
        let shown = crate::files::display_path(root, relative);
        match self {
            ReadProblem::Missing(err) => Diagnostic::error(
                Code::Io,
                format!("cannot read `{}`: {err}", relative.display()),
            ),
            ReadProblem::Refused(diagnostic) => *diagnostic,
            ReadProblem::NotUtf8(err) => {
                let diagnostic = Diagnostic::error(
                    Code::Encoding,
                    format!("`{}` is not valid UTF-8", shown.display()),
                )
                .help("envc files are UTF-8 text; save the file as UTF-8");
                let Some(sources) = sources else {
                    return diagnostic;
                };
                let bad = err.utf8_error().valid_up_to();
                let file =
                    sources.add(&shown, String::from_utf8_lossy(err.as_bytes()).into_owned());
                // The replacement character ends the span.
                let end = bad + char::REPLACEMENT_CHARACTER.len_utf8();
                diagnostic.at(
                    Span::new(file, bad, end),
                    "the first byte that is not UTF-8",
                )
            }
        }
    }
}

/// The text of `root/relative`.
pub fn read_text(root: &Path, relative: &Path) -> Result<String, ReadProblem> {
    String::from_utf8(read_bytes(root, relative)?).map_err(ReadProblem::NotUtf8)
}

/// The bytes of `root/relative`, when it is a regular file inside `root` and not too large.
pub fn read_bytes(root: &Path, relative: &Path) -> Result<Vec<u8>, ReadProblem> {
    let path = root.join(relative);
    let shown = crate::files::display_path(root, relative);
    let shown = shown.as_path();
    let link = std::fs::symlink_metadata(&path).map_err(ReadProblem::Missing)?;
    if link.file_type().is_symlink() {
        check_inside(root, &path, shown)?;
    }
    // Following the link now: what it points at must be a regular file too.
    let meta = std::fs::metadata(&path).map_err(ReadProblem::Missing)?;
    if !meta.is_file() {
        return Err(ReadProblem::Refused(Box::new(refused(
            shown,
            &format!("it is {}, not a regular file", kind_of(&meta)),
            "envc reads only regular files; replace it with one",
        ))));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadProblem::Refused(Box::new(too_large(shown))));
    }
    let file = std::fs::File::open(&path).map_err(ReadProblem::Missing)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file can grow between the look and the read: never read past the limit.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadProblem::Missing)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadProblem::Refused(Box::new(too_large(shown))));
    }
    Ok(bytes)
}

fn check_inside(root: &Path, path: &Path, shown: &Path) -> Result<(), ReadProblem> {
    if resolves_inside(root, path) {
        return Ok(());
    }
    if std::fs::metadata(path).is_err() {
        return Err(ReadProblem::Refused(Box::new(refused(
            shown,
            "it is a symbolic link to nothing (its target does not exist)",
            "point the link at a file of the project, or replace it with the file",
        ))));
    }
    Err(ReadProblem::Refused(Box::new(refused(
        shown,
        "it is a symbolic link to a file outside the project",
        "envc reads only files inside the project; copy the file into the project instead of linking to it",
    ))))
}

fn resolves_inside(root: &Path, path: &Path) -> bool {
    let (Ok(root), Ok(target)) = (canonical(root), canonical(path)) else {
        return false;
    };
    target.starts_with(root)
}

fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    })
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

fn refused(shown: &Path, why: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        Code::FileRefused,
        format!("envc does not read `{}`: {why}", shown.display()),
    )
    .help(help)
}

/// Refuses a text held in memory (an editor's unsaved buffer) as [`read_bytes`] refuses a
/// file larger than [`MAX_FILE_BYTES`]: nothing longer is parsed.
pub fn check_text_size(shown: &Path, text: &str) -> Result<(), Diagnostic> {
    if text.len() as u64 > MAX_FILE_BYTES {
        Err(too_large(shown))
    } else {
        Ok(())
    }
}

fn too_large(shown: &Path) -> Diagnostic {
    refused(
        shown,
        &format!(
            "it is larger than {} MiB, the most envc reads from one file",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        "split it, or check that it is the file you meant",
    )
}

/// The path of `relative` inside a project, as shown to users.
pub fn display_path(root: &Path, relative: &Path) -> PathBuf {
    if root == Path::new(".") || root.as_os_str().is_empty() {
        relative.to_path_buf()
    } else {
        root.join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_regular_file_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "secret").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out.kdl")).unwrap();
        std::fs::write(dir.path().join("in.kdl"), "a 1").unwrap();
        std::os::unix::fs::symlink("in.kdl", dir.path().join("link.kdl")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.kdl")).unwrap();
        let read = |name: &str| read_text(dir.path(), Path::new(name));
        assert_eq!(read("in.kdl").unwrap(), "a 1");
        assert_eq!(read("link.kdl").unwrap(), "a 1");
        for refused in ["out.kdl", "zero.kdl"] {
            match read(refused) {
                Err(ReadProblem::Refused(d)) => assert_eq!(d.code, Code::FileRefused),
                other => panic!("{refused}: {other:?}"),
            }
        }
        assert!(matches!(read("none.kdl"), Err(ReadProblem::Missing(_))));
    }

    #[test]
    fn refuses_a_file_over_the_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b' '; MAX_FILE_BYTES as usize + 1];
        std::fs::write(dir.path().join("big.kdl"), big).unwrap();
        let read = read_text(dir.path(), Path::new("big.kdl"));
        match read {
            Err(ReadProblem::Refused(d)) => {
                assert_eq!(d.code, Code::FileRefused);
                assert!(d.message.contains("larger than 4 MiB"), "{}", d.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_points_at_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.kdl"), b"a 1\nb \"\xff\"\n").unwrap();
        let mut sources = SourceMap::default();
        let Err(problem) = read_text(dir.path(), Path::new("a.kdl")) else {
            panic!("read");
        };
        let d = problem.into_diagnostic(dir.path(), Path::new("a.kdl"), Some(&mut sources));
        assert_eq!(d.code, Code::Encoding);
        let span = d.primary.unwrap().span;
        assert!(
            sources.location(span).ends_with("a.kdl:2:4"),
            "{}",
            sources.location(span)
        );
    }
}

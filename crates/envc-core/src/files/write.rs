//! The one way envc changes a project's files: every write and every deletion goes through a
//! [`Gate`] on the project root.
//!
//! It guarantees, for a repository that may hold hostile links:
//! - nothing outside the root is written or deleted: the folder a file goes into resolves
//!   inside the root (links included), and a link to a file is written through only when
//!   its target is inside the root too;
//! - a link is never replaced by a copy, and never followed out of the project;
//! - a file is written whole or not at all: a temporary file, created exclusively (so a link
//!   planted under its name is never followed) in the target's folder, with the target's
//!   permissions, then renamed over it;
//! - [`Gate::create_all`] writes a set of new files, or, when one fails, leaves none of them;
//!   [`Gate::write_all`] writes a set of files, new or not, all or none.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};

/// Writes and deletes inside one project root.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The root, with every link resolved: what "inside" is measured against.
    root: PathBuf,
    /// The root as the user named it, for messages.
    shown_root: PathBuf,
}

impl Gate {
    /// A gate on `root`, which must exist.
    pub fn new(root: &Path) -> Result<Gate, Diagnostic> {
        let named = if root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            root
        };
        let resolved = std::fs::canonicalize(named).map_err(|e| {
            Diagnostic::error(Code::Io, format!("cannot open `{}`: {e}", named.display()))
        })?;
        Ok(Gate {
            root: resolved,
            shown_root: root.to_path_buf(),
        })
    }

    /// Writes `bytes` at `relative`, creating its folders.
    pub fn write(&self, relative: &Path, bytes: &[u8]) -> Result<(), Diagnostic> {
        let target = self.target(relative)?;
        self.create_folders(relative, target.parent().unwrap_or(&self.root))?;
        write_through_temp(&target, bytes).map_err(|e| self.cannot("write", relative, &e))
    }

    /// Writes each of `files` (paths relative to the root), none of which may exist. When one
    /// exists or cannot be written, none is left: the ones written are removed, and so are
    /// the folders made for them.
    pub fn create_all(&self, files: &[(PathBuf, String)]) -> Result<Vec<PathBuf>, Diagnostic> {
        for (relative, _) in files {
            let path = self.root.join(relative);
            if std::fs::symlink_metadata(&path).is_ok() {
                return Err(Diagnostic::error(
                    Code::Io,
                    format!("`{}` exists already", self.shown(relative).display()),
                )
                .help(
                    "envc writes only new files here; move that one away, or choose another folder",
                ));
            }
        }
        let mut made = Made::default();
        for (relative, text) in files {
            let written = self.target(relative).and_then(|target| {
                made.folders
                    .extend(self.create_folders(relative, target.parent().unwrap_or(&self.root))?);
                create_new(&target, text.as_bytes())
                    .map_err(|e| self.cannot("write", relative, &e))?;
                Ok(target)
            });
            match written {
                Ok(target) => made.files.push(target),
                Err(problem) => {
                    made.undo();
                    return Err(problem);
                }
            }
        }
        Ok(files.iter().map(|(path, _)| self.shown(path)).collect())
    }

    /// Writes each of `files` whole, as [`Gate::write`] does, and all or none: each goes to a
    /// temporary file beside its target first, and only once every one is written are they
    /// renamed over their targets. When one cannot be written, nothing is changed (the
    /// temporary files and the folders made for them are removed).
    pub fn write_all(&self, files: &[(PathBuf, &[u8])]) -> Result<(), Diagnostic> {
        let mut made = Made::default();
        let mut staged = Vec::with_capacity(files.len());
        for (relative, bytes) in files {
            let temp = self.target(relative).and_then(|target| {
                made.folders
                    .extend(self.create_folders(relative, target.parent().unwrap_or(&self.root))?);
                let temp =
                    write_temp(&target, bytes).map_err(|e| self.cannot("write", relative, &e))?;
                Ok((temp, target))
            });
            match temp {
                Ok((temp, target)) => {
                    made.files.push(temp.clone());
                    staged.push((temp, target, relative));
                }
                Err(problem) => {
                    made.undo();
                    return Err(problem);
                }
            }
        }
        for (at, (temp, target, relative)) in staged.iter().enumerate() {
            if let Err(e) = std::fs::rename(temp, target) {
                for (temp, _, _) in &staged[at..] {
                    let _ = std::fs::remove_file(temp);
                }
                return Err(self.cannot("write", relative, &e));
            }
        }
        Ok(())
    }

    /// Deletes the file (or link: never what it points at) at `relative`.
    pub fn remove_file(&self, relative: &Path) -> Result<(), Diagnostic> {
        let path = self.inside_folder(relative)?;
        std::fs::remove_file(&path).map_err(|e| self.cannot("delete", relative, &e))
    }

    /// Deletes the folder at `relative` when it is empty; one that holds anything stays.
    pub fn remove_empty_folder(&self, relative: &Path) -> Result<bool, Diagnostic> {
        let path = self.inside_folder(relative)?;
        match std::fs::remove_dir(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(false),
            Err(e) => Err(self.cannot("delete", relative, &e)),
        }
    }

    /// Deletes the folder at `relative` and all it holds, following no link.
    pub fn remove_folder(&self, relative: &Path) -> Result<(), Diagnostic> {
        let path = self.inside_folder(relative)?;
        std::fs::remove_dir_all(&path).map_err(|e| self.cannot("delete", relative, &e))
    }

    /// Where writing `relative` lands: its path under the resolved root, or, when it is a
    /// link, the file the link resolves to, which must be inside the root.
    fn target(&self, relative: &Path) -> Result<PathBuf, Diagnostic> {
        let path = self.inside_folder(relative)?;
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let resolved = std::fs::canonicalize(&path)
                    .ok()
                    .filter(|resolved| resolved.starts_with(&self.root) && resolved.is_file());
                resolved.ok_or_else(|| {
                    self.refused(
                        relative,
                        "it is a symbolic link to something outside the project, or to nothing",
                    )
                })
            }
            Ok(meta) if !meta.is_file() => Err(self.refused(relative, "it is not a regular file")),
            _ => Ok(path),
        }
    }

    /// `relative`'s path under the resolved root, when the folder it is in (as far as that
    /// exists) resolves inside the root.
    fn inside_folder(&self, relative: &Path) -> Result<PathBuf, Diagnostic> {
        let relative = self.relative(relative)?;
        let Some(name) = relative.file_name() else {
            return Err(self.refused(&relative, "it names the project folder itself"));
        };
        let parts: Vec<_> = relative
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .collect();
        let mut folder = self.root.clone();
        for (at, part) in parts.iter().enumerate() {
            let next = folder.join(part);
            match std::fs::canonicalize(&next) {
                Ok(resolved) if resolved.starts_with(&self.root) => folder = resolved,
                Ok(_) => {
                    let link: PathBuf = parts[..=at].iter().collect();
                    return Err(self.refused(
                        &relative,
                        &format!(
                            "`{}` is a symbolic link out of the project",
                            self.shown(&link).display()
                        ),
                    ));
                }
                // Missing from here on: `create_folders` makes the rest, inside `folder`.
                Err(_) => {
                    let rest: PathBuf = parts[at..].iter().collect();
                    return Ok(folder.join(rest).join(name));
                }
            }
        }
        Ok(folder.join(name))
    }

    /// Makes the folders up to `folder` (which [`Self::inside_folder`] placed inside the
    /// root); the ones it made, outermost first.
    fn create_folders(&self, relative: &Path, folder: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
        let mut missing = Vec::new();
        let mut at = folder;
        while std::fs::symlink_metadata(at).is_err() {
            missing.push(at.to_path_buf());
            match at.parent() {
                Some(parent) => at = parent,
                None => break,
            }
        }
        missing.reverse();
        for made in &missing {
            std::fs::create_dir(made)
                .map_err(|e| self.cannot("create a folder for", relative, &e))?;
        }
        Ok(missing)
    }

    /// `path` relative to the root, when it stays inside it: absolute paths under the root
    /// are taken as relative to it; `..` and other absolute paths are refused.
    fn relative(&self, path: &Path) -> Result<PathBuf, Diagnostic> {
        let stripped = if path.is_absolute() {
            let resolved = std::fs::canonicalize(path.parent().unwrap_or(path))
                .map(|parent| parent.join(path.file_name().unwrap_or_default()))
                .unwrap_or_else(|_| path.to_path_buf());
            resolved
                .strip_prefix(&self.root)
                .map(Path::to_path_buf)
                .ok()
        } else {
            Some(path.to_path_buf())
        };
        let inside = stripped.filter(|relative| {
            relative
                .components()
                .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
        });
        inside.ok_or_else(|| self.refused(path, "it is outside the project"))
    }

    fn shown(&self, relative: &Path) -> PathBuf {
        super::display_path(&self.shown_root, relative)
    }

    fn refused(&self, relative: &Path, why: &str) -> Diagnostic {
        Diagnostic::error(
            Code::FileRefused,
            format!(
                "envc does not write `{}`: {why}",
                self.shown(relative).display()
            ),
        )
        .help(format!(
            "envc writes only inside the project (`{}`), and never through a link that leaves it",
            self.shown_root.display()
        ))
    }

    fn cannot(&self, what: &str, relative: &Path, error: &std::io::Error) -> Diagnostic {
        Diagnostic::error(
            Code::Io,
            format!(
                "cannot {what} `{}`: {error}",
                self.shown(relative).display()
            ),
        )
    }
}

/// Files and folders made so far, to remove when a later one fails.
#[derive(Default)]
struct Made {
    files: Vec<PathBuf>,
    folders: Vec<PathBuf>,
}

impl Made {
    fn undo(&mut self) {
        for file in self.files.drain(..) {
            let _ = std::fs::remove_file(file);
        }
        // Innermost first; a folder something else was put into meanwhile stays.
        for folder in self.folders.drain(..).rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

/// Writes `target` whole: a temporary file beside it, with its permissions, renamed over it.
fn write_through_temp(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = write_temp(target, bytes)?;
    std::fs::rename(&temp, target).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// A temporary file beside `target` holding `bytes`, with `target`'s permissions.
fn write_temp(target: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let folder = target.parent().unwrap_or(Path::new("."));
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let permissions = std::fs::metadata(target)
        .ok()
        .map(|meta| meta.permissions());
    if permissions.as_ref().is_some_and(|p| p.readonly()) {
        // Replacing it by a rename would need only the folder's permission: a file made
        // read-only is left as it is, as an editor or `gofmt` leaves it.
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "it is read-only",
        ));
    }
    for attempt in 0..100 {
        let temp = folder.join(format!(".{name}.envc-{}-{attempt}.tmp", std::process::id()));
        // Exclusive: fails on anything there under that name, a link included.
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = file.write_all(bytes).and_then(|()| match &permissions {
            Some(permissions) => file.set_permissions(permissions.clone()),
            None => Ok(()),
        });
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        return written.map(|()| temp);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free name for a temporary file beside it",
    ))
}

/// Creates `target`, which must not exist, with `bytes`.
fn create_new(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)?;
    file.write_all(bytes).inspect_err(|_| {
        let _ = std::fs::remove_file(target);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When one file of a set cannot be written, none is: the others keep their old text,
    /// and no temporary file is left beside them.
    #[test]
    fn write_all_writes_every_file_or_none() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.yaml"), "old\n").unwrap();
        std::fs::write(root.path().join("blocked"), "a file, not a folder\n").unwrap();
        let gate = Gate::new(root.path()).unwrap();
        let files: Vec<(PathBuf, &[u8])> = vec![
            (PathBuf::from("a.yaml"), b"new\n"),
            (PathBuf::from("blocked/b.yaml"), b"new\n"),
        ];
        assert!(gate.write_all(&files).is_err());
        let mut names: Vec<String> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.yaml", "blocked"]);
        assert_eq!(
            std::fs::read_to_string(root.path().join("a.yaml")).unwrap(),
            "old\n"
        );

        let files: Vec<(PathBuf, &[u8])> = vec![
            (PathBuf::from("a.yaml"), b"new\n"),
            (PathBuf::from("made/b.yaml"), b"new\n"),
        ];
        gate.write_all(&files).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.path().join("a.yaml")).unwrap(),
            "new\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.path().join("made/b.yaml")).unwrap(),
            "new\n"
        );
    }

    /// A file made read-only is not replaced (a rename needs only the folder's permission).
    #[test]
    fn a_read_only_file_is_left_as_it_is() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("ro.kdl");
        std::fs::write(&path, "old\n").unwrap();
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions).unwrap();
        let gate = Gate::new(root.path()).unwrap();
        let refused = gate.write(Path::new("ro.kdl"), b"new\n").unwrap_err();
        assert!(refused.message.contains("read-only"), "{}", refused.message);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}

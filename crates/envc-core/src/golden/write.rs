//! `render --write`: every rendered stack's golden file written, and the left-over golden
//! files of the environments written deleted. It guarantees:
//! - golden files go only into real folders: a `golden/` or `golden/<env>/` that is a link
//!   or a file is refused before anything is written;
//! - it deletes only `.yaml` files of `golden/<env>/` folders, and a folder only once it is
//!   empty: anything else kept there is the user's;
//! - the files are written all or none (see [`crate::files::Gate::write_all`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::render::RenderedEnv;

use super::{golden_files, revision_file, yaml_files_in};

/// One change `render --write` made to the golden files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoldenChange {
    Wrote(PathBuf),
    Deleted(PathBuf),
}

/// Writes every rendered stack's golden file and deletes the left-overs of the environments
/// rendered. With `prune` (a write of the whole project: every environment that exists),
/// the golden files of environments not in it are deleted too; otherwise nothing outside the
/// rendered environments' folders is touched.
pub fn write(
    root: &Path,
    rendered: &[RenderedEnv],
    prune: Option<&[String]>,
) -> Result<Vec<GoldenChange>, Diagnostic> {
    let gate = crate::files::Gate::new(root)?;
    for env in rendered {
        for folder in [PathBuf::from("golden"), Path::new("golden").join(&env.name)] {
            check_folder(root, &folder, &env.name)?;
        }
    }
    let mut writes: Vec<(PathBuf, &[u8])> = Vec::new();
    let mut deletes = Vec::new();
    for env in rendered {
        let mut keep = BTreeSet::new();
        for stack in &env.stacks {
            keep.insert(stack.golden_path());
            let current = crate::files::read_bytes(root, &stack.golden_path()).ok();
            if current.as_deref() != Some(stack.body.as_bytes()) {
                writes.push((stack.golden_path(), stack.body.as_bytes()));
            }
        }
        let left_over = golden_files(root, &env.name).into_iter();
        deletes.extend(left_over.filter(|file| !keep.contains(file)));
    }
    let revision = revision_file();
    let mut emptied = Vec::new();
    if let Some(all_envs) = prune {
        // A write of the whole project: every golden file is this revision's.
        if crate::files::read_text(root, &revision.0).ok().as_deref() != Some(revision.1.as_str()) {
            writes.push((revision.0.clone(), revision.1.as_bytes()));
        }
        for folder in folders_of_other_envs(root, all_envs) {
            deletes.extend(yaml_files_in(root, &folder));
            emptied.push(folder);
        }
    }
    gate.write_all(&writes)?;
    let mut changes: Vec<GoldenChange> = writes
        .into_iter()
        .map(|(path, _)| GoldenChange::Wrote(path))
        .collect();
    for file in deletes {
        gate.remove_file(&file)?;
        changes.push(GoldenChange::Deleted(file));
    }
    for folder in emptied {
        if gate.remove_empty_folder(&folder)? {
            changes.push(GoldenChange::Deleted(folder));
        }
    }
    Ok(changes)
}

/// A golden folder must be a folder of the project's own, or not exist yet.
fn check_folder(root: &Path, folder: &Path, env: &str) -> Result<(), Diagnostic> {
    let Ok(meta) = std::fs::symlink_metadata(root.join(folder)) else {
        return Ok(());
    };
    let (what, code) = if meta.file_type().is_symlink() {
        ("a symbolic link", Code::FileRefused)
    } else if !meta.is_dir() {
        ("a file", Code::Io)
    } else {
        return Ok(());
    };
    Err(Diagnostic::error(
        code,
        format!(
            "cannot write the golden files of `{env}`: `{}` is {what}, not a folder",
            folder.display()
        ),
    )
    .help(format!(
        "golden files go in a folder of the project's own: replace `{}` with a folder, then run `envc render --write` again",
        folder.display()
    )))
}

/// The folders under `golden/` that are real folders (not links), not hidden, and not of an
/// environment in `all_envs`.
fn folders_of_other_envs(root: &Path, all_envs: &[String]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join("golden")) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.') && !all_envs.contains(name))
        .map(|name| Path::new("golden").join(name))
        .collect();
    folders.sort();
    folders
}

//! Golden files: `golden/<env>/<stack>.yaml`, the committed render of every stack. A stale,
//! missing or left-over golden file is a diagnostic with the diff attached.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::files::ReadProblem;
use crate::render::{RenderedEnv, RenderedStack};
use crate::source::{SourceMap, Span};

mod write;

pub use write::{write, GoldenChange};

/// How long a diff may search for the fewest changed lines. Myers' search grows with the
/// product of the changed regions (a stale golden file with 150,000 replaced lines took 20 s);
/// past this it shows the rest of a region as removed and added whole, which is still a
/// correct diff. A diff of any real render ends in microseconds, far inside it.
const DIFF_SEARCH: std::time::Duration = std::time::Duration::from_millis(300);

/// A unified diff of two texts.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::configure()
        .timeout(DIFF_SEARCH)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// Whether a project compares its renders with committed golden files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoldenUse {
    /// `golden/` holds the committed renders (the default); with stacks of built-in kinds or
    /// not (only those change when envc does).
    Committed { built_in_kinds: bool },
    /// `stacks.kdl` says `golden #false`.
    OptedOut,
}

impl GoldenUse {
    /// What a project's `stacks.kdl` says (committed, when it could not be read).
    pub fn of(stacks: Option<&crate::model::StacksConfig>) -> GoldenUse {
        match stacks {
            Some(stacks) if !stacks.golden => GoldenUse::OptedOut,
            Some(stacks) => GoldenUse::Committed {
                built_in_kinds: stacks.stack.values().any(|s| s.builtin().is_some()),
            },
            None => GoldenUse::Committed {
                built_in_kinds: true,
            },
        }
    }
}

/// What envc renders, numbered: raised with every change to rendered templates, each with
/// its entry in `CHANGELOG.md`.
pub const RENDER_REVISION: u32 = 4;

/// Where `render --write` records the revision that wrote the golden files.
const REVISION_FILE: &str = "golden/.envc-revision";

/// The changelog, for the entries of the revisions a project's golden files predate.
const CHANGELOG: &str = include_str!("../../../../CHANGELOG.md");

/// The file recording that this revision wrote the golden files, and its text.
pub fn revision_file() -> (PathBuf, String) {
    (
        PathBuf::from(REVISION_FILE),
        format!("render-revision {RENDER_REVISION}\n"),
    )
}

/// The render revision that wrote the project's golden files (1 for files from before
/// revisions were recorded).
fn written_revision(root: &Path) -> u32 {
    crate::files::read_text(root, Path::new(REVISION_FILE))
        .ok()
        .and_then(|text| {
            text.trim()
                .strip_prefix("render-revision ")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(1)
}

/// The changelog's entries of the revisions after `since`, newest first: (revision, text).
pub fn changelog_since(since: u32) -> Vec<(u32, String)> {
    let mut entries = Vec::new();
    for section in CHANGELOG.split("\n## Render revision ").skip(1) {
        let (number, text) = section.split_once('\n').unwrap_or((section, ""));
        if let Ok(revision) = number.trim().parse::<u32>() {
            if revision > since {
                entries.push((revision, text.trim().to_string()));
            }
        }
    }
    entries
}

/// Said once before stale golden files written by an older envc: what changed since.
fn upgrade_note(root: &Path) -> Option<Diagnostic> {
    let written = written_revision(root);
    if written >= RENDER_REVISION {
        return None;
    }
    let mut diagnostic = Diagnostic::warning(
        Code::GoldenUpgrade,
        format!(
            "the golden files were written by an older envc (render revision {written}); envc {} renders revision {RENDER_REVISION}, so some of the differences below come from envc, not from your files",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .help("review the differences, then `envc render --write` and commit the result; each change below says how to keep the old behaviour");
    for (revision, entry) in changelog_since(written) {
        diagnostic = diagnostic.note(format!(
            "CHANGELOG.md, render revision {revision}:\n{entry}"
        ));
    }
    Some(diagnostic)
}

/// Compares fresh renders with the golden files of the environments rendered. A project
/// with stacks and no `golden/` folder is a problem, unless it opted out in `stacks.kdl`.
pub fn compare(
    root: &Path,
    rendered: &[RenderedEnv],
    golden: GoldenUse,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let mut comparison = Comparison::new(root, golden);
    comparison.add(rendered, &|_| true, sources);
    comparison.finish()
}

/// [`compare`] a batch of environments at a time, so that a batch's renders can be dropped
/// once compared: [`Comparison::add`] says which renders are their golden files.
pub struct Comparison<'r> {
    root: &'r Path,
    golden: GoldenUse,
    /// Whether `golden/` is there (read once).
    folder: bool,
    /// Whether some environment compared has stacks.
    stacks: bool,
    /// Whether some golden file was stale.
    stale: bool,
    found: Vec<Diagnostic>,
}

impl<'r> Comparison<'r> {
    pub fn new(root: &'r Path, golden: GoldenUse) -> Self {
        Comparison {
            root,
            golden,
            folder: root.join("golden").is_dir(),
            stacks: false,
            stale: false,
            found: Vec::new(),
        }
    }

    /// Compares `batch`, reporting the differences of the environments `reported` names.
    /// Returns, for each environment of `batch`, which of its stacks' golden files are their
    /// render byte for byte (none, where the project keeps no golden files).
    pub fn add(
        &mut self,
        batch: &[RenderedEnv],
        reported: &dyn Fn(&str) -> bool,
        sources: &mut SourceMap,
    ) -> Vec<Vec<bool>> {
        let none = || batch.iter().map(|e| vec![false; e.stacks.len()]).collect();
        if self.golden == GoldenUse::OptedOut {
            return none();
        }
        if !self.folder {
            self.stacks |= batch
                .iter()
                .any(|env| reported(&env.name) && !env.stacks.is_empty());
            return none();
        }
        // Files are read and compared in parallel; only differences come back.
        // After rendering the pool is free, so even a few environments are compared on it.
        use rayon::prelude::*;
        let differences: Vec<Vec<Difference>> = batch
            .par_iter()
            .map(|env| differences(self.root, env))
            .collect();
        let mut same = Vec::with_capacity(batch.len());
        for (env, differences) in batch.iter().zip(differences) {
            let differing = |stack: &RenderedStack| {
                differences.iter().any(|d| match d {
                    Difference::Stale { stack: s, .. } | Difference::Missing(s) => {
                        std::ptr::eq(*s, stack)
                    }
                    Difference::Refused(_) | Difference::LeftOver(_) => false,
                })
            };
            same.push(env.stacks.iter().map(|s| !differing(s)).collect());
            if !reported(&env.name) {
                continue;
            }
            let missing = differences
                .iter()
                .filter(|d| matches!(d, Difference::Missing(_)))
                .count();
            if missing > 1 && missing == env.stacks.len() {
                // A new environment: one problem for it, not one per stack.
                self.found.push(never_written(env, sources));
                continue;
            }
            for difference in differences {
                self.stale |= matches!(difference, Difference::Stale { .. });
                self.found
                    .push(reported_difference(self.root, env, difference, sources));
            }
        }
        same
    }

    /// What the comparison found, the note that envc changed first where it did.
    pub fn finish(self) -> Vec<Diagnostic> {
        if self.golden == GoldenUse::OptedOut {
            return Vec::new();
        }
        if !self.folder {
            return self.stacks.then(absent).into_iter().collect();
        }
        // Only built-in kinds change with envc; a project of its own templates is its own.
        let built_in_kinds = self.golden
            == GoldenUse::Committed {
                built_in_kinds: true,
            };
        let note = (built_in_kinds && self.stale)
            .then(|| upgrade_note(self.root))
            .flatten();
        note.into_iter().chain(self.found).collect()
    }
}

fn absent() -> Diagnostic {
    Diagnostic::error(
        Code::GoldenAbsent,
        "the project has stacks but no `golden/` folder, so no render is compared",
    )
    .help("run `envc render --write` and commit `golden/`, so reviewers see what changes in AWS; or write `golden #false` in `stacks.kdl` to go without")
}

/// The problem a difference between `env`'s golden files and its fresh render is.
fn reported_difference(
    root: &Path,
    env: &RenderedEnv,
    difference: Difference<'_>,
    sources: &mut SourceMap,
) -> Diagnostic {
    match difference {
        Difference::Stale { stack, committed } => stale(root, env, stack, committed, sources),
        Difference::Missing(stack) => {
            let diagnostic = Diagnostic::error(
                Code::GoldenStale,
                format!(
                    "`{}` is missing",
                    crate::files::display_path(root, &stack.golden_path()).display()
                ),
            )
            .help("run `envc render --write` and commit the result");
            match declared_at(sources, &stack.stack) {
                Some(span) => diagnostic.at(span, "renders, with no golden file"),
                None => diagnostic,
            }
        }
        Difference::Refused(problem) => *problem,
        Difference::LeftOver(path) => {
            let shown = crate::files::display_path(root, &path);
            let diagnostic = Diagnostic::error(
                Code::GoldenStale,
                format!(
                    "`{}` is left over: `{}` no longer renders that stack",
                    shown.display(),
                    env.name
                ),
            )
            .help(
                "run `envc render --write` (it deletes left-over golden files) and commit the result",
            );
            match crate::files::read_text(root, &path) {
                Ok(text) => {
                    let file = sources.add(&shown, text);
                    diagnostic.at(Span::new(file, 0, 0), "no stack renders this file")
                }
                Err(_) => diagnostic,
            }
        }
    }
}

/// An environment none of whose stacks has a golden file, placed at its file.
fn never_written(env: &RenderedEnv, sources: &SourceMap) -> Diagnostic {
    let diagnostic = Diagnostic::error(
        Code::GoldenStale,
        format!(
            "`{}` has no golden files yet: it renders {} stacks",
            env.name,
            env.stacks.len()
        ),
    )
    .help(format!(
        "run `envc render --write` and commit `golden/{}/`, so reviewers see what `{}` deploys",
        env.name, env.name
    ));
    let file = Path::new("env").join(format!("{}.kdl", env.name));
    match sources.files().find(|(_, f)| f.path.ends_with(&file)) {
        Some((id, _)) => diagnostic.at(Span::new(id, 0, 0), "this environment"),
        None => diagnostic,
    }
}

/// Where `stacks.kdl` declares stack `name`.
fn declared_at(sources: &SourceMap, name: &str) -> Option<Span> {
    let (id, file) = sources
        .files()
        .find(|(_, f)| f.path.ends_with("stacks.kdl"))?;
    let quoted = format!("\"{name}\"");
    let at = file.text.match_indices(&quoted).find_map(|(at, _)| {
        let before = file.text[..at].trim_end_matches([' ', '\t']);
        before.ends_with("stack").then_some(at)
    })?;
    Some(Span::new(id, at, at + quoted.len()))
}

/// A stale golden file (its `committed` text added to `sources`), with the diff to the fresh
/// render of `stack` attached.
fn stale(
    root: &Path,
    env: &RenderedEnv,
    stack: &RenderedStack,
    committed: String,
    sources: &mut SourceMap,
) -> Diagnostic {
    let shown = crate::files::display_path(root, &stack.golden_path());
    let diff = unified_diff(
        &committed,
        &stack.body,
        &format!("{} (committed)", shown.display()),
        &format!("{} (rendered)", shown.display()),
    );
    let file = sources.add(&shown, committed);
    Diagnostic::error(
        Code::GoldenStale,
        format!(
            "`{}` is stale: `{}` of `{}` renders differently",
            shown.display(),
            stack.stack,
            env.name
        ),
    )
    .at(
        first_difference(sources, file, &diff),
        "differs from the fresh render",
    )
    .help("review the diff, then run `envc render --write` and commit the result")
    .attach(diff)
}

/// How one environment's golden files differ from its fresh render.
enum Difference<'a> {
    Stale {
        stack: &'a RenderedStack,
        committed: String,
    },
    Missing(&'a RenderedStack),
    LeftOver(PathBuf),
    /// Not a file envc reads (a FIFO, a link out of the project).
    Refused(Box<Diagnostic>),
}

fn differences<'a>(root: &Path, env: &'a RenderedEnv) -> Vec<Difference<'a>> {
    let mut differences = Vec::new();
    let mut expected: BTreeSet<PathBuf> = BTreeSet::new();
    for stack in &env.stacks {
        let relative = stack.golden_path();
        match crate::files::read_bytes(root, &relative) {
            Ok(committed) if committed == stack.body.as_bytes() => {}
            Ok(committed) => differences.push(Difference::Stale {
                stack,
                committed: String::from_utf8_lossy(&committed).into_owned(),
            }),
            Err(ReadProblem::Missing(_)) => differences.push(Difference::Missing(stack)),
            Err(problem) => differences.push(Difference::Refused(Box::new(
                problem.into_diagnostic(root, &relative, None),
            ))),
        }
        expected.insert(relative);
    }
    for leftover in golden_files(root, &env.name) {
        if !expected.contains(&leftover) {
            differences.push(Difference::LeftOver(leftover));
        }
    }
    differences
}

/// The first changed line of the committed file in a diff, as a span: the first `-` line,
/// or where the first `+` line goes.
fn first_difference(sources: &SourceMap, file: crate::source::FileId, diff: &str) -> Span {
    let mut line = 0;
    for l in diff.lines() {
        if let Some(range) = l.strip_prefix("@@ -") {
            if line == 0 {
                line = range
                    .split([',', ' '])
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(1)
                    .max(1);
            }
        } else if line > 0 {
            if l.starts_with('-') || l.starts_with('+') {
                break;
            }
            line += 1;
        }
    }
    // Lines added after the last one are shown at the last line.
    let text = &sources.file(file).text;
    let mut last = Span::new(file, 0, 0);
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        last = Span::new(file, start, start + l.trim_end_matches('\n').len());
        if i + 1 >= line {
            break;
        }
        start += l.len();
    }
    last
}

/// The golden files in `golden/<env>/`: its `.yaml` entries that are not folders. A folder
/// that is a link is not looked into: what it points at is not the project's golden files.
fn golden_files(root: &Path, env: &str) -> Vec<PathBuf> {
    let folder = Path::new("golden").join(env);
    let is_folder = std::fs::symlink_metadata(root.join(&folder)).is_ok_and(|m| m.is_dir());
    if !is_folder {
        return Vec::new();
    }
    yaml_files_in(root, &folder)
}

/// The `.yaml` entries of `folder` (relative to `root`) that are files or links, not folders.
fn yaml_files_in(root: &Path, folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".yaml"))
        .map(|n| folder.join(n))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stale golden file whose one line became 150,000 (what took 20 s) gets its diff: one
    /// that, like any correct one, adds and removes lines to the new text's length.
    #[test]
    fn a_huge_change_is_diffed_without_searching_for_ever() {
        let old: String = (0..100).map(|i| format!("key{i}: {i}\n")).collect();
        let mut lines: Vec<String> = old.lines().map(str::to_owned).collect();
        lines.splice(5..6, std::iter::repeat_n("x".to_string(), 150_000));
        let new = lines.join("\n") + "\n";
        let diff = unified_diff(&old, &new, "golden", "render");
        assert!(
            diff.starts_with("--- golden\n+++ render\n"),
            "{}",
            &diff[..80]
        );
        let count = |sign: char| {
            diff.lines()
                .filter(|l| l.starts_with(sign) && !l.starts_with("+++") && !l.starts_with("---"))
                .count() as isize
        };
        let grown = new.lines().count() as isize - old.lines().count() as isize;
        assert_eq!(count('+') - count('-'), grown);
        assert!(
            diff.contains("\n-key5: 5\n"),
            "the replaced line is shown removed"
        );
    }
}

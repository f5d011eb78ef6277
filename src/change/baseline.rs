//! The golden files at a git ref: what a change is compared with. Read through `git` (three
//! processes however many files), without touching the work tree or the index.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use super::Texts;
use crate::diagnostic::{Code, Diagnostic};

/// Branches a change is measured against when no ref is given, first found first.
const MAIN_BRANCHES: &[&str] = &[
    "origin/HEAD",
    "origin/main",
    "main",
    "origin/master",
    "master",
];

/// Which commit's golden files a change is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseRef {
    /// A ref or revision as `git` reads it (`HEAD~1`, `origin/main`, a commit).
    Given(String),
    /// Where the current branch left the main branch (`git merge-base HEAD main`).
    MergeBase,
}

/// The golden files of every environment at one commit.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// What the commit was asked for as (`HEAD~1`, or `merge base with main`).
    pub name: String,
    pub commit: String,
    /// Environment → stack → template text.
    pub files: BTreeMap<String, BTreeMap<String, String>>,
}

impl Baseline {
    /// Reads the golden files of the project in `root` at `base`.
    pub fn read(root: &Path, base: &BaseRef) -> Result<Baseline, Diagnostic> {
        let (name, revision) = match base {
            BaseRef::Given(reference) => (reference.clone(), reference.clone()),
            BaseRef::MergeBase => {
                let branch = MAIN_BRANCHES
                    .iter()
                    .find(|b| git(root, &["rev-parse", "--verify", "--quiet", b]).is_ok())
                    .ok_or_else(|| {
                        refused("no main branch to compare with (origin/main, main, master)")
                    })?;
                let commit = git(root, &["merge-base", "HEAD", branch])
                    .map_err(|e| refused(&format!("no merge base with {branch}: {e}")))?;
                (format!("merge base with {branch}"), commit)
            }
        };
        let commit = git(
            root,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{revision}^{{commit}}"),
            ],
        )
        .map_err(|_| {
            refused(&format!(
                "`{revision}` is not a commit of the repository at {}",
                root.display()
            ))
        })?;
        let prefix = git(root, &["rev-parse", "--show-prefix"]).unwrap_or_default();
        let listing = git(
            root,
            &[
                "ls-tree",
                "-r",
                "--name-only",
                &format!("{commit}:{prefix}golden"),
            ],
        )
        .unwrap_or_default();
        let paths: Vec<(&str, &str)> = listing
            .lines()
            .filter_map(|line| line.strip_suffix(".yaml")?.split_once('/'))
            .filter(|(_, stack)| !stack.contains('/'))
            .collect();
        let objects: Vec<String> = paths
            .iter()
            .map(|(env, stack)| format!("{commit}:{prefix}golden/{env}/{stack}.yaml"))
            .collect();
        let texts = cat_files(root, &objects)?;
        let mut files: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for ((env, stack), text) in paths.into_iter().zip(texts) {
            files
                .entry(env.to_string())
                .or_default()
                .insert(stack.to_string(), text);
        }
        Ok(Baseline {
            name,
            commit,
            files,
        })
    }

    /// Its texts, borrowed, as [`super::compare`] takes them.
    pub fn texts(&self) -> Texts<'_> {
        self.files
            .iter()
            .map(|(env, stacks)| {
                let stacks = stacks
                    .iter()
                    .map(|(s, t)| (s.as_str(), t.as_str()))
                    .collect();
                (env.as_str(), stacks)
            })
            .collect()
    }

    /// The short commit id, for headings.
    pub fn short_commit(&self) -> &str {
        &self.commit[..self.commit.len().min(12)]
    }
}

fn refused(message: &str) -> Diagnostic {
    Diagnostic::error(
        Code::ChangeBase,
        format!("cannot read the golden files to compare with: {message}"),
    )
    .help("give a commit to compare with: `--base origin/main`, `--base HEAD~1`")
}

/// Runs `git -C root ARGS` and returns its output, trimmed.
fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("git could not run: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// The contents of `objects` (`commit:path`), in order, through one `git cat-file --batch`.
fn cat_files(root: &Path, objects: &[String]) -> Result<Vec<String>, Diagnostic> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| refused(&format!("git could not run: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let request = objects.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut output)
        .map_err(|e| refused(&format!("reading git's output: {e}")))?;
    let _ = writer.join();
    let _ = child.wait();
    let mut texts = Vec::with_capacity(objects.len());
    let mut rest = output.as_slice();
    for object in objects {
        let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        let header = String::from_utf8_lossy(&rest[..end]).to_string();
        rest = rest.get(end + 1..).unwrap_or_default();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|_| !header.ends_with("missing"))
            .ok_or_else(|| refused(&format!("git has no {object}")))?;
        let body = rest
            .get(..size)
            .ok_or_else(|| refused("git's output ended early"))?;
        texts.push(String::from_utf8_lossy(body).into_owned());
        rest = rest.get(size + 1..).unwrap_or_default();
    }
    Ok(texts)
}

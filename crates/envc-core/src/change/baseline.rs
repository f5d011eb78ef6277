//! The golden files at a git ref: what a change is compared with. Read through `git` (three
//! processes however many files), without touching the work tree or the index.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Texts;
use crate::diagnostic::{Code, Diagnostic};

/// Branches a change is measured against when no ref is given, first found first.
const MAIN_BRANCHES: &[&str] = &[
    "remotes/origin/HEAD",
    "remotes/origin/main",
    "heads/main",
    "remotes/origin/master",
    "heads/master",
];

/// Which commit's golden files a change is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseRef {
    /// A ref or revision as `git` reads it (`HEAD~1`, `origin/main`, a commit).
    Given(String),
    /// Where the current branch left the main branch (`git merge-base HEAD main`).
    MergeBase,
}

/// A [`Baseline`] being located by git in the background (git's processes take as long as
/// reading a small project: `check` runs them beside it).
pub struct Locating {
    finding: std::thread::JoinHandle<Result<Baseline, Diagnostic>>,
    /// Whether a failure is reported (a base that was asked for) or passed over quietly (the
    /// merge base, where there may be no git or no main branch).
    report: bool,
}

impl Locating {
    pub fn start(root: &Path, base: &BaseRef) -> Locating {
        let (root, base) = (root.to_path_buf(), base.clone());
        let report = matches!(base, BaseRef::Given(_));
        let finding = std::thread::spawn(move || Baseline::locate(&root, &base));
        Locating { finding, report }
    }

    /// The baseline; `None` where the merge base cannot be had (no git, no main branch),
    /// which is no problem; an error where a base asked for cannot be read.
    pub fn wait(self) -> Option<Result<Baseline, Diagnostic>> {
        let found = self
            .finding
            .join()
            .unwrap_or_else(|_| Err(refused("git could not be run")));
        match found {
            Err(_) if !self.report => None,
            found => Some(found),
        }
    }
}

/// The golden files of every environment at one commit.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// What the commit was asked for as (`HEAD~1`, or `merge base with main`).
    pub name: String,
    pub commit: String,
    /// Environment → stack → template text; `None` for a file read as the same as now
    /// ([`Baseline::read_differing`]).
    pub files: BTreeMap<String, BTreeMap<String, Option<String>>>,
    root: PathBuf,
    /// The project's folder in the repository (`examples/x/`, or empty).
    prefix: String,
    /// Every golden file at the commit: (environment, stack, blob id).
    listed: Vec<(String, String, String)>,
    /// Where each environment's files are in `listed`.
    listed_of: HashMap<String, Vec<usize>>,
}

impl Baseline {
    /// Reads the golden files of the project in `root` at `base`, all of them.
    pub fn read(root: &Path, base: &BaseRef) -> Result<Baseline, Diagnostic> {
        let mut baseline = Baseline::locate(root, base)?;
        let wanted: Vec<usize> = (0..baseline.listed.len()).collect();
        baseline.read_listed(&wanted, &wanted)?;
        Ok(baseline)
    }

    /// Finds the commit of `base` and lists its golden files, reading none yet.
    pub fn locate(root: &Path, base: &BaseRef) -> Result<Baseline, Diagnostic> {
        let (name, commit) = match base {
            BaseRef::Given(reference) => {
                let commit = git(
                    root,
                    &[
                        "rev-parse",
                        "--verify",
                        "--quiet",
                        &format!("{reference}^{{commit}}"),
                    ],
                )
                .map_err(|e| {
                    if e.contains("not a git repository") {
                        return not_in_git(&e);
                    }
                    refused(&format!(
                        "`{reference}` is not a commit of the repository at {}",
                        root.display()
                    ))
                })?;
                (reference.clone(), commit)
            }
            BaseRef::MergeBase => {
                let refs: Vec<String> = MAIN_BRANCHES.iter().map(|b| format!("refs/{b}")).collect();
                let mut args = vec!["for-each-ref", "--format=%(refname)"];
                args.extend(refs.iter().map(String::as_str));
                let found = git(root, &args).map_err(|e| not_in_git(&e))?;
                let branch = MAIN_BRANCHES
                    .iter()
                    .find(|b| found.lines().any(|l| l == format!("refs/{b}")))
                    .ok_or_else(|| {
                        refused("no main branch to compare with (origin/main, main, master)")
                    })?;
                let short = branch
                    .trim_start_matches("remotes/")
                    .trim_start_matches("heads/");
                let commit = git(root, &["merge-base", "HEAD", branch])
                    .map_err(|e| refused(&format!("no merge base with {short}: {e}")))?;
                (format!("the merge base with {short}"), commit)
            }
        };
        let prefix = git(root, &["rev-parse", "--show-prefix"]).unwrap_or_default();
        // `--full-tree`: in a project below the repository's root, ls-tree would otherwise
        // list only the paths under the working directory, which a tree's paths are not.
        let listing = git(
            root,
            &[
                "ls-tree",
                "-r",
                "--full-tree",
                &format!("{commit}:{prefix}golden"),
            ],
        )
        .unwrap_or_default();
        let listed = listing
            .lines()
            .filter_map(|line| {
                let (meta, path) = line.split_once('\t')?;
                let blob = meta.split(' ').nth(2)?;
                let (env, stack) = path.strip_suffix(".yaml")?.split_once('/')?;
                (!stack.contains('/'))
                    .then(|| (env.to_string(), stack.to_string(), blob.to_string()))
            })
            .collect::<Vec<_>>();
        let mut listed_of: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (env, _, _)) in listed.iter().enumerate() {
            listed_of.entry(env.clone()).or_default().push(i);
        }
        Ok(Baseline {
            name,
            commit,
            files: BTreeMap::new(),
            root: root.to_path_buf(),
            prefix,
            listed,
            listed_of,
        })
    }

    /// Reads the golden files of `envs` that differ from `now` (the text of an environment's
    /// stack now, where it has one): those the same are recorded as `None`, unread. Called
    /// once for each batch of environments rendered.
    pub fn read_differing<'t>(
        &mut self,
        envs: &[&str],
        now: &dyn Fn(&str, &str) -> Option<&'t str>,
    ) -> Result<(), Diagnostic> {
        let mut recorded: Vec<usize> = envs
            .iter()
            .filter_map(|env| self.listed_of.get(*env))
            .flatten()
            .copied()
            .collect();
        recorded.sort_unstable();
        let wanted: Vec<usize> = recorded
            .iter()
            .copied()
            .filter(|&i| {
                let (env, stack, blob) = &self.listed[i];
                now(env, stack).is_none_or(|text| blob_id(text) != *blob)
            })
            .collect();
        self.read_listed(&recorded, &wanted)
    }

    /// Records the `listed` files of `recorded`, reading those of `wanted` (some of them).
    fn read_listed(&mut self, recorded: &[usize], wanted: &[usize]) -> Result<(), Diagnostic> {
        let objects: Vec<String> = wanted
            .iter()
            .map(|&i| {
                let (env, stack, _) = &self.listed[i];
                format!("{}:{}golden/{env}/{stack}.yaml", self.commit, self.prefix)
            })
            .collect();
        let mut texts = cat_files(&self.root, &objects)?.into_iter();
        for &i in recorded {
            let (env, stack, _) = &self.listed[i];
            let text = if wanted.binary_search(&i).is_ok() {
                texts.next()
            } else {
                None
            };
            self.files
                .entry(env.clone())
                .or_default()
                .insert(stack.clone(), text);
        }
        Ok(())
    }

    /// Its texts, borrowed, as [`super::compare`] takes them; a file read as the same as now
    /// ([`Baseline::read_differing`]) is `now`'s text.
    pub fn texts<'a>(&'a self) -> Texts<'a> {
        self.files
            .iter()
            .map(|(env, stacks)| {
                let stacks = stacks
                    .iter()
                    .filter_map(|(s, t)| Some((s.as_str(), t.as_deref()?)))
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

/// The id git gives a file of `text` (a blob's SHA-1).
fn blob_id(text: &str) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", text.len()).as_bytes());
    hasher.update(text.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why git could not answer: the project outside a repository, or git's own words.
fn not_in_git(message: &str) -> Diagnostic {
    if message.contains("not a git repository") {
        Diagnostic::error(
            Code::ChangeBase,
            "the project is not in a git repository: a change is measured from the golden files of a commit",
        )
        .help("commit the project to git; or compare a fresh render with the golden files on disk: `envc diff ENV`")
    } else {
        refused(message)
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

//! envc's core: short, reviewable environment files to checked CloudFormation templates,
//! with no async runtime and no AWS SDK (deploying is `envc-deploy`'s).
//!
//! The pipeline runs one way: [`parse`] → [`resolve`] → [`validate`] → [`render`] →
//! [`rules`] → [`golden`]. Each stage takes the previous stage's output and reports
//! problems as [`diagnostic::Diagnostic`] values; this module runs the stages for each
//! command and never prints. What reads their output lives beside them: [`change`],
//! [`cost`] and [`review`] (the pull request view), [`published`] (schemas and docs),
//! [`init`] (new projects), [`format`] and [`explain`].

pub mod cache;
pub mod change;
pub mod cost;
pub mod credentials;
pub mod diagnostic;
pub mod did_you_mean;
pub mod docs;
pub mod explain;
pub mod files;
pub mod format;
pub mod golden;
pub mod init;
pub mod model;
mod parallel;
pub use parallel::start_pool;
pub mod parse;
pub mod pattern;
pub mod published;
pub mod render;
pub mod resolve;
pub mod review;
pub mod rules;
pub mod source;
pub mod validate;

use std::collections::HashSet;
use std::path::Path;

use diagnostic::{Code, Diagnostic, Diagnostics};
use did_you_mean::did_you_mean;
use resolve::{ResolvedProject, Shapes};
use source::{FileId, SourceMap};
use validate::{Schemas, ValidatedProject};

/// What a run of the pipeline produced: the files it read, what it found wrong, and the
/// environments that passed.
pub struct PipelineRun {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// The project's files as parsed (the ones that parsed).
    pub parsed: parse::ParsedProject,
    pub resolved: ResolvedProject,
    pub validated: ValidatedProject,
    /// Environments that rendered without problems.
    pub rendered: Vec<render::RenderedEnv>,
}

impl PipelineRun {
    /// 0 clean (warnings allowed), 1 problems in the input, 2 a usage or I/O problem.
    pub fn exit_code(&self) -> i32 {
        exit_code(&self.diagnostics)
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Whether `env` is an abstract environment of the project (resolved in this run or not:
    /// a run of only some environments resolves an abstract one's heirs, not it).
    pub fn is_abstract(&self, env: &str) -> bool {
        self.resolved.env(env).is_some_and(|e| e.is_abstract)
            || self.resolved.declared.get(env) == Some(&Some(true))
    }

    /// Why `env` was not rendered: it is abstract, or there is no such environment.
    pub fn not_rendered(&self, env: &str) -> Diagnostic {
        if self.is_abstract(env) {
            Diagnostic::error(
                Code::AbstractEnv,
                format!("`{env}` is abstract: it is only extended, never rendered or deployed"),
            )
            .help("name one of the environments that extend it")
        } else {
            unknown_env(
                env,
                self.resolved
                    .envs
                    .iter()
                    .filter(|e| !e.is_abstract)
                    .map(|e| e.name.as_str()),
            )
        }
    }
}

pub fn exit_code(diagnostics: &[Diagnostic]) -> i32 {
    let usage = [
        Code::ChangeBase,
        Code::Io,
        Code::FileRefused,
        Code::NoProject,
        Code::UnknownEnv,
        Code::AbstractEnv,
        Code::RegionArgument,
        Code::UnknownTask,
    ];
    if diagnostics.iter().any(|d| usage.contains(&d.code)) {
        2
    } else if diagnostics.iter().any(Diagnostic::is_error) {
        1
    } else {
        0
    }
}

/// How far [`run`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stages {
    /// Parse, resolve, validate.
    Validate,
    /// … and render every stack.
    Render,
    /// … and compare with the golden files: everything `envc check` does.
    Check,
}

/// Loads, resolves, validates and renders the project in `root`, and compares golden files.
/// With `only` non-empty, checks just those environments (and reports problems only in the
/// files they are made of).
pub fn check(root: &Path, only: &[String]) -> PipelineRun {
    run(root, only, Stages::Check)
}

/// Runs the pipeline up to `stages`.
pub fn run(root: &Path, only: &[String], stages: Stages) -> PipelineRun {
    run_with(root, &parse::Overlay::new(), only, stages, true)
}

/// [`run`] with `overlay`'s texts in place of the files they stand for (an editor's unsaved
/// buffers), and the on-disk caches only with `disk_caches` (each keystroke in an editor is
/// new text: storing its results costs more than it saves). Templates, golden files,
/// schemas and documents are read from disk.
pub fn run_with(
    root: &Path,
    overlay: &parse::Overlay,
    only: &[String],
    stages: Stages,
    disk_caches: bool,
) -> PipelineRun {
    let plan = Plan {
        stages,
        disk_caches,
        texts: Texts::Kept,
    };
    run_against(root, overlay, only, plan, None)
}

/// How far a run goes, and what it keeps.
#[derive(Clone, Copy)]
struct Plan {
    stages: Stages,
    /// Whether the on-disk caches are read and written.
    disk_caches: bool,
    texts: Texts,
}

/// `envc check` with a change's base: as [`check`], and a change from the golden files of
/// `baseline` that replaces or deletes what holds data is reported too. What it returns has
/// no resolved environment, and no text of a render found the same as its golden file but
/// the last batch's (each batch of environments is rendered, checked and dropped before the
/// next; the last is left for the process's exit): it is for the problems.
pub fn check_against(
    root: &Path,
    only: &[String],
    baseline: Option<change::baseline::Locating>,
) -> PipelineRun {
    let plan = Plan {
        stages: Stages::Check,
        disk_caches: true,
        texts: Texts::Dropped,
    };
    run_against(root, &parse::Overlay::new(), only, plan, baseline)
}

fn run_against(
    root: &Path,
    overlay: &parse::Overlay,
    only: &[String],
    plan: Plan,
    baseline: Option<change::baseline::Locating>,
) -> PipelineRun {
    let Plan {
        stages,
        disk_caches,
        texts,
    } = plan;
    let open_cache = |stage| {
        disk_caches
            .then(|| cache::Cache::open(root, stage))
            .flatten()
    };
    let mut sources = SourceMap::default();
    let mut all = Diagnostics::default();
    all.extend(disk_caches.then(|| cache::refusal(root)).flatten());
    // With nothing cached, the schema validators and templates compile in the background
    // while this thread reads and parses (see `prepared_renderer`).
    let validate_cache = open_cache("validate");
    if validate_cache.as_ref().is_none_or(cache::Cache::is_empty) {
        rayon::spawn(|| Schemas::shared().prepare());
    }
    let (mut parsed, found) = parse::load_project_with(root, overlay, &mut sources);
    Shapes::shared();
    let renderer = (stages != Stages::Validate)
        .then(|| prepared_renderer(root, open_cache("render").is_none_or(|c| c.is_empty())));
    all.extend(found);

    // `check` of an abstract environment checks the environments that extend it.
    let heirs;
    let only = if stages == Stages::Check {
        heirs = concrete_heirs(&parsed, only);
        &heirs[..]
    } else {
        only
    };
    let wanted = (!only.is_empty()).then(|| wanted_files(&parsed, &sources, only, &mut all));

    let (mut resolved, found) = resolve::resolve_project(&parsed, &sources, Shapes::shared());
    all.extend(found);
    if texts == Texts::Dropped {
        // Read by no stage after resolve.
        parsed.forget_envs();
    }

    // Every environment is validated and rendered, for the rules across environments (a zone
    // imported from another region, a name another environment takes); only the problems
    // that concern `only` are reported.
    let (schemas, cache) = (Schemas::shared(), validate_cache.as_ref());
    let (mut validated, found) = match texts {
        Texts::Kept => validate::validate_project(&resolved, schemas, cache, only),
        Texts::Dropped => validate::validate_project_dropping(&mut resolved, schemas, cache, only),
    };
    all.extend(found);
    if !only.is_empty() {
        resolved.envs.retain(|e| only.contains(&e.name));
    }
    if stages == Stages::Check {
        all.extend(published::stale_diagnostics(root, &resolved, &mut sources));
    }

    let golden = (stages == Stages::Check).then(|| {
        let golden = golden::GoldenUse::of(validated.stacks.as_ref().map(|s| &s.model));
        (golden, texts)
    });
    let mut rendered = match renderer {
        Some(Ok(renderer)) => {
            if let Some(stacks) = &validated.stacks {
                all.extend(renderer.unused_templates(&stacks.model, &mut sources));
            }
            Rendering {
                golden,
                ..Rendering::new(root, &renderer, &validated, disk_caches, only)
            }
            .render_and_check(baseline, &mut sources, &mut all)
        }
        Some(Err(problem)) => {
            all.push(problem.into_diagnostic(&mut sources));
            Vec::new()
        }
        None => Vec::new(),
    };
    if !only.is_empty() {
        rendered.retain(|e| only.contains(&e.name));
        validated.envs.retain(|e| only.contains(&e.name));
    }

    let mut diagnostics = all.into_sorted();
    if let Some(files) = wanted {
        diagnostics.retain(|d| concerns(d, &sources, &files));
    }
    PipelineRun {
        sources,
        diagnostics,
        parsed,
        resolved,
        validated,
        rendered,
    }
}

/// The project's renderer. What every run needs but no file decides is prepared beside the
/// reading and parsing of files: on a run with nothing cached the schema validators and the
/// compiled templates are built in the background, ready when validation and rendering first
/// ask for them (they compile on first use all the same), while the calling thread reads and
/// parses, since it is running now and the pool's threads are still starting.
fn prepared_renderer(
    root: &Path,
    nothing_cached: bool,
) -> Result<std::sync::Arc<render::Renderer>, render::LoadProblem> {
    let renderer = render::Renderer::for_project(root)?;
    if nothing_cached {
        let in_background = renderer.clone();
        rayon::spawn(move || in_background.prepare());
    }
    Ok(renderer)
}

/// Whether `diagnostic` is a problem of the environments whose files are `files`: it is
/// placed in one of their files, or names one of them beside another (a name another
/// environment takes as well), or it is placed in no file of the project.
fn concerns(diagnostic: &Diagnostic, sources: &SourceMap, files: &HashSet<FileId>) -> bool {
    match &diagnostic.primary {
        Some(label) => {
            !is_project_file(sources, label.span.file)
                || std::iter::once(label)
                    .chain(&diagnostic.secondary)
                    .any(|l| files.contains(&l.span.file))
        }
        None => true,
    }
}

/// `only` with each abstract environment replaced by the environments that extend it, through
/// any number of others, and are not abstract (in file order); one no environment extends
/// stays, and is reported as abstract.
fn concrete_heirs(parsed: &parse::ParsedProject, only: &[String]) -> Vec<String> {
    let extends = |env: &parse::EnvFile, ancestor: &str| {
        let mut next = env.extends.as_ref().and_then(|p| parsed.env(&p.name));
        for _ in 0..parsed.envs.len() {
            let Some(parent) = next else {
                return false;
            };
            if parent.name == ancestor {
                return true;
            }
            next = parent.extends.as_ref().and_then(|p| parsed.env(&p.name));
        }
        false
    };
    let mut names: Vec<String> = Vec::new();
    for name in only {
        let heirs: Vec<&str> = match parsed.env(name) {
            Some(env) if env.is_abstract => parsed
                .envs
                .iter()
                .filter(|e| !e.is_abstract && extends(e, name))
                .map(|e| e.name.as_str())
                .collect(),
            _ => Vec::new(),
        };
        let heirs = if heirs.is_empty() {
            vec![name.as_str()]
        } else {
            heirs
        };
        for heir in heirs {
            if !names.iter().any(|n| n == heir) {
                names.push(heir.to_string());
            }
        }
    }
    names
}

/// The files of the environments `only` names and of their parents, with the stack files:
/// where a problem must be to be theirs. A name that is no environment is reported.
fn wanted_files(
    parsed: &parse::ParsedProject,
    sources: &SourceMap,
    only: &[String],
    all: &mut Diagnostics,
) -> HashSet<FileId> {
    let mut files: HashSet<FileId> = parsed.stacks.iter().map(|s| s.file).collect();
    for name in only {
        if parsed.env(name).is_none() && !parsed.broken_envs.contains(name) {
            all.push(unknown_env(
                name,
                parsed.envs.iter().map(|e| e.name.as_str()),
            ));
        }
        let mut next = parsed.env(name);
        let mut guard = 0;
        while let Some(env) = next {
            files.insert(env.file);
            next = env.extends.as_ref().and_then(|p| parsed.env(&p.name));
            guard += 1;
            if guard > parsed.envs.len() {
                break;
            }
        }
    }
    for (id, file) in sources.files() {
        if only.iter().any(|n| file.path.ends_with(format!("{n}.kdl"))) {
            files.insert(id);
        }
    }
    files
}

/// What rendering a validated project takes.
struct Rendering<'r> {
    root: &'r Path,
    renderer: &'r render::Renderer,
    validated: &'r ValidatedProject,
    cache: Option<render::RenderCache>,
    rules_cache: Option<cache::Cache>,
    only: &'r [String],
    /// How renders are compared with the golden files (`None`: they are not), and whether a
    /// render the same as its golden file keeps its text once checked.
    golden: Option<(golden::GoldenUse, Texts)>,
}

/// What becomes of a rendered text found the same as its golden file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Texts {
    /// Kept, for what reads the run's renders (deploy, the editor).
    Kept,
    /// Dropped once checked, with the parsed environments once resolved and each resolved
    /// environment once validated: `envc check` reads nothing after, and memory holds one
    /// batch of environments' texts.
    Dropped,
}

impl<'r> Rendering<'r> {
    /// Rendering with `renderer`, and the project's render and rules caches when
    /// `disk_caches`.
    fn new(
        root: &'r Path,
        renderer: &'r render::Renderer,
        validated: &'r ValidatedProject,
        disk_caches: bool,
        only: &'r [String],
    ) -> Self {
        let cache = disk_caches
            .then(|| render::RenderCache::for_project(root, &renderer.template_texts()))
            .flatten();
        Rendering {
            root,
            renderer,
            validated,
            cache,
            rules_cache: disk_caches
                .then(|| cache::Cache::open(root, "rules"))
                .flatten(),
            only,
            golden: None,
        }
    }

    /// Renders every environment a batch at a time, comparing each batch with the golden
    /// files and running the rules over it (against the golden files of `baseline`'s commit
    /// too, when one is being located) before the next, then runs the rules across
    /// environments.
    fn render_and_check(
        &self,
        baseline: Option<change::baseline::Locating>,
        sources: &mut SourceMap,
        all: &mut Diagnostics,
    ) -> Vec<render::RenderedEnv> {
        let mut locating = baseline;
        let mut baseline = None;
        let at = render::ProjectAt {
            project: self.validated,
            cache: self.cache.as_ref(),
            focus: self.only,
        };
        let mut comparison = self
            .golden
            .map(|(golden, _)| golden::Comparison::new(self.root, golden));
        let mut checker = rules::Checker::new(self.root);
        let mut rendered = Vec::with_capacity(self.validated.envs.len());
        let batches = self.validated.envs.chunks(rules::ENVS_PER_BATCH);
        let last = batches.len().saturating_sub(1);
        for (index, envs) in batches.enumerate() {
            let mut found = Vec::new();
            let mut batch = render::render_envs(self.renderer, &at, envs, sources, &mut found);
            all.extend(found);
            // Located by git while the first batch rendered.
            match locating.take().and_then(change::baseline::Locating::wait) {
                Some(Ok(located)) => baseline = Some(located),
                Some(Err(problem)) => all.push(problem),
                None => {}
            }
            let same = comparison
                .as_mut()
                .map(|c| c.add(&batch, &|e| self.reported(e), sources));
            // Only the golden files of the base that differ from the render are read.
            if let Some(mut base) = baseline.take() {
                let now = |env: &str, stack: &str| {
                    let env = batch.iter().find(|e| e.name == env)?;
                    Some(env.stacks.iter().find(|s| s.stack == stack)?.body.as_str())
                };
                let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
                baseline = base.read_differing(&names, &now).ok().map(|()| base);
            }
            if self.validated.stacks.is_some() {
                let scope = self.scope(baseline.as_ref());
                checker.check(&rules::pairs(&batch, envs), &scope, sources);
            }
            // Read by the rules alone: one batch of trees is held at a time. A `check`'s last
            // batch keeps its own: the process exits next and leaves them to it.
            let dropping = matches!(self.golden, Some((_, Texts::Dropped)));
            if index != last || !dropping {
                for stack in batch.iter_mut().flat_map(|env| &mut env.stacks) {
                    stack.tree = None;
                }
                if let (Some(same), true) = (same, dropping) {
                    drop_texts(&mut batch, &same);
                }
            }
            rendered.extend(batch);
        }
        if let Some(comparison) = comparison {
            all.extend(comparison.finish());
        }
        if let Some(stacks) = &self.validated.stacks {
            let envs = (rendered.as_slice(), self.validated.envs.as_slice());
            all.extend(checker.finish(self.renderer, stacks, envs, self.only, sources));
        }
        rendered
    }

    /// Whether the problems of `env` are reported.
    fn reported(&self, env: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == env)
    }

    fn scope<'s>(&'s self, baseline: Option<&'s change::Baseline>) -> rules::Scope<'s> {
        rules::Scope {
            focus: self.only,
            baseline,
            cache: self.rules_cache.as_ref(),
        }
    }
}

/// Drops the text of each stack of `batch` that `same` says is its golden file, what was
/// read of its template (by render's checks and the rules, done by now), and the order of
/// its stacks (which only a deploy reads).
fn drop_texts(batch: &mut [render::RenderedEnv], same: &[Vec<bool>]) {
    for (env, same) in batch.iter_mut().zip(same) {
        env.waves = Vec::new();
        for (stack, same) in env.stacks.iter_mut().zip(same) {
            stack.needs = Vec::new();
            stack.template = render::CfnTemplate::default();
            if *same {
                stack.body = String::new();
            }
        }
    }
}

fn is_project_file(sources: &SourceMap, file: FileId) -> bool {
    let path = &sources.file(file).path;
    path.extension().is_some_and(|e| e == "kdl")
}

pub(crate) fn unknown_env<'a>(
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let help = did_you_mean(name, known.clone())
        .unwrap_or_else(|| format!("environments are: {}", known.collect::<Vec<_>>().join(", ")));
    Diagnostic::error(
        Code::UnknownEnv,
        format!("there is no environment `{name}`"),
    )
    .help(help)
}

/// The project parsed and resolved, and nothing after: what `explain` and the published
/// schemas need.
pub fn load_and_resolve(root: &Path) -> (SourceMap, ResolvedProject, Vec<Diagnostic>) {
    let mut sources = SourceMap::default();
    let (parsed, mut found) = parse::load_project(root, &mut sources);
    let (resolved, more) = resolve::resolve_project(&parsed, &sources, Shapes::shared());
    found.extend(more);
    (sources, resolved, found)
}

/// Problems that stop a command before it writes, with the files they point into.
pub struct Refusal {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub exit: i32,
}

impl From<Diagnostic> for Refusal {
    /// A problem of the machine (a folder that cannot be made), not of the project.
    fn from(problem: Diagnostic) -> Self {
        Refusal {
            sources: SourceMap::default(),
            diagnostics: vec![problem],
            exit: 2,
        }
    }
}

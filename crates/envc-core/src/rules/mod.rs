//! Rules over the rendered templates of every environment: what AWS refuses, or accepts and
//! then silently does not do, that shows only in the rendered resources. Physical names and
//! their uniqueness across stacks and environments ([`names`]), keys a publishing service
//! cannot use ([`delivery`]), load balancers and subnet groups in one zone ([`zones`]),
//! quotas a project can break by its own settings ([`quotas`]), and resource types the
//! region does not offer ([`regions`]), an estimate over the budget ([`budget`]), and, against
//! the golden files at a base commit, a change that replaces or deletes what holds data
//! ([`replace`]).
//!
//! The rules read what any template renders (built-in kinds, project kinds, overrides alike)
//! and take the stage's output as it is: they change nothing. Each finding has a stable code
//! and the AWS documentation it comes from, and is placed at the setting that made the value
//! where one did, else at its line in the rendered (golden) file.

mod budget;
mod cache;
mod delivery;
mod names;
mod place;
mod quotas;
mod regions;
mod replace;
mod template;
mod zones;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::cache::Cache;
use crate::change::Baseline;
use crate::diagnostic::Diagnostic;
use crate::render::{RenderedEnv, Renderer};
use crate::source::{FileId, SourceMap};
use crate::validate::{ValidEnv, ValidStacks};

pub use crate::validate::NameRule;
use place::Placer;
use template::Rendered;

/// How many environments' trees are held at once.
pub const ENVS_PER_BATCH: usize = 64;

/// What the rules compare across environments, kept while the trees of each batch of
/// environments are read and dropped.
#[derive(Default)]
struct Across<'a> {
    named: Vec<names::Named<'a>>,
    reserving: Vec<quotas::Reserving<'a>>,
}

/// The rules over a project's renders, a batch of environments at a time
/// ([`Checker::check`]), then across environments ([`Checker::finish`]). What the rules
/// across environments compare is kept as facts apart from the renders, so that a batch's
/// texts can be dropped once it is checked: a finding placed in a text that is gone is
/// placed in its golden file, which was that text.
pub struct Checker {
    /// Where the golden files are, for texts dropped once they were found the same as them.
    root: std::path::PathBuf,
    found: Vec<Finding>,
    /// Each environment's facts, in the order checked.
    facts: Vec<(String, cache::EnvFacts)>,
    /// Rendered texts added to the sources, by (environment, stack).
    files: BTreeMap<(String, String), FileId>,
}

impl Checker {
    /// Rules over the renders of the project in `root`.
    pub fn new(root: &Path) -> Self {
        Checker {
            root: root.to_path_buf(),
            found: Vec::new(),
            facts: Vec::new(),
            files: BTreeMap::new(),
        }
    }

    /// Runs the rules of one environment over each environment of `batch`, and keeps what
    /// the rules across environments compare. An environment whose facts are cached is not
    /// read again: the rules found nothing in it before, from the same inputs.
    pub fn check(
        &mut self,
        batch: &[(&ValidEnv, &RenderedEnv)],
        scope: &Scope,
        sources: &mut SourceMap,
    ) {
        let mut placer = Placer::new(sources, &self.root, std::mem::take(&mut self.files));
        let known: Vec<Known> = crate::parallel::map(batch.to_vec(), |(valid, env)| {
            let cache = scope
                .cache
                .filter(|_| scope.baseline.is_none_or(|b| same_at_base(b, env)));
            let key = cache.map(|cache| cache::key(cache, valid, env));
            let facts = cache
                .zip(key.as_deref())
                .and_then(|(c, k)| cache::load(c, k, env));
            (key, facts)
        });
        let unread: Vec<(&ValidEnv, &RenderedEnv)> = batch
            .iter()
            .zip(&known)
            .filter(|(_, (_, facts))| facts.is_none())
            .map(|(env, _)| *env)
            .collect();
        let before = self.found.len();
        let read = read_and_check(unread, scope, &mut placer, &mut self.found);
        let with_findings: HashSet<&str> = self.found[before..]
            .iter()
            .flat_map(|f| &f.envs)
            .map(String::as_str)
            .collect();
        let mut named = read.named.into_iter().peekable();
        let mut reserving = read.reserving.into_iter().peekable();
        for ((_, env), (key, facts)) in batch.iter().zip(known) {
            let facts = facts.unwrap_or_else(|| {
                let of_env = |name: &str| name == env.name;
                let mut env_named = Vec::new();
                while let Some(item) = named.next_if(|n| of_env(&n.parts().0.env.name)) {
                    env_named.push(item);
                }
                let mut env_reserving = Vec::new();
                while let Some(item) = reserving.next_if(|r| of_env(&r.parts().0.env.name)) {
                    env_reserving.push(item);
                }
                let mut facts = cache::EnvFacts::detach(&env_named, &env_reserving);
                if let (Some(cache), Some(key)) = (scope.cache, key) {
                    if !with_findings.contains(env.name.as_str()) {
                        cache::store(cache, &env.name, key, &mut facts);
                    }
                }
                facts
            });
            self.facts.push((env.name.clone(), facts));
        }
        self.files = placer.rendered;
    }

    /// Runs the rules across the environments checked (`rendered`, of `envs`), and returns
    /// every finding that concerns `focus` (all when empty), placed at the template that
    /// wrote it where it is in a rendered text.
    pub fn finish(
        self,
        renderer: &Renderer,
        stacks_config: &ValidStacks,
        (rendered, envs): (&[RenderedEnv], &[ValidEnv]),
        focus: &[String],
        sources: &mut SourceMap,
    ) -> Vec<Diagnostic> {
        let by_name: HashMap<&str, &ValidEnv> = envs.iter().map(|e| (e.name.as_str(), e)).collect();
        let rendered_by_name: HashMap<&str, &RenderedEnv> =
            rendered.iter().map(|e| (e.name.as_str(), e)).collect();
        let claimed_twice = claimed_twice(&self.facts, &by_name);
        let mut across = Across::default();
        for (at, (env, facts)) in self.facts.into_iter().enumerate() {
            let (Some(valid), Some(env)) = (
                by_name.get(env.as_str()),
                rendered_by_name.get(env.as_str()),
            ) else {
                continue;
            };
            let wanted = |i: usize| claimed_twice.binary_search(&(at, i)).is_ok();
            let (named, reserving) = facts.attach(valid, env, wanted);
            across.named.extend(named);
            across.reserving.extend(reserving);
        }
        let mut found = self.found;
        let mut placer = Placer::new(sources, &self.root, self.files);
        names::check_unique(&across.named, &mut placer, &mut found);
        quotas::check_reserved_concurrency(&across.reserving, &mut placer, &mut found);
        let in_rendered = placer.rendered;
        found
            .into_iter()
            .filter(|f| focus.is_empty() || f.envs.iter().any(|e| focus.contains(e)))
            .map(|f| {
                let mut diagnostic = f.diagnostic;
                for ((env, stack), file) in &in_rendered {
                    let labelled = diagnostic
                        .primary
                        .iter()
                        .chain(&diagnostic.secondary)
                        .any(|l| l.span.file == *file);
                    if let (true, Some(valid)) = (labelled, by_name.get(env.as_str())) {
                        diagnostic = renderer.to_template_source_of(
                            stacks_config,
                            valid,
                            stack,
                            *file,
                            diagnostic,
                            sources,
                        );
                    }
                }
                diagnostic
            })
            .collect()
    }
}

/// The names of `facts` (by environment, then place) whose claim shares its hash with
/// another's, sorted: only they can be taken twice. A project's names are compared as
/// sixteen bytes each, not read back into the rules' own, most of them to be found unique.
fn claimed_twice(
    facts: &[(String, cache::EnvFacts)],
    by_name: &HashMap<&str, &ValidEnv>,
) -> Vec<(usize, usize)> {
    let mut claims: Vec<(u64, u32, u32)> = Vec::new();
    for (at, (env, facts)) in facts.iter().enumerate() {
        let Some(valid) = by_name.get(env.as_str()) else {
            continue;
        };
        let hashes = facts.names().enumerate().filter_map(|(i, (kind, name))| {
            let hash = names::claim_hash(valid, kind, name)?;
            Some((hash, at as u32, i as u32))
        });
        claims.extend(hashes);
    }
    claims.sort_unstable();
    let mut twice: Vec<(usize, usize)> = claims
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|same| same.len() > 1)
        .flatten()
        .map(|&(_, at, i)| (at as usize, i as usize))
        .collect();
    twice.sort_unstable();
    twice
}

/// The facts of one environment found on an earlier run, and the key they are stored under
/// (`None` where it is not to be cached).
type Known = (Option<String>, Option<cache::EnvFacts>);

/// Reads the templates of `envs` into trees and runs the rules of one environment over them;
/// returns what the rules across environments compare, in the environments' order.
fn read_and_check<'a>(
    envs: Vec<(&'a ValidEnv, &'a RenderedEnv)>,
    scope: &Scope,
    placer: &mut Placer,
    found: &mut Vec<Finding>,
) -> Across<'a> {
    let mut stacks: Vec<Rendered> = crate::parallel::map(envs, |(valid, env)| {
        let read = env.stacks.iter().filter_map(|s| Rendered::read(valid, s));
        read.collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    template::index_environments(&mut stacks);
    let mut read = Across::default();
    names::check_each(&stacks, placer, found, &mut read.named);
    delivery::check(&stacks, placer, found);
    zones::check(&stacks, placer, found);
    quotas::check_each(&stacks, placer, found, &mut read.reserving);
    regions::check(&stacks, placer, found);
    budget::check(&stacks, found);
    replace::check(&stacks, scope.baseline, placer, found);
    read
}

/// Whether `env`'s golden files at the base commit are its render now (or it has none
/// there): then what a change replaces finds nothing in it.
fn same_at_base(baseline: &Baseline, env: &RenderedEnv) -> bool {
    let Some(before) = baseline.files.get(&env.name) else {
        return true;
    };
    before.values().all(Option::is_none)
        && before.len() == env.stacks.len()
        && env.stacks.iter().all(|s| before.contains_key(&s.stack))
}

/// A problem and the environments it concerns (for `check ENV`, which reports those of ENV).
struct Finding {
    envs: Vec<String>,
    diagnostic: Diagnostic,
}

/// What the rules read besides the rendered templates.
pub struct Scope<'a> {
    /// The environments whose findings are reported; every environment's when empty. The
    /// others are read all the same, for what they share with them (names, quotas).
    pub focus: &'a [String],
    /// The golden files at a base commit, for what a change replaces or deletes.
    pub baseline: Option<&'a Baseline>,
    /// The rules' cache ([`cache`]); none when caching is off.
    pub cache: Option<&'a Cache>,
}

/// Runs every rule over `rendered` (the stacks of `envs` that rendered, in the project in
/// `root`), reporting the findings that concern `scope.focus`.
pub fn check_rendered(
    renderer: &Renderer,
    stacks_config: &ValidStacks,
    (root, rendered): (&Path, &[RenderedEnv]),
    envs: &[ValidEnv],
    scope: &Scope,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let mut checker = Checker::new(root);
    // The environments' templates are read back into trees a batch of environments at a
    // time and dropped once the batch is checked: what the rules compare across
    // environments is kept as facts, so memory holds one batch of trees.
    for batch in pairs(rendered, envs).chunks(ENVS_PER_BATCH) {
        checker.check(batch, scope, sources);
    }
    checker.finish(
        renderer,
        stacks_config,
        (rendered, envs),
        scope.focus,
        sources,
    )
}

/// Each environment of `rendered` with its valid environment (one of `envs`).
pub fn pairs<'a>(
    rendered: &'a [RenderedEnv],
    envs: &'a [ValidEnv],
) -> Vec<(&'a ValidEnv, &'a RenderedEnv)> {
    let by_name: HashMap<&str, &ValidEnv> = envs.iter().map(|e| (e.name.as_str(), e)).collect();
    rendered
        .iter()
        .filter_map(|env| Some((*by_name.get(env.name.as_str())?, env)))
        .collect()
}

/// `AWS: <url>`, the note every finding ends with.
fn source_note(url: &str) -> String {
    format!("AWS documents this at {url}")
}

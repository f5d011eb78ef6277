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

use std::collections::{HashMap, HashSet};

use crate::cache::Cache;
use crate::change::Baseline;
use crate::diagnostic::Diagnostic;
use crate::render::{RenderedEnv, Renderer};
use crate::source::SourceMap;
use crate::validate::{ValidEnv, ValidStacks};

pub use names::NameRule;
use place::Placer;
use template::Rendered;

/// How many environments' trees are held at once.
const ENVS_PER_BATCH: usize = 64;

/// What the rules compare across environments, kept while the trees of each batch of
/// environments are read and dropped.
#[derive(Default)]
struct Across<'a> {
    named: Vec<names::Named<'a>>,
    reserving: Vec<quotas::Reserving<'a>>,
}

/// The facts of one environment found on an earlier run, and the key they are stored under
/// (`None` where it is not to be cached).
type Known<'a> = (
    Option<String>,
    Option<(Vec<names::Named<'a>>, Vec<quotas::Reserving<'a>>)>,
);

/// Runs the rules of one environment over each environment of `batch`, and adds what the
/// rules across environments compare to `across`, in the environments' order. An
/// environment whose facts are cached is not read again: the rules found nothing in it
/// before, from the same inputs.
fn check_batch<'a>(
    batch: &[(&'a ValidEnv, &'a RenderedEnv)],
    scope: &Scope,
    placer: &mut Placer,
    found: &mut Vec<Finding>,
    across: &mut Across<'a>,
) {
    let known: Vec<Known<'a>> = crate::parallel::map(batch.to_vec(), |(valid, env)| {
        let cache = scope
            .cache
            .filter(|_| scope.baseline.is_none_or(|b| same_at_base(b, env)));
        let key = cache.map(|cache| cache::key(cache, valid, env));
        let facts = cache
            .zip(key.as_deref())
            .and_then(|(c, k)| cache::load(c, k, valid, env));
        (key, facts)
    });
    let unread: Vec<(&ValidEnv, &RenderedEnv)> = batch
        .iter()
        .zip(&known)
        .filter(|(_, (_, facts))| facts.is_none())
        .map(|(env, _)| *env)
        .collect();
    let mut stacks: Vec<Rendered> = crate::parallel::map(unread, |(valid, env)| {
        let read = env.stacks.iter().filter_map(|s| Rendered::read(valid, s));
        read.collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    template::index_environments(&mut stacks);
    let before = found.len();
    let mut read = Across::default();
    names::check_each(&stacks, placer, found, &mut read.named);
    delivery::check(&stacks, placer, found);
    zones::check(&stacks, placer, found);
    quotas::check_each(&stacks, placer, found, &mut read.reserving);
    regions::check(&stacks, placer, found);
    budget::check(&stacks, found);
    replace::check(&stacks, scope.baseline, placer, found);
    let with_findings: HashSet<&str> = found[before..]
        .iter()
        .flat_map(|f| &f.envs)
        .map(String::as_str)
        .collect();
    let mut named = read.named.into_iter().peekable();
    let mut reserving = read.reserving.into_iter().peekable();
    for ((_, env), (key, facts)) in batch.iter().zip(known) {
        let (env_named, env_reserving) = facts.unwrap_or_else(|| {
            let of_env = |name: &str| name == env.name;
            let mut env_named = Vec::new();
            while let Some(item) = named.next_if(|n| of_env(&n.parts().0.env.name)) {
                env_named.push(item);
            }
            let mut env_reserving = Vec::new();
            while let Some(item) = reserving.next_if(|r| of_env(&r.parts().0.env.name)) {
                env_reserving.push(item);
            }
            if let (Some(cache), Some(key)) = (scope.cache, key) {
                if !with_findings.contains(env.name.as_str()) {
                    cache::store(cache, &env.name, key, &env_named, &env_reserving);
                }
            }
            (env_named, env_reserving)
        });
        across.named.extend(env_named);
        across.reserving.extend(env_reserving);
    }
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

/// Runs every rule over `rendered` (the stacks of `envs` that rendered), reporting the
/// findings that concern `scope.focus`.
pub fn check_rendered(
    renderer: &Renderer,
    stacks_config: &ValidStacks,
    rendered: &[RenderedEnv],
    envs: &[ValidEnv],
    scope: &Scope,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let by_name: HashMap<&str, &ValidEnv> = envs.iter().map(|e| (e.name.as_str(), e)).collect();
    let envs: Vec<(&ValidEnv, &RenderedEnv)> = rendered
        .iter()
        .filter_map(|env| Some((*by_name.get(env.name.as_str())?, env)))
        .collect();
    let mut placer = Placer::new(sources);
    let mut found = Vec::new();
    let mut across = Across::default();
    // The environments' templates are read back into trees a batch of environments at a
    // time and dropped once the batch is checked: what the rules compare across
    // environments is kept as facts, so memory holds one batch of trees.
    for batch in envs.chunks(ENVS_PER_BATCH) {
        check_batch(batch, scope, &mut placer, &mut found, &mut across);
    }
    names::check_unique(&across.named, &mut placer, &mut found);
    quotas::check_reserved_concurrency(&across.reserving, &mut placer, &mut found);
    let focus = scope.focus;
    let in_rendered = std::mem::take(&mut placer.rendered);
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

/// `AWS: <url>`, the note every finding ends with.
fn source_note(url: &str) -> String {
    format!("AWS documents this at {url}")
}

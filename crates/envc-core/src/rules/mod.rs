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
mod delivery;
mod names;
mod place;
mod quotas;
mod regions;
mod replace;
mod template;
mod zones;

use std::collections::HashMap;

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

/// A problem and the environments it concerns (for `check ENV`, which reports those of ENV).
struct Finding {
    envs: Vec<String>,
    diagnostic: Diagnostic,
}

/// Runs every rule over `rendered` (the stacks of `envs` that rendered). With `focus`
/// non-empty, reports only the findings that concern one of those environments; the others
/// are read all the same, for what they share with them (names, quotas).
pub fn check_rendered(
    renderer: &Renderer,
    stacks_config: &ValidStacks,
    rendered: &[RenderedEnv],
    envs: &[ValidEnv],
    focus: &[String],
    baseline: Option<&Baseline>,
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
    // time (on the pool, from 16 on) and dropped once the batch is checked: what the rules
    // compare across environments is kept as facts, so memory holds one batch of trees.
    for batch in envs.chunks(ENVS_PER_BATCH) {
        let mut stacks: Vec<Rendered> = crate::parallel::map(batch.to_vec(), |(valid, env)| {
            let read = env.stacks.iter().filter_map(|s| Rendered::read(valid, s));
            read.collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
        template::index_environments(&mut stacks);
        names::check_each(&stacks, &mut placer, &mut found, &mut across.named);
        delivery::check(&stacks, &mut placer, &mut found);
        zones::check(&stacks, &mut placer, &mut found);
        quotas::check_each(&stacks, &mut placer, &mut found, &mut across.reserving);
        regions::check(&stacks, &mut placer, &mut found);
        budget::check(&stacks, &mut found);
        replace::check(&stacks, baseline, &mut placer, &mut found);
    }
    names::check_unique(&across.named, &mut placer, &mut found);
    quotas::check_reserved_concurrency(&across.reserving, &mut placer, &mut found);
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

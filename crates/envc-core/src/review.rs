//! The review of a change, for `envc diff --base` and `envc cost`: the project rendered now
//! against its golden files at a base commit, with what each environment costs before and
//! after. Runs the pipeline to rendering, then [`change`] and [`cost`] over both sides.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::change::comment::{CostChange, Review};
use crate::change::{BaseRef, Baseline, Texts};
use crate::cost::{Estimate, Prices};
use crate::diagnostic::Diagnostic;
use crate::{PipelineRun, Stages};

/// Why a review could not be made.
pub enum Refused {
    /// The project has problems (printed from the run).
    Project(Box<PipelineRun>),
    /// The base could not be read.
    Base(Box<(PipelineRun, Diagnostic)>),
}

/// Renders the project in `root` and its texts, by environment and stack.
pub fn rendered(root: &Path) -> Result<PipelineRun, Refused> {
    let checked = crate::run(root, &[], Stages::Render);
    if checked.has_errors() {
        return Err(Refused::Project(Box::new(checked)));
    }
    Ok(checked)
}

/// The rendered texts of `checked`, for environments of `only` (all when empty).
pub fn texts<'c>(checked: &'c PipelineRun, only: &[String]) -> Texts<'c> {
    checked
        .rendered
        .iter()
        .filter(|e| only.is_empty() || only.contains(&e.name))
        .map(|env| {
            let stacks = env
                .stacks
                .iter()
                .map(|s| (s.stack.as_str(), s.body.as_str()))
                .collect();
            (env.name.as_str(), stacks)
        })
        .collect()
}

/// Each environment's region (the project's most common one for an environment that is
/// gone).
pub fn region_of(checked: &PipelineRun) -> impl Fn(&str) -> String + '_ {
    let regions: BTreeMap<&str, &str> = checked
        .validated
        .envs
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                e.model.region.as_deref().unwrap_or("us-east-1"),
            )
        })
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for region in regions.values() {
        *counts.entry(region).or_default() += 1;
    }
    let usual = counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or("us-east-1", |(r, _)| r)
        .to_string();
    move |env: &str| {
        regions
            .get(env)
            .map_or_else(|| usual.clone(), |r| r.to_string())
    }
}

/// Estimates the environments of `texts` as they are now.
pub fn estimates(checked: &PipelineRun, texts: &Texts) -> BTreeMap<String, Estimate> {
    crate::cost::estimate_texts(texts, &region_of(checked), Prices::shipped())
}

/// The change from the golden files at `base` to the project now, for the environments of
/// `only` (all when empty).
pub fn review(
    root: &Path,
    only: &[String],
    base: &BaseRef,
) -> Result<(PipelineRun, Review), Refused> {
    let checked = rendered(root)?;
    let baseline = match Baseline::read(root, base) {
        Ok(baseline) => baseline,
        Err(problem) => return Err(Refused::Base(Box::new((checked, problem)))),
    };
    let after = texts(&checked, only);
    let mut before = baseline.texts();
    before.retain(|env, _| only.is_empty() || only.iter().any(|o| o == env));
    let environments = crate::change::compare(&before, &after);
    let touched: BTreeSet<&str> = environments.iter().map(|e| e.env.as_str()).collect();
    let prices = Prices::shipped();
    let (old, new) = {
        let region = region_of(&checked);
        let mut before = before.clone();
        let mut after = after.clone();
        before.retain(|env, _| touched.contains(env));
        after.retain(|env, _| touched.contains(env));
        (
            crate::cost::estimate_texts(&before, &region, prices),
            crate::cost::estimate_texts(&after, &region, prices),
        )
    };
    let costs = touched
        .iter()
        .map(|env| {
            let after = new.get(*env);
            let not_priced = after
                .into_iter()
                .flat_map(|e| e.not_priced())
                .map(|l| format!("{}.{} ({})", l.stack, l.id, l.kind))
                .collect();
            let cost = CostChange {
                before: old.get(*env).map(|e| e.total),
                after: after.map(|e| e.total),
                not_priced,
            };
            (env.to_string(), cost)
        })
        .collect();
    let protected = checked
        .validated
        .envs
        .iter()
        .filter(|e| e.model.protected)
        .map(|e| e.name.clone())
        .collect();
    let review = Review {
        base: baseline.name.clone(),
        base_commit: baseline.commit.clone(),
        environments,
        costs,
        prices_date: prices.date.clone(),
        protected,
    };
    Ok((checked, review))
}

/// Each environment's monthly cost now and at `base`.
pub fn cost_change(
    root: &Path,
    checked: &PipelineRun,
    only: &[String],
    base: &BaseRef,
) -> Result<(Baseline, BTreeMap<String, Estimate>), Diagnostic> {
    let baseline = Baseline::read(root, base)?;
    let mut before = baseline.texts();
    before.retain(|env, _| only.is_empty() || only.iter().any(|o| o == env));
    let old = crate::cost::estimate_texts(&before, &region_of(checked), Prices::shipped());
    Ok((baseline, old))
}

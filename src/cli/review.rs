//! `diff --base` and `cost`: what a change does in AWS and what the environments cost.

use std::collections::BTreeMap;
use std::fmt::Write;

use envc_core::change::comment::{markdown, Review, GITHUB_COMMENT_LIMIT};
use envc_core::change::BaseRef;
use envc_core::cost::{Estimate, Money, Pricing};
use envc_core::review::Refused;

use super::output::{out, outln};
use super::report::Format;
use super::{print_diagnostics, Cli, ReviewFormat};

fn base_ref(base: Option<&str>) -> BaseRef {
    base.map_or(BaseRef::MergeBase, |b| BaseRef::Given(b.to_string()))
}

/// Prints why a review could not be made; the exit code.
fn refused(refusal: Refused, color: bool) -> i32 {
    match refusal {
        Refused::Project(checked) => {
            super::output::learn(&checked.sources);
            print_diagnostics(&checked.diagnostics, &checked.sources, Format::Human, color);
            checked.exit_code().max(1)
        }
        Refused::Base(refused) => {
            let (checked, problem) = *refused;
            print_diagnostics(&[problem], &checked.sources, Format::Human, color);
            2
        }
    }
}

/// Checks that every name of `envs` is an environment of the project.
fn known(checked: &envc_core::PipelineRun, envs: &[String], color: bool) -> Result<(), i32> {
    for env in envs {
        if !checked.rendered.iter().any(|r| r.name == *env) {
            let problem = checked.not_rendered(env);
            print_diagnostics(&[problem], &checked.sources, Format::Human, color);
            return Err(2);
        }
    }
    Ok(())
}

pub fn run_review(
    cli: &Cli,
    envs: &[String],
    base: Option<&str>,
    format: ReviewFormat,
    color: bool,
) -> i32 {
    let (checked, review) = match envc_core::review::review(&cli.dir, envs, &base_ref(base)) {
        Ok(done) => done,
        Err(refusal) => return refused(refusal, color),
    };
    super::output::learn(&checked.sources);
    if let Err(code) = known(&checked, envs, color) {
        return code;
    }
    match format {
        ReviewFormat::Markdown => out!("{}", markdown(&review, GITHUB_COMMENT_LIMIT)),
        ReviewFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&review).expect("a review serialises")
        ),
        ReviewFormat::Human => out!("{}", human_review(&review)),
    }
    i32::from(!review.environments.is_empty())
}

fn human_review(review: &Review) -> String {
    let mut text = String::new();
    if review.environments.is_empty() {
        let _ = writeln!(
            text,
            "no changes since {} ({})",
            review.base,
            short(&review.base_commit)
        );
        return text;
    }
    let _ = writeln!(
        text,
        "changes since {} ({}):",
        review.base,
        short(&review.base_commit)
    );
    for env in &review.environments {
        let cost = review.costs.get(&env.env).cloned().unwrap_or_default();
        let cost = match (cost.before, cost.after) {
            (Some(b), Some(a)) if b != a => format!(", {} → {} USD a month", b.shown(), a.shown()),
            _ => String::new(),
        };
        let _ = writeln!(text, "\n{}{cost}", env.env);
        for (stack, resource) in env.resources() {
            let _ = writeln!(
                text,
                "  {}.{} ({}) {}",
                stack.stack,
                resource.id,
                resource.kind,
                resource.action.verb()
            );
            // Values from the files, written out on their line: one cannot forge another.
            let one_line = super::output::one_line;
            for property in &resource.properties {
                let _ = writeln!(
                    text,
                    "      {}: {} → {}",
                    one_line(&property.path),
                    one_line(property.before.as_deref().unwrap_or("(none)")),
                    one_line(property.after.as_deref().unwrap_or("(none)"))
                );
            }
            for grant in &resource.widened {
                let _ = writeln!(text, "      grants {}", one_line(&grant.text));
            }
        }
    }
    text
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

pub fn run_cost(
    cli: &Cli,
    env: Option<&str>,
    format: ReviewFormat,
    base: Option<&str>,
    color: bool,
) -> i32 {
    let checked = match envc_core::review::rendered(&cli.dir) {
        Ok(checked) => checked,
        Err(refusal) => return refused(refusal, color),
    };
    super::output::learn(&checked.sources);
    let only: Vec<String> = env.into_iter().map(String::from).collect();
    if let Err(code) = known(&checked, &only, color) {
        return code;
    }
    let texts = envc_core::review::texts(&checked, &only);
    let estimates = envc_core::review::estimates(&checked, &texts);
    let before = match base {
        None => None,
        Some(base) => {
            match envc_core::review::cost_change(&cli.dir, &checked, &only, &base_ref(Some(base))) {
                Ok((baseline, old)) => Some((baseline.name, old)),
                Err(problem) => {
                    print_diagnostics(&[problem], &checked.sources, Format::Human, color);
                    return 2;
                }
            }
        }
    };
    let text = match format {
        ReviewFormat::Json => {
            let json = serde_json::json!({
                "prices_date": envc_core::cost::Prices::shipped().date,
                "currency": "USD",
                "environments": estimates.values().map(|e| {
                    let mut value = serde_json::to_value(e).expect("an estimate serialises");
                    if let Some((_, old)) = &before {
                        value["before"] = serde_json::to_value(old.get(&e.env).map(|o| o.total)).expect("money serialises");
                    }
                    value
                }).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&json).expect("json") + "\n"
        }
        ReviewFormat::Markdown => cost_markdown(&estimates, before.as_ref()),
        ReviewFormat::Human => cost_human(&estimates, before.as_ref()),
    };
    out!("{text}");
    0
}

type Before = (String, BTreeMap<String, Estimate>);

fn delta_line(env: &str, now: Money, before: Option<&Before>) -> Option<String> {
    let (base, old) = before?;
    let old = old.get(env).map(|e| e.total).unwrap_or_default();
    Some(format!(
        "{} → {} USD a month ({}) since {base}",
        old.shown(),
        now.shown(),
        (now - old).shown_as_change()
    ))
}

fn cost_human(estimates: &BTreeMap<String, Estimate>, before: Option<&Before>) -> String {
    let mut text = String::new();
    for estimate in estimates.values() {
        let _ = writeln!(
            text,
            "{} ({}): {} USD a month",
            estimate.env,
            estimate.region,
            estimate.total.shown()
        );
        if let Some(line) = delta_line(&estimate.env, estimate.total, before) {
            let _ = writeln!(text, "  {line}");
        }
        for (stack, total) in estimate.by_stack() {
            if total.is_zero() {
                continue;
            }
            let _ = writeln!(text, "  {stack:<28} {:>16}", total.shown());
            for (lines, first) in alike(estimate, stack) {
                let mark = if first.unverified { "~" } else { " " };
                let (name, what, money) = match lines {
                    1 => (first.id.clone(), first.what.clone(), first.monthly),
                    n => (
                        format!("{} and {} more", first.id, n - 1),
                        format!("{n} × {}", first.what),
                        Money::range(first.monthly.low * n as f64, first.monthly.high * n as f64),
                    ),
                };
                let _ = writeln!(text, "    {name:<26}{mark}{:>16}  {what}", money.shown());
            }
        }
        let usage = estimate.usage();
        if !usage.is_empty() {
            let _ = writeln!(text, "  depends on usage (not in the total):");
            for price in usage {
                let _ = writeln!(
                    text,
                    "    {}: {} USD per {}",
                    price.what, price.usd, price.unit
                );
            }
        }
        let missing: Vec<String> = estimate
            .not_priced()
            .map(|l| format!("{}.{} ({})", l.stack, l.id, l.kind))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(text, "  not priced: {}", missing.join(", "));
        }
        text.push('\n');
    }
    let _ = writeln!(text, "{}", footnote(estimates));
    text
}

/// The priced lines of `stack`, those priced alike (same type, same reckoning) as one: how
/// many, and the first.
fn alike<'e>(estimate: &'e Estimate, stack: &str) -> Vec<(usize, &'e envc_core::cost::Line)> {
    let mut groups: Vec<(usize, &envc_core::cost::Line)> = Vec::new();
    for line in estimate
        .lines
        .iter()
        .filter(|l| l.stack == stack && !l.monthly.is_zero())
    {
        match groups
            .iter_mut()
            .find(|(_, g)| g.kind == line.kind && g.what == line.what && g.monthly == line.monthly)
        {
            Some((n, _)) => *n += 1,
            None => groups.push((1, line)),
        }
    }
    groups
}

fn footnote(estimates: &BTreeMap<String, Estimate>) -> String {
    let unverified: usize = estimates.values().map(Estimate::unverified).sum();
    let mut note = format!(
        "On-demand prices of {} (data/aws-prices.json, each row with its source), 730 hours a month; \
         free tiers and savings plans not applied.",
        envc_core::cost::Prices::shipped().date
    );
    if unverified > 0 {
        note.push_str(
            " ~ marks a cost from a price no source has confirmed yet (the best known figure).",
        );
    }
    note
}

fn cost_markdown(estimates: &BTreeMap<String, Estimate>, before: Option<&Before>) -> String {
    let mut text = String::from("| environment | region | USD a month |");
    if before.is_some() {
        text.push_str(" change |");
    }
    text.push_str("\n|---|---|--:|");
    if before.is_some() {
        text.push_str("--:|");
    }
    text.push('\n');
    for estimate in estimates.values() {
        let _ = write!(
            text,
            "| {} | {} | {} |",
            estimate.env,
            estimate.region,
            estimate.total.shown()
        );
        if let Some(line) = delta_line(&estimate.env, estimate.total, before) {
            let _ = write!(text, " {line} |");
        }
        text.push('\n');
    }
    for estimate in estimates.values() {
        let _ = writeln!(
            text,
            "\n<details><summary>{}: {} USD a month</summary>\n\n| stack | resource | USD a month | priced as |\n|---|---|--:|---|",
            estimate.env,
            estimate.total.shown()
        );
        for line in estimate.lines.iter().filter(|l| l.pricing != Pricing::Free) {
            let _ = writeln!(
                text,
                "| {} | {} | {} | {} |",
                line.stack,
                line.id,
                line.monthly.shown(),
                match line.pricing {
                    Pricing::Usage => "depends on usage".to_string(),
                    Pricing::NotPriced => format!("not priced ({})", line.kind),
                    _ => line.what.clone(),
                }
            );
        }
        text.push_str("\n</details>\n");
    }
    let _ = writeln!(text, "\n{}", footnote(estimates));
    text
}

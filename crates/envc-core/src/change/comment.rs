//! A change as one pull-request comment: replacements and deletions first, then widened IAM
//! permissions, then the monthly cost, then every change. It fits GitHub's limit however
//! large the change: identical lines of many environments become one line naming them, the
//! risky lines always stay, and what does not fit is counted instead of cut mid-way.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Action, Cause, EnvChange, ResourceChange, StackChange};
use crate::cost::Money;

/// GitHub's limit on a comment's body: 65,536 characters. The comment is held to as many
/// bytes, which no text of as many characters exceeds.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept for the note on what was left out, however long its counts.
const RESERVE: usize = 400;

/// The first line of every comment envc writes: how a workflow finds the comment to update.
pub const MARKER: &str = "<!-- envc diff -->";

/// A change and what it costs, ready to show.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Review {
    /// What the base was asked for as, and its commit.
    pub base: String,
    pub base_commit: String,
    pub environments: Vec<EnvChange>,
    /// Monthly cost before and after, per environment.
    pub costs: BTreeMap<String, CostChange>,
    /// The price snapshot's date.
    pub prices_date: String,
    /// Environments that are protected.
    pub protected: BTreeSet<String>,
}

/// One environment's monthly cost before and after a change.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CostChange {
    /// `None` where the environment has no stacks on that side.
    pub before: Option<Money>,
    pub after: Option<Money>,
    /// Resources the snapshot has no price for, after the change (`stack.Id (Type)`).
    pub not_priced: Vec<String>,
}

impl Review {
    /// Environments whose monthly cost changes.
    pub fn cost_changes(&self) -> impl Iterator<Item = (&str, &CostChange)> {
        self.costs
            .iter()
            .filter(|(_, cost)| {
                let delta = cost.after.unwrap_or_default() - cost.before.unwrap_or_default();
                delta.low.abs() >= 0.005 || delta.high.abs() >= 0.005 || !cost.not_priced.is_empty()
            })
            .map(|(env, cost)| (env.as_str(), cost))
    }
}

/// Lines that say the same of several environments, in first-seen order.
#[derive(Default)]
struct Grouped {
    lines: Vec<(String, Vec<String>)>,
}

impl Grouped {
    fn add(&mut self, line: String, env: &str) {
        match self.lines.iter_mut().find(|(l, _)| *l == line) {
            Some((_, envs)) => envs.push(env.to_string()),
            None => self.lines.push((line, vec![env.to_string()])),
        }
    }
}

/// The comment, in at most `limit` characters.
pub fn markdown(review: &Review, limit: usize) -> String {
    let mut out = header(review);
    let (risky, widened) = grouped_lines(review);
    risky_section(&mut out, &risky, review, limit);
    // From here on, each part is added only while the rest still fits.
    let rest = later_parts(review, &widened);
    fit(&mut out, &rest, limit, review);
    out
}

/// The comment's marker, title, and what it compares with.
fn header(review: &Review) -> String {
    let all = review.environments.len();
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}\n## envc: what this change does in AWS\n");
    let _ = writeln!(
        out,
        "Compared with the golden files at {} (`{}`): {} environment{} change{}.\n",
        review.base,
        &review.base_commit[..review.base_commit.len().min(12)],
        all,
        if all == 1 { "" } else { "s" },
        if all == 1 { "s" } else { "" },
    );
    out
}

/// The risky lines (replacements and deletions) and the widened permissions, each line
/// with the environments it is true of.
fn grouped_lines(review: &Review) -> (Grouped, Grouped) {
    let mut risky = Grouped::default();
    let mut widened = Grouped::default();
    for env in &review.environments {
        for (stack, resource) in env.resources() {
            if resource.action.is_risky() {
                risky.add(risky_line(stack, resource), &env.env);
            }
            for grant in &resource.widened {
                let flag = if grant.wildcard { " ⚠ wildcard" } else { "" };
                let line = format!(
                    "`{}` `{}` grants `{}`{flag}",
                    stack.stack,
                    tick_safe(&resource.id),
                    tick_safe(&grant.text)
                );
                widened.add(line, &env.env);
            }
        }
    }
    (risky, widened)
}

/// Appends the section of replacements and deletions: every risky line, naming fewer
/// environments each when they would not fit in `limit`.
fn risky_section(out: &mut String, risky: &Grouped, review: &Review, limit: usize) {
    let all = review.environments.len();
    out.push_str("### Replaced and deleted\n\n");
    if risky.lines.is_empty() {
        out.push_str("Nothing is replaced or deleted.\n\n");
    }
    // Every risky line stays; when they alone would not fit, each names fewer environments.
    let room = limit.saturating_sub(out.len() + RESERVE);
    let section = [usize::MAX, 20, 3, 0]
        .into_iter()
        .map(|most| {
            let mut section = String::new();
            for (line, envs) in &risky.lines {
                let envs = envs_shown(envs, all, &review.protected, most);
                let _ = writeln!(section, "- {line} — {envs}");
            }
            section
        })
        .find(|section| section.len() <= room);
    out.push_str(
        section
            .as_deref()
            .unwrap_or("(too many replacements and deletions to list: see `--format json`)\n"),
    );
    if !risky.lines.is_empty() {
        out.push('\n');
    }
}

/// The parts after the risky lines, in order: widened permissions, the monthly cost, and
/// every change; each is shown only while it fits.
fn later_parts(review: &Review, widened: &Grouped) -> Vec<String> {
    let all = review.environments.len();
    let mut rest = Vec::new();
    let mut part = String::from("### IAM permissions widened\n\n");
    if widened.lines.is_empty() {
        part.push_str("No permission is added.\n");
    }
    rest.push(part);
    for (line, envs) in &widened.lines {
        let envs = envs_shown(envs, all, &review.protected, usize::MAX);
        rest.push(format!("- {line} — {envs}\n"));
    }
    rest.push(format!(
        "\n### Monthly cost (USD, on-demand prices of {})\n\n| environment | before | after | change |\n|---|--:|--:|--:|\n",
        review.prices_date
    ));
    let cost_rows = cost_rows(review);
    if cost_rows.is_empty() {
        rest.push("| (no environment's cost changes) | | | |\n".to_string());
    }
    rest.extend(cost_rows);
    rest.push("\n### Every change\n\n".to_string());
    for env in &review.environments {
        rest.push(details(env, review.protected.contains(&env.env)));
    }
    rest
}

/// A row of the cost table for each environment whose monthly cost changes.
fn cost_rows(review: &Review) -> Vec<String> {
    review
        .cost_changes()
        .map(|(env, cost)| {
            let (before, after) = (
                cost.before.unwrap_or_default(),
                cost.after.unwrap_or_default(),
            );
            let unpriced = match cost.not_priced.as_slice() {
                [] => String::new(),
                names => format!(" (not priced: {})", names.join(", ")),
            };
            format!(
                "| {env} | {} | {}{unpriced} | {} |\n",
                before.shown(),
                after.shown(),
                (after - before).shown_as_change()
            )
        })
        .collect()
}

/// Appends the parts of `rest` that fit in `limit`, then a count of those left out.
fn fit(out: &mut String, rest: &[String], limit: usize, review: &Review) {
    let mut used = out.len();
    let mut left_out = 0;
    for part in rest {
        let size = part.len();
        if left_out == 0 && used + size + RESERVE <= limit {
            out.push_str(part);
            used += size;
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        let resources: usize = review
            .environments
            .iter()
            .map(|e| e.resources().count())
            .sum();
        let _ = write!(
            out,
            "\n…and {left_out} more part{} not shown ({resources} resource changes in {} environments in all): \
             a comment holds {GITHUB_COMMENT_LIMIT} characters. Every replacement and deletion is listed above; \
             `envc diff --base {} ENV` shows one environment in full.\n",
            if left_out == 1 { "" } else { "s" },
            review.environments.len(),
            review.base_commit.get(..12).unwrap_or(&review.base_commit),
        );
    }
}

fn risky_line(stack: &StackChange, resource: &ResourceChange) -> String {
    let data = if resource.stateful {
        ", holds data"
    } else {
        ""
    };
    let mark = if resource.stateful { "🛑" } else { "⚠️" };
    let why = match &resource.cause {
        Some(Cause::Type) => ": its type changes".to_string(),
        Some(Cause::Property { path }) => {
            format!(
                ": `{}` changes and cannot be updated in place",
                tick_safe(path)
            )
        }
        Some(Cause::Refers { path, stack: s, id }) => {
            let id = tick_safe(id);
            let whose = if *s == stack.stack {
                format!("`{id}`")
            } else {
                format!("`{s}`'s `{id}`")
            };
            format!(
                ": `{}` refers to {whose}, which is replaced",
                tick_safe(path)
            )
        }
        None if resource.action == Action::Delete
            && stack.resources.iter().all(|r| r.action == Action::Delete) =>
        {
            " (its stack goes)".to_string()
        }
        None => String::new(),
    };
    format!(
        "{mark} `{}` `{}` (`{}`{data}) **{}**{why}",
        stack.stack,
        tick_safe(&resource.id),
        tick_safe(&resource.kind),
        resource.action.verb()
    )
}

/// One environment's changes, folded.
fn details(env: &EnvChange, protected: bool) -> String {
    let counts: Vec<String> = env
        .counts()
        .iter()
        .rev()
        .map(|(action, n)| format!("{n} {}", action.verb()))
        .collect();
    let mut out = format!(
        "<details><summary><b>{}</b>{}: {}</summary>\n\n",
        env.env,
        if protected { " (protected)" } else { "" },
        counts.join(", ")
    );
    for stack in &env.stacks {
        let _ = writeln!(out, "**{}** ({})\n", stack.stack, status_word(stack));
        for resource in &stack.resources {
            let _ = writeln!(
                out,
                "- `{}` `{}` {}",
                tick_safe(&resource.id),
                tick_safe(&resource.kind),
                resource.action.verb()
            );
            for property in &resource.properties {
                let before = property.before.as_deref().unwrap_or("(none)");
                let after = property.after.as_deref().unwrap_or("(none)");
                let _ = writeln!(
                    out,
                    "  - `{}`: `{}` → `{}`",
                    tick_safe(&property.path),
                    tick_safe(before),
                    tick_safe(after)
                );
            }
        }
        if !stack.other_sections.is_empty() {
            let _ = writeln!(out, "- also changed: {}", stack.other_sections.join(", "));
        }
        out.push('\n');
    }
    out.push_str("</details>\n\n");
    out
}

fn status_word(stack: &StackChange) -> &'static str {
    match stack.status {
        super::Status::Added => "new stack",
        super::Status::Deleted => "stack deleted",
        super::Status::Changed => "changed",
    }
}

/// Text to put inside inline code: a backtick would end it, and a line break would end
/// the line (a blank line, the paragraph, after which the text would be markdown and HTML
/// of the comment), so they are written out.
fn tick_safe(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '`' => safe.push('\''),
            '\n' => safe.push_str("\\n"),
            '\r' => safe.push_str("\\r"),
            c if c.is_control() => safe.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => safe.push(c),
        }
    }
    safe
}

/// The environments a line is about: all of them, or their names (protected ones marked),
/// at most `most` of them and a count of the rest.
fn envs_shown(envs: &[String], all: usize, protected: &BTreeSet<String>, most: usize) -> String {
    if envs.len() == all && all > 3 {
        return format!("all {all} environments");
    }
    let mut names: Vec<String> = envs
        .iter()
        .take(most)
        .map(|e| {
            if protected.contains(e) {
                format!("**{e}** (protected)")
            } else {
                format!("**{e}**")
            }
        })
        .collect();
    if envs.len() > most {
        names.push(format!("{} more", envs.len() - most));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::tick_safe;

    /// What goes inside inline code cannot end it, nor the line it is on: a value from an
    /// environment file cannot close the comment's `<details>` or add a heading.
    #[test]
    fn inline_code_holds_any_value() {
        let value = "x\n</details>\n\n# INJECTED `y`\r<img src=x>";
        let safe = tick_safe(value);
        assert!(!safe.contains(['\n', '\r', '`']), "{safe}");
        assert_eq!(safe, r"x\n</details>\n\n# INJECTED 'y'\r<img src=x>");
    }
}

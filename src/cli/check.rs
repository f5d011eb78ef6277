//! `check` and `explain`: the pipeline's problems, and where one value of an environment
//! comes from.

use super::output::{self, out, outln};
use super::report::Format;
use super::{print_diagnostics, Cli};

/// `envc check`: the problems of `envs` (all when empty), with the change from `base` (the
/// merge base with the main branch when not given).
pub fn run_check(
    cli: &Cli,
    envs: &[String],
    format: Format,
    deny_warnings: bool,
    base: Option<&str>,
    color: bool,
) -> i32 {
    // Located by git beside the pipeline; without git or a main branch there is nothing to
    // measure a change from, and no problem in that.
    let base = match base {
        Some(base) => envc_core::change::BaseRef::Given(base.to_string()),
        None => envc_core::change::BaseRef::MergeBase,
    };
    let baseline = envc_core::change::baseline::Locating::start(&cli.dir, &base);
    let checked = envc_core::check_against(&cli.dir, envs, Some(baseline));
    print_diagnostics(&checked.diagnostics, &checked.sources, format, color);
    if format == Format::Human && checked.diagnostics.is_empty() {
        let count = checked.validated.envs.len();
        outln!(
            "envc: {count} environment{} checked, no problems",
            if count == 1 { "" } else { "s" }
        );
    }
    // A cache envc cannot use is this machine's condition, not the project's: it says so,
    // and does not fail a check that is to pass only on a clean project.
    let warned = checked
        .diagnostics
        .iter()
        .any(|d| !d.is_error() && d.code != envc_core::diagnostic::Code::CacheRefused);
    let code = match checked.exit_code() {
        0 if deny_warnings && warned => 1,
        code => code,
    };
    // The process exits next: taking apart every rendered stack would only cost time.
    std::mem::forget(checked);
    code
}

/// `envc explain ENV PATH`: each value at `path`, and the files that made it.
pub fn run_explain(cli: &Cli, env: &str, path: &str, color: bool) -> i32 {
    let (sources, result) = envc_core::explain::explain(&cli.dir, env, path);
    output::learn(&sources);
    match result {
        Ok(explanation) => {
            // A value built from references is in no file as it is shown (a removed one is
            // shown as written, which the files teach).
            let removed = |v: &envc_core::explain::ExplainedValue| {
                v.history.first().map(|s| s.kind) == Some(envc_core::explain::StepKind::Removed)
            };
            for value in explanation
                .values
                .iter()
                .filter(|v| v.credential.is_some() && !removed(v))
            {
                output::learn_value(value.shown.trim_matches('"'));
            }
            out!("{}", format_explanation(&explanation));
            if explanation.problems.is_empty() {
                0
            } else {
                print_diagnostics(&explanation.problems, &sources, Format::Human, color);
                1
            }
        }
        Err(problems) => {
            print_diagnostics(&problems, &sources, Format::Human, color);
            if problems
                .iter()
                .any(|d| d.code == envc_core::diagnostic::Code::UnknownPath)
            {
                2
            } else {
                envc_core::exit_code(&problems).max(1)
            }
        }
    }
}

/// Each value of an explanation, with the steps (files and lines) that made it.
fn format_explanation(explanation: &envc_core::explain::Explanation) -> String {
    let mut out = String::new();
    for value in &explanation.values {
        out.push_str(&format!(
            "{} {} = {}\n",
            explanation.env, value.path, value.shown
        ));
        for (i, step) in value.history.iter().enumerate() {
            use envc_core::explain::StepKind;
            let verb = match step.kind {
                StepKind::Set | StepKind::Default => "set by",
                StepKind::Overrode => "overrode",
                StepKind::Removed => "removed",
            };
            let inherited = if i == 0 && step.env != explanation.env {
                format!(" (inherited by {})", explanation.env)
            } else {
                String::new()
            };
            let place = match step.kind {
                StepKind::Default => "(no file sets it)".to_string(),
                StepKind::Removed => format!("at {}{inherited}", step.location),
                _ => format!("at {}  {}{inherited}", step.location, step.shown),
            };
            out.push_str(&format!("  {verb:<9}{:<12} {place}\n", step.env));
        }
    }
    out
}

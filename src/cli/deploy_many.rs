//! `envc deploy` of several environments: one plan, one question, then a table of how each
//! environment ended, and exit 1 naming those that failed.

use std::sync::Arc;

use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::source::SourceMap;
use envc_deploy::many::{EnvOutcome, EnvReport, ManyOptions, ManyReport};
use envc_deploy::{InFlight, Outcome, Reporter};

use super::deploy::{narrow, until_interrupted, DeployArgs, Printer};
use super::output::outln;
use super::report::Format;
use super::{print_diagnostics, Cli};

pub fn run(cli: &Cli, args: &DeployArgs, color: bool) -> i32 {
    let (sources, targets) = envc_deploy::deploy_targets(
        &cli.dir,
        &args.envs,
        args.all,
        &args.aws.options(),
        envc_core::Stages::Check,
    );
    super::output::learn(&sources);
    let mut targets = match targets {
        Ok(targets) => targets,
        Err(problems) => {
            print_diagnostics(&problems, &sources, Format::Human, color);
            return envc_core::exit_code(&problems).max(1);
        }
    };
    let refused: Vec<Diagnostic> = targets
        .iter_mut()
        .filter_map(|target| narrow(target, args).err())
        .collect();
    if !refused.is_empty() {
        print_diagnostics(&refused, &SourceMap::default(), Format::Human, color);
        return 2;
    }
    let options = ManyOptions {
        each: args.options(4),
        at_once: usize::from(args.concurrency),
        max_failures: usize::from(args.max_failures),
    };
    let printer: Arc<dyn Reporter> = Arc::new(Printer::new(color));
    let in_flight: Vec<InFlight> = targets.iter().map(|_| InFlight::default()).collect();
    let deploying: Vec<_> = targets.iter().zip(&in_flight).collect();
    let work = envc_deploy::many::deploy_many(&targets, &options, printer, &in_flight);
    let report = match until_interrupted(work, &deploying) {
        Ok(report) => report,
        Err(code) => return code,
    };
    print_summary(&report, color);
    i32::from(!report.succeeded())
}

/// Each environment's problems under its name, the table of environments, and what failed.
fn print_summary(report: &ManyReport, color: bool) {
    for env in &report.environments {
        if !env.report.diagnostics.is_empty() {
            outln!();
            outln!("{}:", env.env);
            print_diagnostics(
                &env.report.diagnostics,
                &SourceMap::default(),
                Format::Human,
                color,
            );
        }
    }
    if !report.environments.is_empty() {
        outln!();
        outln!("environments:");
        let width = report
            .environments
            .iter()
            .map(|e| e.env.len())
            .max()
            .unwrap_or(0);
        for env in &report.environments {
            outln!(
                "  {:<width$}  {:<12}  {:<9}  {:<12}  {}",
                env.env,
                env.account,
                env.region,
                shown(env.outcome),
                stacks_line(env)
            );
        }
    }
    let mut problems = report.diagnostics.clone();
    let failed = report.failed();
    if !failed.is_empty() {
        let named: Vec<String> = failed.iter().map(|e| format!("`{e}`")).collect();
        problems.push(
            Diagnostic::error(
                Code::StackFailed,
                format!(
                    "{} of {} environments failed: {}",
                    failed.len(),
                    report.environments.len(),
                    named.join(", ")
                ),
            )
            .help(format!(
                "their problems are above; `envc status {}` shows where each stack stands, and `envc deploy {}` tries again",
                failed[0],
                failed.join(" ")
            )),
        );
    }
    print_diagnostics(&problems, &SourceMap::default(), Format::Human, color);
}

fn shown(outcome: EnvOutcome) -> &'static str {
    match outcome {
        EnvOutcome::Deployed => "deployed",
        EnvOutcome::NoChanges => "no changes",
        EnvOutcome::DryRun => "dry run",
        EnvOutcome::Skipped => "skipped",
        EnvOutcome::Failed => "FAILED",
    }
}

/// "13 created", "1 updated, 12 no changes", "failed: api".
fn stacks_line(env: &EnvReport) -> String {
    let stacks = &env.report.stacks;
    let failed: Vec<&str> = stacks
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .map(|s| s.stack.as_str())
        .collect();
    let mut parts = Vec::new();
    if !failed.is_empty() {
        parts.push(format!("failed: {}", failed.join(", ")));
    }
    for (outcome, word) in [
        (Outcome::Created, "created"),
        (Outcome::Updated, "updated"),
        (Outcome::NoChanges, "no changes"),
        (Outcome::DryRun, "dry run"),
        (Outcome::Skipped, "skipped"),
    ] {
        let count = stacks.iter().filter(|s| s.outcome == outcome).count();
        if count > 0 {
            parts.push(format!("{count} {word}"));
        }
    }
    parts.join(", ")
}

//! Many environments in one deploy (`envc deploy dev staging local`, `--all`, `'pr-*'`),
//! as CloudFormation StackSets deploy to many accounts, with the preview they lack.
//!
//! Every environment is looked at and planned first, each with its own account, region and
//! role; the plans are shown one environment after another and confirmed once. Then the
//! environments deploy, a bounded number at once, each wave by wave as alone. An environment
//! that imports what another of the same deploy exports starts after that one succeeded.
//! Once more environments failed than `--max-failures` allows, none starts any more: their
//! change sets are deleted and they are reported skipped; those running finish.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use super::run::{self, has_changes, Run, StackPlan};
use super::{DeployOptions, DeployReport, DeployTarget, InFlight, Progress, Reporter};
use envc_core::diagnostic::{Code, Diagnostic};

/// How several environments deploy.
#[derive(Debug, Clone)]
pub struct ManyOptions {
    /// What each environment's deploy does, as `envc deploy ENV`.
    pub each: DeployOptions,
    /// Environments deploying at once.
    pub at_once: usize,
    /// Environments that may fail before no more start.
    pub max_failures: usize,
}

/// How one environment's part ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvOutcome {
    Deployed,
    NoChanges,
    DryRun,
    /// Planned, and not deployed: another failed first, or the answer was no.
    Skipped,
    Failed,
}

/// One environment's part of the deploy.
#[derive(Debug)]
pub struct EnvReport {
    pub env: String,
    pub account: String,
    pub region: String,
    pub outcome: EnvOutcome,
    pub report: DeployReport,
}

#[derive(Debug, Default)]
pub struct ManyReport {
    /// In the order the environments were named.
    pub environments: Vec<EnvReport>,
    /// What concerns the deploy as a whole (the answer, the failures).
    pub diagnostics: Vec<Diagnostic>,
}

impl ManyReport {
    pub fn failed(&self) -> Vec<&str> {
        self.environments
            .iter()
            .filter(|e| e.outcome == EnvOutcome::Failed)
            .map(|e| e.env.as_str())
            .collect()
    }

    pub fn succeeded(&self) -> bool {
        self.failed().is_empty() && self.diagnostics.iter().all(|d| !d.is_error())
    }
}

/// Progress of one environment, its stacks named `env/stack`, so that the lines of
/// environments deploying at once can be told apart.
struct InEnvironment {
    env: String,
    inner: Arc<dyn Reporter>,
}

impl Reporter for InEnvironment {
    fn progress(&self, progress: Progress) {
        let named = |stack: String| format!("{}/{stack}", self.env);
        self.inner.progress(match progress {
            Progress::Plan(mut summary) => {
                summary.stack = named(summary.stack);
                Progress::Plan(summary)
            }
            Progress::NoChanges { stack } => Progress::NoChanges {
                stack: named(stack),
            },
            Progress::Replacing { stack, status } => Progress::Replacing {
                stack: named(stack),
                status,
            },
            Progress::Started { stack, action } => Progress::Started {
                stack: named(stack),
                action,
            },
            Progress::Resource {
                stack,
                logical_id,
                resource_type,
                status,
                reason,
            } => Progress::Resource {
                stack: named(stack),
                logical_id,
                resource_type,
                status,
                reason,
            },
            Progress::Finished { stack, status } => Progress::Finished {
                stack: named(stack),
                status,
            },
            Progress::DryRun { stack } => Progress::DryRun {
                stack: named(stack),
            },
            Progress::Wave { number, stacks } => Progress::Wave {
                number,
                stacks: stacks.into_iter().map(named).collect(),
            },
            Progress::Deploying { number, stacks } => Progress::Deploying {
                number,
                stacks: stacks.into_iter().map(named).collect(),
            },
            other @ Progress::Environment { .. } => other,
        });
    }

    fn confirm(&self, question: &str) -> bool {
        self.inner.confirm(question)
    }
}

/// One environment between its plan and its end.
enum Stage {
    /// Stopped before a plan could be shown (AWS could not be asked, a stack is busy).
    Stopped(DeployReport),
    Planned(Box<Run>, Vec<StackPlan>),
    Done(EnvOutcome, DeployReport),
}

/// Deploys `targets` (with `in_flight[i]` for `targets[i]`, for Ctrl-C).
pub async fn deploy_many(
    targets: &[DeployTarget],
    options: &ManyOptions,
    reporter: Arc<dyn Reporter>,
    in_flight: &[InFlight],
) -> ManyReport {
    let mut report = ManyReport::default();
    let named = targets
        .iter()
        .map(|t| format!("`{}`", t.env))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(problem) = run::unconfirmable(&options.each, &named) {
        report.diagnostics.push(problem);
        return report;
    }
    let stages = plan_all(targets, options, &reporter, in_flight).await;
    // `show` counts each environment stopped before its plan as it passes it by.
    let mut failures = 0;
    let mut shown = Vec::with_capacity(stages.len());
    for stage in stages {
        let (stage, failed) = show(stage).await;
        failures += usize::from(failed);
        shown.push(stage);
    }
    let mut stages = shown;
    let go_on = failures <= options.max_failures;
    if !go_on {
        report.diagnostics.push(over_tolerance(
            failures,
            options.max_failures,
            "before anything was deployed",
        ));
    } else if options.each.dry_run {
        for stage in &mut stages {
            if let Stage::Planned(run, plans) = stage {
                run.dry_run(plans).await;
            }
        }
    } else if stages.iter().any(|s| matches!(s, Stage::Planned(..))) {
        match confirm_all(targets, &stages, options, &reporter).await {
            Ok(()) => stages = apply_all(targets, stages, options, failures).await,
            Err(problem) => report.diagnostics.push(problem),
        }
    }
    for (target, stage) in targets.iter().zip(stages) {
        let (outcome, env_report) = settle(stage, options.each.dry_run).await;
        report.environments.push(EnvReport {
            env: target.env.clone(),
            account: target.aws.account.clone(),
            region: target.aws.region.clone(),
            outcome,
            report: env_report,
        });
    }
    report
}

/// Looks at and plans every environment, `at_once` at a time; nothing is shown yet.
async fn plan_all(
    targets: &[DeployTarget],
    options: &ManyOptions,
    reporter: &Arc<dyn Reporter>,
    in_flight: &[InFlight],
) -> Vec<Stage> {
    let coming: Arc<HashSet<String>> = Arc::new(targets.iter().flat_map(exports_of).collect());
    let limit = Arc::new(tokio::sync::Semaphore::new(options.at_once.max(1)));
    let mut planning = tokio::task::JoinSet::new();
    for (index, (target, in_flight)) in targets.iter().zip(in_flight).enumerate() {
        let each = options.each.clone();
        let reporter: Arc<dyn Reporter> = Arc::new(InEnvironment {
            env: target.env.clone(),
            inner: reporter.clone(),
        });
        let (target, in_flight, coming, limit) = (
            Arc::new(target.clone()),
            in_flight.clone(),
            coming.clone(),
            limit.clone(),
        );
        planning.spawn(async move {
            let _permit = limit.acquire().await;
            let stage = match Run::prepare(target, each, reporter, in_flight, &coming).await {
                Err(report) => Stage::Stopped(report),
                Ok(mut run) => {
                    let (plans, planned) = run.plan().await;
                    if planned {
                        Stage::Planned(Box::new(run), plans)
                    } else {
                        run.cancel(&plans).await;
                        Stage::Done(EnvOutcome::Failed, run.finish())
                    }
                }
            };
            (index, stage)
        });
    }
    let mut stages: Vec<Option<Stage>> = (0..targets.len()).map(|_| None).collect();
    while let Some(joined) = planning.join_next().await {
        if let Ok((index, stage)) = joined {
            stages[index] = Some(stage);
        }
    }
    stages
        .into_iter()
        .map(|s| {
            s.unwrap_or_else(|| {
                Stage::Stopped(DeployReport {
                    diagnostics: vec![Diagnostic::error(
                        Code::StackFailed,
                        "planning stopped without a result: envc failed inside (a bug: please report it)",
                    )],
                    ..DeployReport::default()
                })
            })
        })
        .collect()
}

/// Shows one environment's plan under its name, account and region: the stage after it, and
/// whether it failed (its plan could not be made, or a protected change was refused).
async fn show(stage: Stage) -> (Stage, bool) {
    let Stage::Planned(mut run, plans) = stage else {
        let failed = matches!(
            stage,
            Stage::Stopped(_) | Stage::Done(EnvOutcome::Failed, _)
        );
        return (stage, failed);
    };
    run.announce();
    if !run.show_and_guard(&plans).await {
        run.cancel(&plans).await;
        return (Stage::Done(EnvOutcome::Failed, run.finish()), true);
    }
    if has_changes(&plans) {
        (Stage::Planned(run, plans), false)
    } else {
        (Stage::Done(EnvOutcome::NoChanges, run.finish()), false)
    }
}

/// The one question for every environment that changes.
async fn confirm_all(
    targets: &[DeployTarget],
    stages: &[Stage],
    options: &ManyOptions,
    reporter: &Arc<dyn Reporter>,
) -> Result<(), Diagnostic> {
    let changing: Vec<(&DeployTarget, &Vec<StackPlan>)> = targets
        .iter()
        .zip(stages)
        .filter_map(|(t, s)| match s {
            Stage::Planned(_, plans) => Some((t, plans)),
            _ => None,
        })
        .collect();
    let protected: Vec<&str> = changing
        .iter()
        .filter(|(t, _)| t.protected)
        .map(|(t, _)| t.env.as_str())
        .collect();
    let names: Vec<String> = changing
        .iter()
        .map(|(t, _)| {
            if t.protected {
                format!("`{}` (protected)", t.env)
            } else {
                format!("`{}`", t.env)
            }
        })
        .collect();
    let question = format!(
        "Deploy these changes to {} environment{}, {} ({})?",
        changing.len(),
        if changing.len() == 1 { "" } else { "s" },
        names.join(", "),
        run::counted(changing.iter().flat_map(|(_, plans)| plans.iter())),
    );
    let subject = match protected.as_slice() {
        [one] => format!("`{one}` is"),
        many => format!(
            "{} are",
            many.iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    run::confirm(
        &options.each,
        !protected.is_empty(),
        reporter,
        question,
        &subject,
    )
    .await
}

/// Deploys the planned environments, `at_once` at a time, each after the environments whose
/// exports it imports; once more than `max_failures` failed (`failures` already), none
/// starts any more.
async fn apply_all(
    targets: &[DeployTarget],
    stages: Vec<Stage>,
    options: &ManyOptions,
    mut failures: usize,
) -> Vec<Stage> {
    let needs: Vec<Vec<usize>> = targets.iter().map(|t| depends_on(t, targets)).collect();
    let mut stages: Vec<Option<Stage>> = stages.into_iter().map(Some).collect();
    let mut waiting: VecDeque<usize> = (0..targets.len())
        .filter(|i| matches!(stages[*i], Some(Stage::Planned(..))))
        .collect();
    let mut running = tokio::task::JoinSet::new();
    loop {
        let stopping = failures > options.max_failures;
        // Start what may start: not stopping, a free slot, and what it imports deployed.
        let mut still = VecDeque::new();
        while let Some(index) = waiting.pop_front() {
            let blocked = needs[index].iter().any(|n| !finished_well(&stages[*n]));
            let never = needs[index].iter().any(|n| finished_badly(&stages[*n]));
            if stopping || never {
                stages[index] = Some(skip(stages[index].take()).await);
            } else if blocked || running.len() >= options.at_once.max(1) {
                still.push_back(index);
            } else if let Some(Stage::Planned(mut run, plans)) = stages[index].take() {
                running.spawn(async move {
                    run.apply(plans).await;
                    let report = run.finish();
                    (index, report)
                });
            }
        }
        waiting = still;
        let Some(joined) = running.join_next().await else {
            // Nothing runs, and what waits waits for what never comes (imports in a circle).
            for index in std::mem::take(&mut waiting) {
                stages[index] = Some(skip(stages[index].take()).await);
            }
            break;
        };
        if let Ok((index, report)) = joined {
            let outcome = if report.succeeded() {
                EnvOutcome::Deployed
            } else {
                failures += 1;
                EnvOutcome::Failed
            };
            stages[index] = Some(Stage::Done(outcome, report));
        } else {
            failures += 1;
        }
    }
    stages
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Stage::Done(EnvOutcome::Failed, DeployReport::default())))
        .collect()
}

/// A planned environment that will not deploy: its change sets deleted, its stacks skipped.
async fn skip(stage: Option<Stage>) -> Stage {
    match stage {
        Some(Stage::Planned(mut run, plans)) => {
            run.cancel(&plans).await;
            Stage::Done(EnvOutcome::Skipped, run.finish())
        }
        Some(other) => other,
        None => Stage::Done(EnvOutcome::Skipped, DeployReport::default()),
    }
}

fn finished_well(stage: &Option<Stage>) -> bool {
    matches!(
        stage,
        Some(Stage::Done(EnvOutcome::Deployed | EnvOutcome::NoChanges, _))
    )
}

fn finished_badly(stage: &Option<Stage>) -> bool {
    matches!(
        stage,
        Some(Stage::Stopped(_) | Stage::Done(EnvOutcome::Failed | EnvOutcome::Skipped, _))
    )
}

/// How an environment's part ended, once nothing more happens to it.
async fn settle(stage: Stage, dry_run: bool) -> (EnvOutcome, DeployReport) {
    match stage {
        Stage::Stopped(report) => (EnvOutcome::Failed, report),
        Stage::Done(outcome, report) => (outcome, report),
        Stage::Planned(run, _) if dry_run => (EnvOutcome::DryRun, run.finish()),
        // The answer was no, or too many failed: its change sets go now.
        Stage::Planned(mut run, plans) => {
            run.cancel(&plans).await;
            (EnvOutcome::Skipped, run.finish())
        }
    }
}

fn over_tolerance(failures: usize, max_failures: usize, when: &str) -> Diagnostic {
    Diagnostic::error(
        Code::StackFailed,
        format!(
            "{failures} environment{} failed {when}, more than `--max-failures {max_failures}` allows",
            if failures == 1 { "" } else { "s" }
        ),
    )
    .help("each environment's problems are above; `--max-failures N` lets the others go on while up to N fail")
}

/// The exports `target`'s stacks make: `<stack name>-<output>` for each exported output.
fn exports_of(target: &DeployTarget) -> Vec<String> {
    target
        .stacks
        .iter()
        .flat_map(|s| s.template.exports.iter().cloned())
        .collect()
}

/// The environments of `targets` whose exports `target` imports.
fn depends_on(target: &DeployTarget, targets: &[DeployTarget]) -> Vec<usize> {
    let imports: HashSet<&String> = target
        .stacks
        .iter()
        .flat_map(|s| s.template.imports.iter())
        .collect();
    targets
        .iter()
        .enumerate()
        .filter(|(_, other)| other.env != target.env)
        .filter(|(_, other)| exports_of(other).iter().any(|e| imports.contains(e)))
        .map(|(index, _)| index)
        .collect()
}

//! Deploy: rendered stacks to CloudFormation, in dependency waves.
//!
//! Takes the output of render and never re-reads the project. Per stack: a change set (or
//! CreateStack for a new stack), a summary of what changes, confirmation, execution, and
//! events until a final status. Stacks of one wave run concurrently; a failure stops the
//! waves after it. envc keeps no state: CloudFormation is the state.

pub mod aws;
pub mod plan;
mod preflight;
pub mod stack;
pub mod status;
mod wave;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::StacksConfig;
use crate::render::{RenderedEnv, RenderedStack};
use crate::validate::ValidEnv;
use aws::{AwsTarget, Clients};
use plan::ChangeSetSummary;
use stack::Planned;

/// Everything deploy needs about one environment, taken from render's output.
#[derive(Debug, Clone)]
pub struct DeployTarget {
    pub project: String,
    pub env: String,
    pub protected: bool,
    pub aws: AwsTarget,
    /// Tags on every stack (and so on every resource that takes tags).
    pub tags: Vec<(String, String)>,
    /// Where templates too large to send inline go.
    pub artifact_bucket: Option<String>,
    pub stacks: Vec<RenderedStack>,
    pub waves: Vec<Vec<String>>,
}

impl DeployTarget {
    pub fn new(
        config: &StacksConfig,
        env: &ValidEnv,
        rendered: &RenderedEnv,
        profile: Option<String>,
        region: Option<String>,
        endpoint_url: Option<String>,
    ) -> Self {
        let model = &env.model;
        let has_artifacts = rendered.stacks.iter().any(|s| {
            config.stack.get(&s.stack).and_then(|c| c.builtin())
                == Some(crate::model::StackKind::Artifacts)
        });
        DeployTarget {
            project: config.project.clone(),
            env: env.name.clone(),
            protected: model.protected,
            aws: AwsTarget {
                region: region.or_else(|| model.region.clone()).unwrap_or_default(),
                profile,
                endpoint_url,
            },
            tags: config
                .tags
                .iter()
                .chain(model.tags.iter())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            artifact_bucket: has_artifacts.then(|| {
                format!(
                    "{}-{}-artifacts-{}",
                    config.project, env.name, model.account
                )
            }),
            stacks: rendered.stacks.clone(),
            waves: rendered.waves.clone(),
        }
    }

    pub fn stack(&self, name: &str) -> Option<&RenderedStack> {
        self.stacks.iter().find(|s| s.stack == name)
    }

    /// Only `only` (all when empty), keeping wave order.
    pub fn select(&mut self, only: &[String]) -> Result<(), Diagnostic> {
        if only.is_empty() {
            return Ok(());
        }
        for name in only {
            if self.stack(name).is_none() {
                let known: Vec<&str> = self.stacks.iter().map(|s| s.stack.as_str()).collect();
                return Err(Diagnostic::error(
                    Code::UnknownStack,
                    format!("`{}` has no stack `{name}`", self.env),
                )
                .help(
                    crate::did_you_mean::did_you_mean(name, known.iter().copied())
                        .unwrap_or_else(|| format!("its stacks: {}", known.join(", "))),
                ));
            }
        }
        self.stacks.retain(|s| only.contains(&s.stack));
        for wave in &mut self.waves {
            wave.retain(|s| only.contains(s));
        }
        self.waves.retain(|w| !w.is_empty());
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub yes: bool,
    pub dry_run: bool,
    pub concurrency: usize,
    pub replace_failed: bool,
    /// A person is at a terminal to answer questions.
    pub interactive: bool,
}

/// What deploy tells the person watching, as it happens.
#[derive(Debug, Clone)]
pub enum Progress {
    Wave {
        number: usize,
        stacks: Vec<String>,
    },
    Plan(ChangeSetSummary),
    NoChanges {
        stack: String,
    },
    Replacing {
        stack: String,
        status: String,
    },
    Started {
        stack: String,
        action: &'static str,
    },
    Resource {
        stack: String,
        logical_id: String,
        resource_type: String,
        status: String,
        reason: Option<String>,
    },
    Finished {
        stack: String,
        status: String,
    },
    DryRun {
        stack: String,
    },
}

/// Receives progress and answers questions; the CLI prints, tests record.
pub trait Reporter: Send + Sync {
    fn progress(&self, progress: Progress);
    /// Asks the person at the terminal; only called when `interactive`.
    fn confirm(&self, question: &str) -> bool;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    NoChanges,
    DryRun,
    Failed,
    /// Not attempted: an earlier wave failed, or the person said no.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct StackResult {
    pub stack: String,
    pub stack_name: String,
    pub outcome: Outcome,
    pub status: Option<String>,
    pub outputs: Vec<(String, String)>,
}

#[derive(Debug, Default)]
pub struct DeployReport {
    pub stacks: Vec<StackResult>,
    pub diagnostics: Vec<Diagnostic>,
}

impl DeployReport {
    pub fn succeeded(&self) -> bool {
        self.diagnostics.iter().all(|d| !d.is_error())
    }
}

/// Stacks with an operation running, for Ctrl-C to name.
#[derive(Debug, Default, Clone)]
pub struct InFlight(Arc<Mutex<BTreeSet<String>>>);

impl InFlight {
    fn start(&self, stack_name: &str) {
        self.0
            .lock()
            .map(|mut s| s.insert(stack_name.to_string()))
            .ok();
    }
    fn end(&self, stack_name: &str) {
        self.0.lock().map(|mut s| s.remove(stack_name)).ok();
    }
    pub fn names(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Deploys `target`, wave by wave.
pub async fn deploy(
    target: &DeployTarget,
    options: &DeployOptions,
    reporter: Arc<dyn Reporter>,
    in_flight: InFlight,
) -> DeployReport {
    let mut report = DeployReport::default();
    if !options.yes && !options.interactive && !options.dry_run {
        report.diagnostics.push(
            Diagnostic::error(Code::Confirmation, format!("deploying `{}` needs confirmation, and there is no terminal to ask", target.env))
                .help("pass `--yes` to deploy without asking (as CI does), or `--dry-run` to only see the change sets"),
        );
        return report;
    }
    let clients = match Clients::new(&target.aws).await {
        Ok(clients) => clients,
        Err(problem) => {
            report.diagnostics.push(problem);
            return report;
        }
    };
    // Every stack is looked at before anything starts: one busy with another operation
    // (another `envc deploy`, a change in the console) stops the whole deploy now, not
    // after the waves before it ran.
    // So is every export it imports from another environment.
    let mut blocking = preflight::busy_stacks(&clients, target, options).await;
    if blocking.is_empty() {
        blocking = preflight::missing_exports(&clients, target).await;
    }
    if !blocking.is_empty() {
        report.diagnostics.extend(blocking);
        return report;
    }
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut stopped = false;
    for (number, wave) in target.waves.iter().enumerate() {
        if stopped {
            for name in wave {
                report.stacks.push(skipped(target, name));
            }
            continue;
        }
        reporter.progress(Progress::Wave {
            number: number + 1,
            stacks: wave.clone(),
        });

        // 1. Plan every stack of the wave at once.
        let mut planning = tokio::task::JoinSet::new();
        let mut planning_names = std::collections::HashMap::new();
        for name in wave {
            let Some(stack) = target.stack(name).cloned() else {
                continue;
            };
            let (clients, target, limit, options) = (
                clients.clone(),
                target.clone(),
                limit.clone(),
                options.clone(),
            );
            let reporter = reporter.clone();
            let name = stack.stack_name.clone();
            let task = planning.spawn(async move {
                let _permit = limit.acquire().await;
                let planned =
                    wave::plan_stack(&clients, &target, &stack, &options, reporter.as_ref()).await;
                (stack, planned)
            });
            planning_names.insert(task.id(), name);
        }
        let mut plans: Vec<(RenderedStack, Planned)> = Vec::new();
        while let Some(joined) = planning.join_next_with_id().await {
            let (stack, planned) = match joined {
                Ok((_, done)) => done,
                Err(error) => {
                    report.diagnostics.push(preflight::task_failed(
                        &planning_names,
                        error,
                        "planning",
                    ));
                    stopped = true;
                    continue;
                }
            };
            match planned {
                Ok(planned) => plans.push((stack, planned)),
                Err(diagnostic) => {
                    report.diagnostics.push(diagnostic);
                    report
                        .stacks
                        .push(result(&stack, Outcome::Failed, None, Vec::new()));
                    stopped = true;
                }
            }
        }
        plans.sort_by_key(|(s, _)| wave.iter().position(|w| *w == s.stack));

        // 2. Show what changes; guard data in protected environments.
        let mut changing = Vec::new();
        for (stack, planned) in &plans {
            match planned {
                Planned::NoChanges => {
                    reporter.progress(Progress::NoChanges {
                        stack: stack.stack.clone(),
                    });
                    let info = stack::describe(&clients.cloudformation, &stack.stack_name)
                        .await
                        .ok()
                        .flatten();
                    report.stacks.push(result(
                        stack,
                        Outcome::NoChanges,
                        info.as_ref().map(|i| i.status.clone()),
                        info.map(|i| i.outputs).unwrap_or_default(),
                    ));
                }
                Planned::Create(summary) | Planned::Update { summary, .. } => {
                    reporter.progress(Progress::Plan(summary.clone()));
                    if target.protected {
                        for change in summary.changes.iter().filter(|c| c.loses_data()) {
                            report.diagnostics.push(
                                Diagnostic::error(Code::Guarded, format!("`{}` would {} `{}` ({}), which holds data, in protected `{}`", stack.stack_name, if change.action == plan::Action::Remove { "delete" } else { "replace" }, change.logical_id, change.resource_type, target.env))
                                    .help("protected environments never replace or delete stateful resources; change the setting back, or migrate the data and change the stack policy by hand"),
                            );
                            stopped = true;
                        }
                    }
                    changing.push((stack.clone(), planned.clone()));
                }
            }
        }
        if stopped {
            cancel(&clients, &changing, &mut report).await;
            continue;
        }
        if changing.is_empty() {
            continue;
        }
        if options.dry_run {
            for (stack, planned) in &changing {
                if let Planned::Update { change_set, .. } = planned {
                    stack::delete_change_set(
                        &clients.cloudformation,
                        &stack.stack_name,
                        change_set,
                    )
                    .await;
                }
                reporter.progress(Progress::DryRun {
                    stack: stack.stack.clone(),
                });
                report
                    .stacks
                    .push(result(stack, Outcome::DryRun, None, Vec::new()));
            }
            continue;
        }
        let must_ask = options.interactive && (target.protected || !options.yes);
        if must_ask {
            let names: Vec<&str> = changing.iter().map(|(s, _)| s.stack.as_str()).collect();
            let question = format!(
                "Deploy {} to `{}`{}?",
                names.join(", "),
                target.env,
                if target.protected { " (protected)" } else { "" }
            );
            if !reporter.confirm(&question) {
                report.diagnostics.push(
                    Diagnostic::error(
                        Code::Confirmation,
                        "deploy cancelled; nothing was changed in this wave",
                    )
                    .help("run again and answer yes to apply the changes"),
                );
                cancel(&clients, &changing, &mut report).await;
                stopped = true;
                continue;
            }
        } else if target.protected && !options.yes {
            report.diagnostics.push(
                Diagnostic::error(
                    Code::Confirmation,
                    format!(
                        "`{}` is protected and there is no terminal to confirm",
                        target.env
                    ),
                )
                .help("pass `--yes` to deploy a protected environment from CI"),
            );
            cancel(&clients, &changing, &mut report).await;
            stopped = true;
            continue;
        }

        // 3. Execute and wait, concurrently.
        let mut running = tokio::task::JoinSet::new();
        let mut running_names = std::collections::HashMap::new();
        for (stack, planned) in changing {
            let (clients, target, limit, reporter, in_flight) = (
                clients.clone(),
                target.clone(),
                limit.clone(),
                reporter.clone(),
                in_flight.clone(),
            );
            let name = stack.stack_name.clone();
            let task = running.spawn(async move {
                let _permit = limit.acquire().await;
                in_flight.start(&stack.stack_name);
                let outcome =
                    wave::apply(&clients, &target, &stack, planned, reporter.as_ref()).await;
                in_flight.end(&stack.stack_name);
                (stack, outcome)
            });
            running_names.insert(task.id(), name);
        }
        let mut finished = Vec::new();
        while let Some(joined) = running.join_next_with_id().await {
            match joined {
                Ok((_, done)) => finished.push(done),
                Err(error) => {
                    report.diagnostics.push(preflight::task_failed(
                        &running_names,
                        error,
                        "deploying",
                    ));
                    stopped = true;
                }
            }
        }
        finished.sort_by_key(|(s, _)| wave.iter().position(|w| *w == s.stack));
        for (stack, outcome) in finished {
            match outcome {
                Ok((outcome, status, outputs)) => {
                    report
                        .stacks
                        .push(result(&stack, outcome, Some(status), outputs))
                }
                Err(diagnostic) => {
                    report.diagnostics.push(diagnostic);
                    let info = stack::describe(&clients.cloudformation, &stack.stack_name)
                        .await
                        .ok()
                        .flatten();
                    // A stack another operation created meanwhile is not this deploy's
                    // success: only a status that says what failed is shown.
                    report.stacks.push(result(
                        &stack,
                        Outcome::Failed,
                        info.map(|i| i.status).filter(|s| !stack::is_success(s)),
                        Vec::new(),
                    ));
                    stopped = true;
                }
            }
        }
    }
    report
}

fn result(
    stack: &RenderedStack,
    outcome: Outcome,
    status: Option<String>,
    outputs: Vec<(String, String)>,
) -> StackResult {
    StackResult {
        stack: stack.stack.clone(),
        stack_name: stack.stack_name.clone(),
        outcome,
        status,
        outputs,
    }
}

fn skipped(target: &DeployTarget, name: &str) -> StackResult {
    StackResult {
        stack: name.to_string(),
        stack_name: target
            .stack(name)
            .map(|s| s.stack_name.clone())
            .unwrap_or_default(),
        outcome: Outcome::Skipped,
        status: None,
        outputs: Vec::new(),
    }
}

async fn cancel(
    clients: &Clients,
    changing: &[(RenderedStack, Planned)],
    report: &mut DeployReport,
) {
    for (stack, planned) in changing {
        if let Planned::Update { change_set, .. } = planned {
            stack::delete_change_set(&clients.cloudformation, &stack.stack_name, change_set).await;
        }
        if !report.stacks.iter().any(|r| r.stack == stack.stack) {
            report
                .stacks
                .push(result(stack, Outcome::Skipped, None, Vec::new()));
        }
    }
}

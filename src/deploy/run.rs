//! One deploy, in steps: confirmation and preflight, then each wave planned (every stack at
//! once), shown and guarded, confirmed, and executed concurrently; a failure stops the
//! waves after it, whose stacks are reported skipped.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::aws::Clients;
use super::stack::{self, Planned};
use super::{
    plan, preflight, wave, DeployOptions, DeployReport, DeployTarget, InFlight, Outcome, Progress,
    Reporter, StackResult,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::render::RenderedStack;

/// What every step of one deploy shares.
struct Run<'a> {
    target: &'a DeployTarget,
    options: &'a DeployOptions,
    reporter: Arc<dyn Reporter>,
    in_flight: InFlight,
    clients: Clients,
    /// Stack operations running at once, across a wave.
    limit: Arc<Semaphore>,
    report: DeployReport,
}

pub(super) async fn deploy(
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
    let clients = match Clients::to_change(&target.aws, &target.env).await {
        Ok(clients) => clients,
        Err(problem) => {
            report.diagnostics.push(problem);
            return report;
        }
    };
    // Every stack is looked at before anything starts: one busy with another operation
    // (another `envc deploy`, a change in the console) stops the whole deploy now, not
    // after the waves before it ran. So does an export it imports from another
    // environment that does not exist yet.
    let mut blocking = preflight::busy_stacks(&clients, target, options).await;
    if blocking.is_empty() {
        blocking = preflight::missing_exports(&clients, target).await;
    }
    if !blocking.is_empty() {
        report.diagnostics.extend(blocking);
        return report;
    }
    let mut run = Run {
        target,
        options,
        reporter,
        in_flight,
        clients,
        limit: Arc::new(Semaphore::new(options.concurrency.max(1))),
        report,
    };
    let mut stopped = false;
    for (number, wave) in target.waves.iter().enumerate() {
        if stopped {
            for name in wave {
                run.report.stacks.push(skipped(target, name));
            }
            continue;
        }
        run.reporter.progress(Progress::Wave {
            number: number + 1,
            stacks: wave.clone(),
        });
        stopped = !run.wave(wave).await;
    }
    run.report
}

impl Run<'_> {
    /// One wave; false when it failed or was refused, and later waves must not run.
    async fn wave(&mut self, wave: &[String]) -> bool {
        let (plans, mut ok) = self.plan(wave).await;
        let (changing, guarded) = self.show_and_guard(&plans).await;
        ok &= guarded;
        if !ok {
            cancel(&self.clients, &changing, &mut self.report).await;
            return false;
        }
        if changing.is_empty() {
            return true;
        }
        if self.options.dry_run {
            self.dry_run(&changing).await;
            return true;
        }
        if !self.confirmed(&changing) {
            cancel(&self.clients, &changing, &mut self.report).await;
            return false;
        }
        self.execute(wave, changing).await
    }

    /// Plans every stack of the wave at once; false beside the plans when one failed.
    async fn plan(&mut self, wave: &[String]) -> (Vec<(RenderedStack, Planned)>, bool) {
        let mut ok = true;
        let mut planning = tokio::task::JoinSet::new();
        let mut names = HashMap::new();
        for name in wave {
            let Some(stack) = self.target.stack(name).cloned() else {
                continue;
            };
            let (clients, target, limit, options, reporter) = (
                self.clients.clone(),
                self.target.clone(),
                self.limit.clone(),
                self.options.clone(),
                self.reporter.clone(),
            );
            let stack_name = stack.stack_name.clone();
            let task = planning.spawn(async move {
                let _permit = limit.acquire().await;
                let planned =
                    wave::plan_stack(&clients, &target, &stack, &options, reporter.as_ref()).await;
                (stack, planned)
            });
            names.insert(task.id(), stack_name);
        }
        let mut plans = Vec::new();
        while let Some(joined) = planning.join_next_with_id().await {
            match joined {
                Ok((_, (stack, Ok(planned)))) => plans.push((stack, planned)),
                Ok((_, (stack, Err(diagnostic)))) => {
                    self.report.diagnostics.push(diagnostic);
                    self.report
                        .stacks
                        .push(result(&stack, Outcome::Failed, None, Vec::new()));
                    ok = false;
                }
                Err(error) => {
                    self.report
                        .diagnostics
                        .push(preflight::task_failed(&names, error, "planning"));
                    ok = false;
                }
            }
        }
        plans.sort_by_key(|(s, _)| wave.iter().position(|w| *w == s.stack));
        (plans, ok)
    }

    /// Shows what changes and reports stacks without changes; in a protected environment,
    /// a change that would replace or delete data is refused. Returns the changing stacks,
    /// and false when one was refused.
    async fn show_and_guard(
        &mut self,
        plans: &[(RenderedStack, Planned)],
    ) -> (Vec<(RenderedStack, Planned)>, bool) {
        let mut ok = true;
        let mut changing = Vec::new();
        for (stack, planned) in plans {
            match planned {
                Planned::NoChanges => {
                    self.reporter.progress(Progress::NoChanges {
                        stack: stack.stack.clone(),
                    });
                    let info = stack::describe(&self.clients.cloudformation, &stack.stack_name)
                        .await
                        .ok()
                        .flatten();
                    self.report.stacks.push(result(
                        stack,
                        Outcome::NoChanges,
                        info.as_ref().map(|i| i.status.clone()),
                        info.map(|i| i.outputs).unwrap_or_default(),
                    ));
                }
                Planned::Create(summary) | Planned::Update { summary, .. } => {
                    self.reporter.progress(Progress::Plan(summary.clone()));
                    if self.target.protected {
                        for change in summary.changes.iter().filter(|c| c.loses_data()) {
                            self.report.diagnostics.push(
                                Diagnostic::error(Code::Guarded, format!("`{}` would {} `{}` ({}), which holds data, in protected `{}`", stack.stack_name, if change.action == plan::Action::Remove { "delete" } else { "replace" }, change.logical_id, change.resource_type, self.target.env))
                                    .help("protected environments never replace or delete stateful resources; change the setting back, or migrate the data and change the stack policy by hand"),
                            );
                            ok = false;
                        }
                    }
                    changing.push((stack.clone(), planned.clone()));
                }
            }
        }
        (changing, ok)
    }

    /// `--dry-run`: the change sets were shown; they are deleted, and nothing changes.
    async fn dry_run(&mut self, changing: &[(RenderedStack, Planned)]) {
        for (stack, planned) in changing {
            if let Planned::Update { change_set, .. } = planned {
                stack::delete_change_set(
                    &self.clients.cloudformation,
                    &stack.stack_name,
                    change_set,
                )
                .await;
            }
            self.reporter.progress(Progress::DryRun {
                stack: stack.stack.clone(),
            });
            self.report
                .stacks
                .push(result(stack, Outcome::DryRun, None, Vec::new()));
        }
    }

    /// Whether the wave may go ahead: asked on a terminal (always for a protected
    /// environment), or `--yes`; a protected one without a terminal needs `--yes`.
    fn confirmed(&mut self, changing: &[(RenderedStack, Planned)]) -> bool {
        let (target, options) = (self.target, self.options);
        if options.interactive && (target.protected || !options.yes) {
            let names: Vec<&str> = changing.iter().map(|(s, _)| s.stack.as_str()).collect();
            let question = format!(
                "Deploy {} to `{}`{}?",
                names.join(", "),
                target.env,
                if target.protected { " (protected)" } else { "" }
            );
            if self.reporter.confirm(&question) {
                return true;
            }
            self.report.diagnostics.push(
                Diagnostic::error(
                    Code::Confirmation,
                    "deploy cancelled; nothing was changed in this wave",
                )
                .help("run again and answer yes to apply the changes"),
            );
            return false;
        }
        if target.protected && !options.yes {
            self.report.diagnostics.push(
                Diagnostic::error(
                    Code::Confirmation,
                    format!(
                        "`{}` is protected and there is no terminal to confirm",
                        target.env
                    ),
                )
                .help("pass `--yes` to deploy a protected environment from CI"),
            );
            return false;
        }
        true
    }

    /// Executes the wave's change sets and waits for them, concurrently; false when one
    /// failed.
    async fn execute(&mut self, wave: &[String], changing: Vec<(RenderedStack, Planned)>) -> bool {
        let mut ok = true;
        let mut running = tokio::task::JoinSet::new();
        let mut names = HashMap::new();
        for (stack, planned) in changing {
            let (clients, target, limit, reporter, in_flight) = (
                self.clients.clone(),
                self.target.clone(),
                self.limit.clone(),
                self.reporter.clone(),
                self.in_flight.clone(),
            );
            let stack_name = stack.stack_name.clone();
            let task = running.spawn(async move {
                let _permit = limit.acquire().await;
                in_flight.start(&stack.stack_name);
                let outcome =
                    wave::apply(&clients, &target, &stack, planned, reporter.as_ref()).await;
                in_flight.end(&stack.stack_name);
                (stack, outcome)
            });
            names.insert(task.id(), stack_name);
        }
        let mut finished = Vec::new();
        while let Some(joined) = running.join_next_with_id().await {
            match joined {
                Ok((_, done)) => finished.push(done),
                Err(error) => {
                    self.report.diagnostics.push(preflight::task_failed(
                        &names,
                        error,
                        "deploying",
                    ));
                    ok = false;
                }
            }
        }
        finished.sort_by_key(|(s, _)| wave.iter().position(|w| *w == s.stack));
        for (stack, outcome) in finished {
            match outcome {
                Ok((outcome, status, outputs)) => {
                    self.report
                        .stacks
                        .push(result(&stack, outcome, Some(status), outputs))
                }
                Err(diagnostic) => {
                    self.report.diagnostics.push(diagnostic);
                    let info = stack::describe(&self.clients.cloudformation, &stack.stack_name)
                        .await
                        .ok()
                        .flatten();
                    // A stack another operation created meanwhile is not this deploy's
                    // success: only a status that says what failed is shown.
                    self.report.stacks.push(result(
                        &stack,
                        Outcome::Failed,
                        info.map(|i| i.status).filter(|s| !stack::is_success(s)),
                        Vec::new(),
                    ));
                    ok = false;
                }
            }
        }
        ok
    }
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

//! One deploy, in steps: preflight; every stack of every wave planned at once (change sets
//! where they can be made, the templates otherwise), shown as one plan, guarded and
//! confirmed once; then the waves executed in order, each wave's stacks concurrently. A
//! failure stops the waves after it: their change sets are deleted and their stacks
//! reported skipped.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::change_set::{self, Planned};
use super::clients::Clients;
use super::{
    preflight, stack, wave, DeployOptions, DeployReport, DeployTarget, InFlight, Outcome, Progress,
    Reporter, StackResult,
};
use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::render::RenderedStack;

/// What every step of one environment's deploy shares.
pub(super) struct Run {
    pub(super) target: Arc<DeployTarget>,
    options: DeployOptions,
    reporter: Arc<dyn Reporter>,
    in_flight: InFlight,
    clients: Clients,
    /// Stack operations running at once.
    limit: Arc<Semaphore>,
    /// Every export of the account and region before anything ran.
    exported: HashSet<String>,
    pub(super) report: DeployReport,
}

/// One stack's plan, with the number of its wave.
pub(super) type StackPlan = (usize, RenderedStack, Planned);

/// Without `--yes`, `--dry-run` or a terminal, a deploy cannot be confirmed: why not.
pub(super) fn unconfirmable(options: &DeployOptions, what: &str) -> Option<Diagnostic> {
    (!options.yes && !options.interactive && !options.dry_run).then(|| {
        Diagnostic::error(Code::Confirmation, format!("deploying {what} needs confirmation, and there is no terminal to ask"))
            .help("pass `--yes` to deploy without asking (as CI does), or `--dry-run` to only see the plan")
    })
}

pub(super) async fn deploy(
    target: &DeployTarget,
    options: &DeployOptions,
    reporter: Arc<dyn Reporter>,
    in_flight: InFlight,
) -> DeployReport {
    if let Some(problem) = unconfirmable(options, &format!("`{}`", target.env)) {
        return DeployReport {
            diagnostics: vec![problem],
            ..DeployReport::default()
        };
    }
    let target = Arc::new(target.clone());
    let nothing_coming = HashSet::new();
    let prepared = Run::prepare(
        target,
        options.clone(),
        reporter,
        in_flight,
        &nothing_coming,
    );
    let mut run = match prepared.await {
        Ok(run) => run,
        Err(report) => return report,
    };
    let (plans, planned) = run.plan().await;
    let guarded = run.show_and_guard(&plans).await;
    if !(planned && guarded) {
        run.cancel(&plans).await;
    } else if !has_changes(&plans) {
    } else if run.options.dry_run {
        run.dry_run(&plans).await;
    } else if run.confirmed(&plans).await {
        run.apply(plans).await;
    } else {
        run.cancel(&plans).await;
    }
    run.finish()
}

/// Whether any stack of `plans` changes.
pub(super) fn has_changes(plans: &[StackPlan]) -> bool {
    plans.iter().any(|(_, _, p)| p.summary().is_some())
}

impl Run {
    /// Looks at the environment before planning: every stack busy with another operation
    /// (another `envc deploy`, a change in the console) stops the deploy now, not after the
    /// waves before it ran; so does an export it imports from another environment that
    /// does not exist yet and that no environment deployed with it (`coming`) exports.
    /// The report so far, when it stops.
    pub(super) async fn prepare(
        target: Arc<DeployTarget>,
        options: DeployOptions,
        reporter: Arc<dyn Reporter>,
        in_flight: InFlight,
        coming: &HashSet<String>,
    ) -> Result<Run, DeployReport> {
        let mut report = DeployReport::default();
        let clients = match Clients::to_change(&target.aws, &target.env).await {
            Ok(clients) => clients,
            Err(problem) => {
                report.diagnostics.push(problem);
                return Err(report);
            }
        };
        let busy = preflight::busy_stacks(&clients, &target, &options).await;
        if !busy.is_empty() {
            report.diagnostics.extend(busy);
            return Err(report);
        }
        let exported = match preflight::exports(&clients).await {
            Ok(exported) => exported,
            Err(problem) => {
                report.diagnostics.push(problem);
                return Err(report);
            }
        };
        let available: HashSet<String> = exported.union(coming).cloned().collect();
        let dangling = preflight::missing_exports(&target, &available);
        if !dangling.is_empty() {
            report.diagnostics.extend(dangling);
            return Err(report);
        }
        if let Ok(left) = preflight::left_over_stacks(&clients, &target).await {
            report
                .diagnostics
                .extend(preflight::left_over_warnings(&target, &left));
        }
        Ok(Run {
            limit: Arc::new(Semaphore::new(options.concurrency.max(1))),
            target,
            options,
            reporter,
            in_flight,
            clients,
            exported,
            report,
        })
    }

    /// Names the environment, its account, region and role, before its plan.
    pub(super) fn announce(&self) {
        let aws = &self.target.aws;
        self.reporter.progress(Progress::Environment {
            env: self.target.env.clone(),
            account: aws.account.clone(),
            region: aws.region.clone(),
            role: aws.role.clone(),
        });
    }

    /// The report, its stacks in wave order.
    pub(super) fn finish(mut self) -> DeployReport {
        let order: Vec<&String> = self.target.waves.iter().flatten().collect();
        self.report
            .stacks
            .sort_by_key(|r| order.iter().position(|name| **name == r.stack));
        self.report
    }

    /// After the answer: the waves in order, each wave's stacks at once. A failure stops the
    /// waves after it: their change sets are deleted and their stacks reported skipped.
    pub(super) async fn apply(&mut self, plans: Vec<StackPlan>) {
        let mut waves: Vec<Vec<(RenderedStack, Planned)>> =
            vec![Vec::new(); self.target.waves.len()];
        for (number, stack, planned) in plans {
            if planned.summary().is_some() {
                waves[number].push((stack, planned));
            }
        }
        let mut stopped = false;
        for (number, wave) in waves.into_iter().enumerate() {
            if wave.is_empty() {
                continue;
            }
            if stopped {
                let left: Vec<StackPlan> = wave.into_iter().map(|(s, p)| (number, s, p)).collect();
                self.cancel(&left).await;
                continue;
            }
            self.reporter.progress(Progress::Deploying {
                number: number + 1,
                stacks: wave.iter().map(|(s, _)| s.stack.clone()).collect(),
            });
            let names = self.target.waves[number].clone();
            stopped = !self.execute(&names, wave).await;
        }
    }

    /// Plans every stack of every wave at once; false beside the plans when one failed.
    pub(super) async fn plan(&mut self) -> (Vec<StackPlan>, bool) {
        let mut ok = true;
        let mut planning = tokio::task::JoinSet::new();
        let mut names = HashMap::new();
        let exported = Arc::new(self.exported.clone());
        for (number, wave) in self.target.waves.iter().enumerate() {
            for name in wave {
                let Some(stack) = self.target.stack(name).cloned() else {
                    continue;
                };
                let (clients, target, limit, options, made, exported) = (
                    self.clients.clone(),
                    self.target.clone(),
                    self.limit.clone(),
                    self.options.clone(),
                    self.in_flight.clone(),
                    exported.clone(),
                );
                let stack_name = stack.stack_name.clone();
                let task = planning.spawn(async move {
                    let _permit = limit.acquire().await;
                    let planned =
                        wave::plan_stack(&clients, &target, &stack, &options, &exported, &made)
                            .await;
                    (number, stack, planned)
                });
                names.insert(task.id(), stack_name);
            }
        }
        let mut plans = Vec::new();
        while let Some(joined) = planning.join_next_with_id().await {
            match joined {
                Ok((_, (number, stack, Ok(planned)))) => plans.push((number, stack, planned)),
                Ok((_, (_, stack, Err(diagnostic)))) => {
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
        let order: Vec<&String> = self.target.waves.iter().flatten().collect();
        plans.sort_by_key(|(_, s, _)| order.iter().position(|name| **name == s.stack));
        (plans, ok)
    }

    /// Shows the plan, wave by wave, and reports stacks without changes; in a protected
    /// environment, a change that would replace or delete data is refused. False when one
    /// was refused.
    pub(super) async fn show_and_guard(&mut self, plans: &[StackPlan]) -> bool {
        let mut ok = true;
        for (number, wave) in self.target.waves.iter().enumerate() {
            let in_wave: Vec<&StackPlan> = plans.iter().filter(|(n, _, _)| *n == number).collect();
            if in_wave.is_empty() {
                continue;
            }
            self.reporter.progress(Progress::Wave {
                number: number + 1,
                stacks: wave.clone(),
            });
            for (_, stack, planned) in in_wave {
                let Some(summary) = planned.summary() else {
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
                    continue;
                };
                self.reporter.progress(Progress::Plan(summary.clone()));
                let refused =
                    wave::refused_in_protected(&self.target, summary, self.options.overwrite_drift);
                ok &= refused.is_empty();
                self.report.diagnostics.extend(refused);
            }
        }
        ok
    }

    /// `--dry-run`: the plan was shown; the change sets are deleted, and nothing changes.
    pub(super) async fn dry_run(&mut self, plans: &[StackPlan]) {
        for (_, stack, planned) in plans {
            let Some(_) = planned.summary() else { continue };
            self.delete_change_set(stack, planned).await;
            self.reporter.progress(Progress::DryRun {
                stack: stack.stack.clone(),
            });
            self.report
                .stacks
                .push(result(stack, Outcome::DryRun, None, Vec::new()));
        }
    }

    /// Whether the deploy may go ahead: asked once on a terminal (always for a protected
    /// environment), or `--yes`; a protected one without a terminal needs `--yes`.
    async fn confirmed(&mut self, plans: &[StackPlan]) -> bool {
        let target = &self.target;
        let question = format!(
            "Deploy these changes to `{}`{} ({})?",
            target.env,
            if target.protected { " (protected)" } else { "" },
            counted(plans.iter()),
        );
        match confirm(
            &self.options,
            target.protected,
            &self.reporter,
            question,
            &format!("`{}` is", target.env),
        )
        .await
        {
            Ok(()) => true,
            Err(problem) => {
                self.report.diagnostics.push(problem);
                false
            }
        }
    }

    /// Executes one wave's plans and waits for them, concurrently; false when one failed.
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
                let outcome = wave::apply(
                    &clients,
                    &target,
                    &stack,
                    planned,
                    reporter.as_ref(),
                    &in_flight,
                )
                .await;
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

    /// Deletes the change set of a stack's plan, when it has one.
    async fn delete_change_set(&self, stack: &RenderedStack, planned: &Planned) {
        if let Planned::Update { change_set, .. } = planned {
            let cf = &self.clients.cloudformation;
            change_set::delete_change_set(cf, &stack.stack_name, change_set).await;
            self.in_flight.change_set_gone(&stack.stack_name);
        }
    }

    /// Deletes the change sets of `plans` and reports their stacks skipped.
    pub(super) async fn cancel(&mut self, plans: &[StackPlan]) {
        for (_, stack, planned) in plans {
            self.delete_change_set(stack, planned).await;
            if !self.report.stacks.iter().any(|r| r.stack == stack.stack) {
                self.report
                    .stacks
                    .push(result(stack, Outcome::Skipped, None, Vec::new()));
            }
        }
    }
}

/// "3 stacks: 1 to create, 2 to update", of the stacks of `plans` that change.
pub(super) fn counted<'a>(plans: impl Iterator<Item = &'a StackPlan>) -> String {
    let (mut new, mut updated) = (0, 0);
    for summary in plans.filter_map(|(_, _, p)| p.summary()) {
        if summary.is_new {
            new += 1;
        } else {
            updated += 1;
        }
    }
    let stacks = |n: usize| {
        if n == 1 {
            "1 stack".to_string()
        } else {
            format!("{n} stacks")
        }
    };
    match (new, updated) {
        (0, updated) => format!("{} to update", stacks(updated)),
        (new, 0) => format!("{} to create", stacks(new)),
        (new, updated) => format!(
            "{}: {new} to create, {updated} to update",
            stacks(new + updated)
        ),
    }
}

/// Asks `question` on a terminal (always when `protected`, else unless `--yes`); without
/// one, a protected deploy needs `--yes`. `subject` is what is protected ("`prod` is"). The
/// refusal, when the answer is no or none can be given.
pub(super) async fn confirm(
    options: &DeployOptions,
    protected: bool,
    reporter: &Arc<dyn Reporter>,
    question: String,
    subject: &str,
) -> Result<(), Diagnostic> {
    if options.interactive && (protected || !options.yes) {
        if ask(reporter.clone(), question).await {
            return Ok(());
        }
        return Err(
            Diagnostic::error(Code::Confirmation, "deploy cancelled; nothing was changed")
                .help("run again and answer yes to apply the changes"),
        );
    }
    if protected && !options.yes {
        return Err(Diagnostic::error(
            Code::Confirmation,
            format!("{subject} protected and there is no terminal to confirm"),
        )
        .help("pass `--yes` to deploy a protected environment from CI"));
    }
    Ok(())
}

/// Asks the person at the terminal on a thread of its own, so a Ctrl-C meanwhile is seen
/// at once (the read itself cannot be interrupted).
async fn ask(reporter: Arc<dyn Reporter>, question: String) -> bool {
    let (answer, answered) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = answer.send(reporter.confirm(&question));
    });
    answered.await.unwrap_or(false)
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

//! What is deployed: stack status (`envc status`), deployed template vs fresh render
//! (`envc diff --live`), and tearing an environment down (`envc destroy`).

use std::sync::Arc;

use super::change_set::{self, Planned};
use super::clients::Clients;
use super::health::ServiceHealth;
use super::plan::ChangeSetSummary;
use super::stack;
use super::{DeployReport, DeployTarget, InFlight, Outcome, Progress, Reporter, StackResult};
use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::render::RenderedStack;

#[derive(Debug, Clone, serde::Serialize)]
pub struct StackStatusRow {
    pub stack: String,
    pub stack_name: String,
    /// CloudFormation's status, or `NOT_DEPLOYED`.
    pub status: String,
    pub reason: Option<String>,
    pub last_updated: Option<String>,
    pub outputs: std::collections::BTreeMap<String, String>,
    /// The tag of the environment's image its containers run (`ImageTag`), where they do.
    pub image_tag: Option<String>,
}

/// `envc status`: every stack, every ECS service, and the sums.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    pub stacks: Vec<StackStatusRow>,
    pub services: Vec<ServiceHealth>,
    /// The configuration secret's keys beside those containers read, where it exists.
    pub secret: Option<super::secret::SecretKeys>,
    /// Deployed stacks of the environment that the project no longer renders.
    pub left_over: Vec<super::preflight::LeftOver>,
    pub summary: Summary,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub stacks: usize,
    pub complete: usize,
    pub failed: usize,
    pub in_progress: usize,
    pub services: usize,
    pub healthy: usize,
    pub unhealthy: usize,
    pub rolling_out: usize,
    /// What `envc status` exits with.
    pub exit_code: i32,
}

/// The status of every stack of the environment, in deploy order, and the health of the
/// services they run.
pub async fn status(target: &DeployTarget) -> Result<StatusReport, Diagnostic> {
    let clients = Clients::new(&target.aws).await?;
    let stacks = stack_rows(&clients, target).await?;
    let services = super::health::services(&clients.ecs, &stacks).await?;
    // Not deployed yet, or unreadable: status says what it can of the rest.
    let secret = super::secret::list_with(&clients, target).await.ok();
    let left_over = super::preflight::left_over_stacks(&clients, target).await?;
    let mut summary = summarize(&stacks, &services);
    let missing_keys = secret.as_ref().is_some_and(|s| !s.missing.is_empty());
    if (missing_keys || !left_over.is_empty()) && summary.exit_code == 0 {
        summary.exit_code = 1;
    }
    Ok(StatusReport {
        stacks,
        services,
        secret,
        left_over,
        summary,
    })
}

fn summarize(stacks: &[StackStatusRow], services: &[ServiceHealth]) -> Summary {
    let in_progress = stacks
        .iter()
        .filter(|r| stack::is_in_progress(&r.status))
        .count();
    let failed = stacks
        .iter()
        .filter(|r| stack::stack_status_is_failed(&r.status))
        .count();
    let unhealthy = services.iter().filter(|s| s.is_unhealthy()).count();
    let rolling_out = services.iter().filter(|s| s.is_rolling_out()).count();
    // 2 is every command's usage error (an unknown environment); a state never shares it.
    let exit_code = if in_progress + rolling_out > 0 {
        4
    } else {
        i32::from(failed + unhealthy > 0)
    };
    Summary {
        stacks: stacks.len(),
        complete: stacks.len() - in_progress - failed,
        failed,
        in_progress,
        services: services.len(),
        healthy: services.len() - unhealthy - rolling_out,
        unhealthy,
        rolling_out,
        exit_code,
    }
}

async fn stack_rows(
    clients: &Clients,
    target: &DeployTarget,
) -> Result<Vec<StackStatusRow>, Diagnostic> {
    let mut rows = Vec::new();
    for name in target.waves.iter().flatten() {
        let Some(stack) = target.stack(name) else {
            continue;
        };
        let info = stack::describe(&clients.cloudformation, &stack.stack_name).await?;
        rows.push(match info {
            Some(info) => StackStatusRow {
                stack: stack.stack.clone(),
                stack_name: stack.stack_name.clone(),
                status: info.status,
                reason: info.reason,
                last_updated: info.last_updated,
                image_tag: info
                    .parameters
                    .iter()
                    .find(|(key, _)| key == super::image::IMAGE_TAG)
                    .map(|(_, tag)| tag.clone()),
                outputs: info.outputs.into_iter().collect(),
            },
            None => StackStatusRow {
                stack: stack.stack.clone(),
                stack_name: stack.stack_name.clone(),
                status: "NOT_DEPLOYED".into(),
                reason: None,
                last_updated: None,
                outputs: Default::default(),
                image_tag: None,
            },
        });
    }
    Ok(rows)
}

/// One stack's deployed template against a fresh render.
#[derive(Debug, Clone)]
pub struct LiveDiff {
    pub stack: String,
    pub deployed: bool,
    /// Unified diff, deployed → rendered; `None` when they are the same.
    pub template_diff: Option<String>,
    /// What CloudFormation would change (the change set is deleted again).
    pub changes: Option<ChangeSetSummary>,
    /// Why CloudFormation could not say what would change (its change set failed): the
    /// other stacks are still compared.
    pub problem: Option<Diagnostic>,
}

/// Each stack's deployed template against a fresh render, and the change set CloudFormation
/// would make. The change sets made are listed in `made` while they exist, for Ctrl-C to
/// delete.
pub async fn live_diff(
    target: &DeployTarget,
    made: &InFlight,
) -> Result<Vec<LiveDiff>, Diagnostic> {
    // It creates change sets to show them.
    let clients = Clients::to_change(&target.aws, &target.env).await?;
    let cf = &clients.cloudformation;
    let mut diffs = Vec::new();
    for name in target.waves.iter().flatten() {
        let Some(stack) = target.stack(name) else {
            continue;
        };
        let deployed = match stack::describe(cf, &stack.stack_name).await? {
            None => None,
            Some(_) => {
                let body = stack::deployed_template(cf, &stack.stack_name).await?;
                Some(canonical(&body))
            }
        };
        let Some(deployed) = deployed else {
            diffs.push(LiveDiff {
                stack: stack.stack.clone(),
                deployed: false,
                template_diff: Some(envc_core::golden::unified_diff(
                    "",
                    &stack.body,
                    "(not deployed)",
                    &format!("{} (rendered)", stack.stack_name),
                )),
                changes: Some(change_set::summary_of_new(stack)),
                problem: None,
            });
            continue;
        };
        let template_diff = (deployed != stack.body).then(|| {
            envc_core::golden::unified_diff(
                &deployed,
                &stack.body,
                &format!("{} (deployed)", stack.stack_name),
                &format!("{} (rendered)", stack.stack_name),
            )
        });
        let (changes, problem) = match change_set::plan_update(&clients, target, stack, made).await
        {
            Ok(Planned::Update {
                summary,
                change_set,
            }) => {
                change_set::delete_change_set(cf, &stack.stack_name, &change_set).await;
                made.change_set_gone(&stack.stack_name);
                (Some(summary), None)
            }
            Ok(_) => (None, None),
            // A change set CloudFormation refused is this stack's problem, not the run's.
            Err(problem) if problem.code == Code::StackFailed => (None, Some(problem)),
            Err(problem) => return Err(problem),
        };
        diffs.push(LiveDiff {
            stack: stack.stack.clone(),
            deployed: true,
            template_diff,
            changes,
            problem,
        });
    }
    Ok(diffs)
}

/// A deployed template in envc's canonical form, so only real differences show.
fn canonical(body: &str) -> String {
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(body) {
        Ok(value) => envc_core::render::yaml::value_to_canonical_yaml(value),
        Err(_) => body.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct DestroyOptions {
    /// Needed for protected environments.
    pub force: bool,
    /// The person confirmed (typed the environment's name for a protected one).
    pub confirmed: bool,
}

/// Deletes the environment's stacks, last wave first.
pub async fn destroy(
    target: &DeployTarget,
    options: &DestroyOptions,
    reporter: Arc<dyn Reporter>,
    in_flight: InFlight,
) -> DeployReport {
    let mut report = DeployReport::default();
    if let Some(refused) = destroy_refused(target, options) {
        report.diagnostics.push(refused);
        return report;
    }
    let clients = match Clients::to_change(&target.aws, &target.env).await {
        Ok(clients) => clients,
        Err(problem) => {
            report.diagnostics.push(problem);
            return report;
        }
    };
    let cf = &clients.cloudformation;
    match imported_elsewhere(cf, target).await {
        Ok(None) => {}
        Ok(Some(problem)) | Err(problem) => {
            report.diagnostics.push(problem);
            return report;
        }
    }
    for wave in target.waves.iter().rev() {
        let mut running = tokio::task::JoinSet::new();
        for name in wave {
            let Some(stack) = target.stack(name).cloned() else {
                continue;
            };
            let (clients, cf, reporter, in_flight, protected) = (
                clients.clone(),
                cf.clone(),
                reporter.clone(),
                in_flight.clone(),
                target.protected,
            );
            running.spawn(async move {
                let outcome = delete_stack(
                    &clients,
                    &cf,
                    &stack,
                    reporter.as_ref(),
                    &in_flight,
                    protected,
                )
                .await;
                (stack, outcome)
            });
        }
        if !collect_deleted(&mut running, &mut report).await {
            break;
        }
    }
    report
}

/// Why the environment is not destroyed, if it is not: it is protected and not forced, or
/// the person did not confirm.
/// Why the environment cannot be destroyed whole: a stack of another environment (or made
/// by hand) imports one of its exports, and CloudFormation refuses to delete a stack whose
/// export is in use. Found before anything is deleted, so the environment is not left half
/// destroyed.
async fn imported_elsewhere(
    cf: &aws_sdk_cloudformation::Client,
    target: &DeployTarget,
) -> Result<Option<Diagnostic>, Diagnostic> {
    let own: std::collections::HashSet<&str> = target
        .stacks
        .iter()
        .map(|s| s.stack_name.as_str())
        .collect();
    let mut in_use = Vec::new();
    for stack in &target.stacks {
        for export in &stack.template.exports {
            for importer in importers(cf, export).await? {
                if !own.contains(importer.as_str()) {
                    in_use.push(format!(
                        "`{export}` (of `{}`) is imported by `{importer}`",
                        stack.stack_name
                    ));
                }
            }
        }
    }
    if in_use.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        Diagnostic::error(
            Code::StackFailed,
            format!("`{}` cannot be destroyed while other stacks import its exports: {}", target.env, in_use.join("; ")),
        )
        .help("CloudFormation refuses to delete a stack whose export is in use: destroy (or change) the importing stacks first; nothing was deleted"),
    ))
}

/// The stacks that import `export` (ListImports, every page).
async fn importers(
    cf: &aws_sdk_cloudformation::Client,
    export: &str,
) -> Result<Vec<String>, Diagnostic> {
    let mut stacks = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let answer = cf
            .list_imports()
            .export_name(export)
            .set_next_token(token.take())
            .send()
            .await;
        match answer {
            Ok(page) => {
                stacks.extend(page.imports().iter().cloned());
                match page.next_token() {
                    Some(next) if !next.is_empty() => token = Some(next.to_string()),
                    _ => return Ok(stacks),
                }
            }
            Err(error) => {
                let message = super::clients::error_message(&error);
                // An export nothing imports, or that does not exist (never deployed).
                if message.contains("is not imported") || message.contains("does not exist") {
                    return Ok(stacks);
                }
                return Err(super::clients::aws_failure(
                    &format!("cannot tell which stacks import `{export}`"),
                    message,
                ));
            }
        }
    }
}

fn destroy_refused(target: &DeployTarget, options: &DestroyOptions) -> Option<Diagnostic> {
    if target.protected && !options.force {
        return Some(
            Diagnostic::error(Code::Guarded, format!("`{}` is protected; envc will not destroy it", target.env))
                .help("if you really mean it: `envc destroy ENV --force`, and type the environment's name when asked (`--confirm ENV` without a terminal)"),
        );
    }
    if !options.confirmed {
        return Some(
            Diagnostic::error(Code::Confirmation, format!("destroying `{}` needs confirmation", target.env))
                .help("answer the question at a terminal, or pass `--yes` (`--force --confirm ENV` for a protected environment)"),
        );
    }
    None
}

/// Deletes one stack and waits for the delete to end: its final status, or `None` where
/// the stack is not deployed.
async fn delete_stack(
    clients: &Clients,
    cf: &aws_sdk_cloudformation::Client,
    stack: &RenderedStack,
    reporter: &dyn Reporter,
    in_flight: &InFlight,
    protected: bool,
) -> Result<Option<String>, Diagnostic> {
    if stack::describe(cf, &stack.stack_name).await?.is_none() {
        return Ok(None);
    }
    if protected {
        stack::unprotect(cf, &stack.stack_name).await?;
    }
    reporter.progress(Progress::Started {
        stack: stack.stack.clone(),
        action: "delete",
    });
    in_flight.start(&stack.stack_name);
    let since = aws_sdk_cloudformation::primitives::DateTime::from(
        std::time::SystemTime::now() - std::time::Duration::from_secs(1),
    );
    let seen = stack::event_ids(cf, &stack.stack_name).await;
    // CloudFormation cannot delete a bucket that holds objects.
    super::buckets::empty_deleted_buckets(clients, &stack.stack_name).await?;
    stack::delete(cf, &stack.stack_name).await?;
    let finished = stack::wait(cf, &stack.stack, &stack.stack_name, reporter, since, seen).await;
    in_flight.end(&stack.stack_name);
    let finished = finished?;
    reporter.progress(Progress::Finished {
        stack: stack.stack.clone(),
        status: finished.status.clone(),
    });
    if finished.status != "DELETE_COMPLETE" {
        let mut d = Diagnostic::error(
            Code::StackFailed,
            format!("`{}` ended {}", stack.stack_name, finished.status),
        )
        .help("remove what blocks the delete (see `envc status ENV`) and run `envc destroy` again");
        if let Some((resource, reason)) = finished.first_failure {
            d = d.note(format!("first failure: {resource}: {reason}"));
        }
        return Err(d);
    }
    Ok(Some(finished.status))
}

/// Adds the stacks of one wave to `report` as their deletes end; whether all of them
/// succeeded (the next wave goes on only then).
async fn collect_deleted(
    running: &mut tokio::task::JoinSet<(RenderedStack, Result<Option<String>, Diagnostic>)>,
    report: &mut DeployReport,
) -> bool {
    let mut failed = false;
    while let Some(joined) = running.join_next().await {
        let Ok((stack, outcome)) = joined else {
            continue;
        };
        let (outcome, status) = match outcome {
            Ok(Some(status)) => (Outcome::Updated, Some(status)),
            Ok(None) => (Outcome::NoChanges, Some("NOT_DEPLOYED".to_string())),
            Err(d) => {
                report.diagnostics.push(d);
                failed = true;
                (Outcome::Failed, None)
            }
        };
        report.stacks.push(StackResult {
            stack: stack.stack.clone(),
            stack_name: stack.stack_name.clone(),
            outcome,
            status,
            outputs: Vec::new(),
        });
    }
    !failed
}

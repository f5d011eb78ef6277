//! `deploy`, `status`, `diff --live` and `destroy`: running them on tokio, and printing change
//! tables, events (a live view on a terminal, timestamped lines otherwise), outputs, status.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use envc_core::source::SourceMap;
use envc_deploy::status::{LiveDiff, StackStatusRow};
use envc_deploy::{DeployReport, Outcome, Progress, Reporter};

use super::output::{errln, one_line, out, outln};
use super::report::Format;
use super::{print_diagnostics, AwsArgs, Cli, StatusFormat};

/// Prints progress to stdout: bars on a terminal, plain lines otherwise.
pub struct Printer {
    live: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    color: bool,
}

impl Printer {
    pub fn new(color: bool) -> Printer {
        let live = std::io::stdout().is_terminal().then(MultiProgress::new);
        Printer {
            live,
            bars: Mutex::new(HashMap::new()),
            color,
        }
    }

    fn line(&self, text: String) {
        match &self.live {
            Some(live) => {
                let _ = live.println(super::output::shown(&text));
            }
            None => {
                let now = humantime_now();
                outln!("{now} {text}");
            }
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bar(&self, stack: &str) -> Option<ProgressBar> {
        let live = self.live.as_ref()?;
        let mut bars = self.bars.lock().ok()?;
        Some(
            bars.entry(stack.to_string())
                .or_insert_with(|| {
                    let bar = live.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<14} {elapsed:>4} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(super::output::shown(stack));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                })
                .clone(),
        )
    }
}

/// `2026-11-24T18:40:01Z`, for plain log lines.
fn humantime_now() -> String {
    envc_deploy::stack::utc_seconds(&aws_sdk_cloudformation::primitives::DateTime::from(
        std::time::SystemTime::now(),
    ))
}

impl Reporter for Printer {
    fn progress(&self, progress: Progress) {
        match progress {
            Progress::Environment {
                env,
                account,
                region,
                role,
            } => {
                let role = role.map(|r| format!(", as {r}")).unwrap_or_default();
                self.line(String::new());
                self.line(self.paint(&format!("{env}: account {account}, {region}{role}"), "1"));
            }
            Progress::Wave { number, stacks } => {
                self.line(format!("wave {number}: {}", stacks.join(", ")))
            }
            Progress::Deploying { number, stacks } => {
                self.line(format!("deploying wave {number}: {}", stacks.join(", ")))
            }
            Progress::Plan(summary) => {
                for line in super::plan::change_table(&summary, self.color).lines() {
                    self.line(line.to_string());
                }
            }
            Progress::NoChanges { stack } => self.line(format!("{stack}: no changes")),
            Progress::Replacing { stack, status } => self.line(format!(
                "{stack}: deleting the failed stack ({status}) to create it again"
            )),
            Progress::Started { stack, action } => {
                if let Some(bar) = self.bar(&stack) {
                    bar.set_message(super::output::shown(&format!("{action} started")));
                } else {
                    self.line(format!("{stack}: {action} started"));
                }
            }
            Progress::Resource {
                stack,
                logical_id,
                resource_type,
                status,
                reason,
            } => {
                let failed = status.ends_with("_FAILED");
                let shown = if failed {
                    self.paint(&status, "31")
                } else {
                    status.clone()
                };
                let reason = reason
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default();
                match self.bar(&stack) {
                    Some(bar) if !failed => {
                        bar.set_message(super::output::shown(&format!("{status} {logical_id}")))
                    }
                    _ => self.line(format!(
                        "{stack}: {shown} {logical_id} ({resource_type}){reason}"
                    )),
                }
            }
            Progress::Finished { stack, status } => {
                let ok = status.ends_with("_COMPLETE") && !status.contains("ROLLBACK");
                let shown = self.paint(&status, if ok { "32" } else { "31" });
                if let Some(bar) = self.bars.lock().ok().and_then(|mut b| b.remove(&stack)) {
                    bar.finish_and_clear();
                }
                self.line(format!("{stack}: {shown}"));
            }
            Progress::DryRun { stack } => {
                self.line(format!("{stack}: dry run, change set deleted"))
            }
        }
    }

    fn confirm(&self, question: &str) -> bool {
        let ask = || {
            out!("{question} [y/N] ");
            let _ = std::io::stdout().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        };
        match &self.live {
            Some(live) => live.suspend(ask),
            None => ask(),
        }
    }
}

pub fn print_report(report: &DeployReport, verb: &str) {
    if report.stacks.is_empty() {
        return;
    }
    outln!();
    outln!("{verb}:");
    for result in &report.stacks {
        let outcome = match result.outcome {
            Outcome::Created => "created",
            Outcome::Updated => {
                if verb == "destroyed" {
                    "deleted"
                } else {
                    "updated"
                }
            }
            Outcome::NoChanges => {
                if verb == "destroyed" {
                    "not deployed"
                } else {
                    "no changes"
                }
            }
            Outcome::DryRun => "dry run",
            Outcome::Failed => "FAILED",
            Outcome::Skipped => "skipped",
        };
        outln!(
            "  {:<14} {:<12} {}",
            result.stack,
            outcome,
            result.status.as_deref().unwrap_or("")
        );
    }
    let with_outputs: Vec<_> = report
        .stacks
        .iter()
        .filter(|r| !r.outputs.is_empty())
        .collect();
    if !with_outputs.is_empty() {
        outln!();
        outln!("outputs:");
        for result in with_outputs {
            for (key, value) in &result.outputs {
                // AWS's text: its line breaks and escape codes written out.
                outln!("  {}.{} = {}", result.stack, one_line(key), one_line(value));
            }
        }
    }
}

pub fn status_table(rows: &[StackStatusRow]) -> String {
    let mut out = format!(
        "{:<14} {:<28} {:<22} {:<20} {}\n",
        "STACK", "STATUS", "LAST UPDATED", "IMAGE TAG", "OUTPUTS"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<14} {:<28} {:<22} {:<20} {}\n",
            row.stack,
            row.status,
            row.last_updated.as_deref().unwrap_or("-"),
            one_line(row.image_tag.as_deref().unwrap_or("-")),
            row.outputs.len()
        ));
        // AWS's text: its line breaks and escape codes written out, so each row is a line.
        if let Some(reason) = &row.reason {
            if !reason.is_empty() {
                out.push_str(&format!("  reason: {}\n", one_line(reason)));
            }
        }
        for (key, value) in &row.outputs {
            out.push_str(&format!("  {} = {}\n", one_line(key), one_line(value)));
        }
    }
    out
}

/// The ECS services: tasks running of those desired, pending, and the rollout.
pub fn services_table(services: &[envc_deploy::health::ServiceHealth]) -> String {
    if services.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n{:<14} {:<36} {:>7} {:>7} {:>7}  {}\n",
        "STACK", "SERVICE", "RUNNING", "DESIRED", "PENDING", "ROLLOUT"
    );
    for service in services {
        let verdict = if service.is_unhealthy() {
            "  << fewer than desired"
        } else {
            ""
        };
        let verdict = if service.rollout == "FAILED" {
            "  << rolled back by the circuit breaker"
        } else {
            verdict
        };
        out.push_str(&format!(
            "{:<14} {:<36} {:>7} {:>7} {:>7}  {}{verdict}\n",
            service.stack,
            service.service,
            service.running,
            service.desired,
            service.pending,
            service.rollout
        ));
        if let Some(reason) = service.reason.as_deref().filter(|_| service.is_unhealthy()) {
            out.push_str(&format!("  reason: {reason}\n"));
        }
    }
    out
}

pub fn print_live_diff(diffs: &[LiveDiff], color: bool) -> bool {
    let mut differs = false;
    for diff in diffs {
        if let Some(text) = &diff.template_diff {
            differs = true;
            out!("{text}");
        }
        if let Some(changes) = &diff.changes {
            differs = true;
            out!("{}", super::plan::change_table(changes, color));
        }
        if diff.template_diff.is_none() && diff.changes.is_none() {
            outln!("{}: deployed template matches the render", diff.stack);
        }
    }
    differs
}

pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// The checked, rendered environment, or the exit code after printing why not.
pub(super) fn target(
    cli: &Cli,
    env: &str,
    aws: &AwsArgs,
    stages: envc_core::Stages,
    color: bool,
) -> Result<envc_deploy::DeployTarget, i32> {
    let (sources, target) = envc_deploy::deploy_target(&cli.dir, env, &aws.options(), stages);
    super::output::learn(&sources);
    target.map_err(|problems| {
        print_diagnostics(&problems, &sources, Format::Human, color);
        envc_core::exit_code(&problems).max(1)
    })
}

/// Runs `work`, or on Ctrl-C stops waiting: deletes the change sets made and not executed,
/// and names the stack operations still running. Exits 130, as a shell does.
pub(super) fn until_interrupted<T>(
    work: impl std::future::Future<Output = T>,
    deploying: &[(&envc_deploy::DeployTarget, &envc_deploy::InFlight)],
) -> Result<T, i32> {
    runtime().block_on(async {
        tokio::select! {
            done = work => Ok(done),
            _ = tokio::signal::ctrl_c() => {
                errln!();
                let running: Vec<String> = deploying.iter().flat_map(|(_, f)| f.names()).collect();
                let deleting: usize = deploying.iter().map(|(_, f)| f.change_sets().len()).sum();
                if deleting > 0 {
                    errln!("envc: interrupted; deleting the {deleting} change set{} this deploy made", if deleting == 1 { "" } else { "s" });
                    let cleanup = async {
                        for (target, in_flight) in deploying {
                            envc_deploy::abandon(target, in_flight).await;
                        }
                    };
                    if tokio::time::timeout(Duration::from_secs(20), cleanup).await.is_err() {
                        errln!("envc: could not delete them in time; they are harmless, and the console lists them");
                    }
                }
                if running.is_empty() {
                    errln!("envc: interrupted; no stack operation was running");
                } else {
                    errln!("envc: interrupted; stopped waiting. Still running in CloudFormation (they go on without envc):");
                    for name in running {
                        errln!("  {name}");
                    }
                    errln!("`envc status ENV` shows how they end.");
                }
                Err(130)
            }
        }
    })
}

#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// Environments, or patterns over their names (`'pr-*'`).
    #[arg(value_name = "ENV", required_unless_present = "all")]
    pub envs: Vec<String>,
    /// Every environment of the project (abstract ones are never deployed).
    #[arg(long, conflicts_with = "envs")]
    pub all: bool,
    /// Only these stacks (repeatable), in each environment.
    #[arg(long = "stack", value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Do not ask before changing an unprotected environment; needed without a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the change sets, then delete them; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How much runs at once: the stacks of a wave for one environment; the environments
    /// for several (each then deploys a wave's stacks 4 at once).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// With several environments: how many may fail before no more start (those running
    /// finish). 0 stops starting others at the first failure.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_failures: u16,
    /// Delete and create again stacks left in ROLLBACK_COMPLETE by a failed first create.
    #[arg(long)]
    pub replace_failed: bool,
    /// Deploy a protected environment whose stacks drifted from their templates (changed
    /// by hand), putting the templates back.
    #[arg(long)]
    pub overwrite_drift: bool,
    /// Ship this tag of the environment's image: only the stacks that run it change (their
    /// `ImageTag` parameter). Without it, deployed stacks keep the tag they run.
    #[arg(long, value_name = "TAG")]
    pub image_tag: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

impl DeployArgs {
    pub(super) fn options(&self, concurrency: usize) -> envc_deploy::DeployOptions {
        envc_deploy::DeployOptions {
            yes: self.yes,
            dry_run: self.dry_run,
            concurrency,
            replace_failed: self.replace_failed,
            overwrite_drift: self.overwrite_drift,
            interactive: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
        }
    }

    /// Several environments, or possibly several: `--all` or a pattern.
    fn many(&self) -> bool {
        self.all || self.envs.len() > 1 || self.envs.iter().any(|e| e.contains(['*', '?']))
    }
}

/// The stacks `--stack` names and the tag `--image-tag` ships, in `target`.
pub(super) fn narrow(
    target: &mut envc_deploy::DeployTarget,
    args: &DeployArgs,
) -> Result<(), envc_core::diagnostic::Diagnostic> {
    target.select(&args.stacks)?;
    match &args.image_tag {
        Some(tag) => target.ship_image(tag),
        None => Ok(()),
    }
}

pub fn run_deploy(cli: &Cli, args: &DeployArgs, color: bool) -> i32 {
    if args.many() {
        return super::deploy_many::run(cli, args, color);
    }
    let env = &args.envs[0];
    let mut target = match target(cli, env, &args.aws, envc_core::Stages::Check, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if let Err(problem) = narrow(&mut target, args) {
        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
        return 2;
    }
    let options = args.options(usize::from(args.concurrency));
    let printer: std::sync::Arc<dyn envc_deploy::Reporter> =
        std::sync::Arc::new(Printer::new(color));
    let in_flight = envc_deploy::InFlight::default();
    let report = match until_interrupted(
        envc_deploy::deploy(&target, &options, printer, in_flight.clone()),
        &[(&target, &in_flight)],
    ) {
        Ok(report) => report,
        Err(code) => return code,
    };
    finish(
        &report,
        if options.dry_run {
            "dry run"
        } else {
            "deployed"
        },
        color,
    )
}

/// Prints a deploy or destroy report and its problems; returns the exit code.
pub(super) fn finish(report: &DeployReport, verb: &str, color: bool) -> i32 {
    print_report(report, verb);
    print_diagnostics(
        &report.diagnostics,
        &SourceMap::default(),
        Format::Human,
        color,
    );
    i32::from(!report.succeeded())
}

pub fn run_status(cli: &Cli, env: &str, format: StatusFormat, aws: &AwsArgs, color: bool) -> i32 {
    let target = match target(cli, env, aws, envc_core::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    match runtime().block_on(envc_deploy::status::status(&target)) {
        Ok(report) => {
            match format {
                StatusFormat::Table => {
                    out!("{}", status_table(&report.stacks));
                    out!("{}", services_table(&report.services));
                    for left in &report.left_over {
                        outln!(
                            "\n{} (stack `{}`) is deployed, but `{env}` no longer renders it; once nothing imports its exports: aws cloudformation delete-stack --stack-name {} --region {}",
                            left.stack_name,
                            left.stack,
                            left.stack_name,
                            target.aws.region
                        );
                    }
                    if let Some(secret) = report.secret.as_ref().filter(|s| !s.missing.is_empty()) {
                        outln!(
                            "\n{} lacks {}, which containers read: their tasks fail to start until it is set (`envc secret set {env} KEY --stdin`)",
                            secret.secret,
                            secret.missing.join(", ")
                        );
                    }
                }
                StatusFormat::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                ),
                StatusFormat::Yaml => {
                    let value = serde_yaml_ng::to_value(&report).unwrap_or_default();
                    out!(
                        "{}",
                        envc_core::render::yaml::value_to_canonical_yaml(value)
                    );
                }
            }
            report.summary.exit_code
        }
        Err(problem) => {
            let shown = match format {
                StatusFormat::Json => Format::Json,
                StatusFormat::Table | StatusFormat::Yaml => Format::Human,
            };
            print_diagnostics(&[problem], &SourceMap::default(), shown, color);
            3
        }
    }
}

pub fn run_live_diff(cli: &Cli, env: &str, aws: &AwsArgs, color: bool) -> i32 {
    let target = match target(cli, env, aws, envc_core::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let in_flight = envc_deploy::InFlight::default();
    let diffed = match until_interrupted(
        envc_deploy::status::live_diff(&target, &in_flight),
        &[(&target, &in_flight)],
    ) {
        Ok(diffed) => diffed,
        Err(code) => return code,
    };
    match diffed {
        Ok(diffs) => {
            let differs = print_live_diff(&diffs, color);
            let problems: Vec<_> = diffs.iter().filter_map(|d| d.problem.clone()).collect();
            print_diagnostics(&problems, &SourceMap::default(), Format::Human, color);
            // A stack whose change set CloudFormation refused differs from what is deployed.
            i32::from(differs || !problems.is_empty())
        }
        // As `status`: AWS could not be asked (2 is a usage error).
        Err(problem) => {
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            3
        }
    }
}

pub fn run_destroy(
    cli: &Cli,
    env: &str,
    yes: bool,
    force: bool,
    confirm: Option<&str>,
    aws: &AwsArgs,
    color: bool,
) -> i32 {
    // A name typed to confirm that is not the one named is a mistake to stop at, whatever
    // else was passed (`--yes` included).
    if let Some(typed) = confirm.filter(|typed| *typed != env) {
        let problem = envc_core::diagnostic::Diagnostic::error(
            envc_core::diagnostic::Code::Usage,
            format!("`--confirm {typed}` does not name the environment to destroy, `{env}`: nothing was destroyed"),
        )
        .help(format!("type the name of the environment you mean to destroy: `envc destroy {env} --confirm {env}`"));
        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
        return 2;
    }
    let target = match target(cli, env, aws, envc_core::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut asked = false;
    let confirmed = if target.protected {
        match (confirm, interactive && force) {
            (Some(typed), _) => typed == env,
            (None, true) => {
                asked = true;
                out!("`{env}` is protected. Type its name to destroy every stack of it: ");
                let _ = std::io::Write::flush(&mut std::io::stdout());
                let mut typed = String::new();
                let _ = std::io::stdin().read_line(&mut typed);
                typed.trim() == env
            }
            (None, false) => false,
        }
    } else if yes || confirm == Some(env) {
        true
    } else if interactive {
        asked = true;
        out!("Destroy every stack of `{env}`? [y/N] ");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    } else {
        false
    };
    if asked && !confirmed {
        // Answered at the terminal: the answer, not a missing `--yes`, is why.
        outln!("destroy cancelled: nothing was destroyed");
        return 1;
    }
    let options = envc_deploy::status::DestroyOptions { force, confirmed };
    let printer: std::sync::Arc<dyn envc_deploy::Reporter> =
        std::sync::Arc::new(Printer::new(color));
    let in_flight = envc_deploy::InFlight::default();
    let report = match until_interrupted(
        envc_deploy::status::destroy(&target, &options, printer, in_flight.clone()),
        &[(&target, &in_flight)],
    ) {
        Ok(report) => report,
        Err(code) => return code,
    };
    finish(&report, "destroyed", color)
}

//! `envc run TASK ENV`: the task's log lines on standard output as they come, its progress
//! on standard error, and its container's exit code as envc's. Ctrl-C says how to stop the
//! task, or with `--stop` stops it.

use envc_core::source::SourceMap;
use envc_deploy::task::{RunProgress, StartedTask};

use super::output::{errln, outln};
use super::report::Format;
use super::{print_diagnostics, AwsArgs, Cli};

pub fn run_task(cli: &Cli, task: &str, env: &str, stop: bool, aws: &AwsArgs, color: bool) -> i32 {
    let (sources, target) = envc_deploy::task_target(&cli.dir, env, task, &aws.options());
    super::output::learn(&sources);
    let target = match target {
        Ok(target) => target,
        Err(problems) => {
            print_diagnostics(&problems, &sources, Format::Human, color);
            return envc_core::exit_code(&problems).max(1);
        }
    };
    let started = StartedTask::default();
    let progress = |event: RunProgress| match event {
        RunProgress::Started { task_arn, cluster } => errln!(
            "{task}: started task {} in cluster {cluster}",
            task_id(&task_arn)
        ),
        RunProgress::Status(status) => errln!("{task}: {status}"),
        RunProgress::Log(line) => outln!("{line}"),
    };
    let outcome = super::deploy::runtime().block_on(async {
        tokio::select! {
            outcome = envc_deploy::task::run(&target, task, &started, &progress) => Some(outcome),
            _ = tokio::signal::ctrl_c() => {
                errln!();
                interrupted(&target, &started, stop).await;
                None
            }
        }
    });
    match outcome {
        None => 130,
        Some(Ok(outcome)) => {
            errln!(
                "{task}: task {} exited with {}",
                task_id(&outcome.task_arn),
                outcome.exit_code
            );
            // A shell sees only the low byte: a code past 255 (or below 0) is a failure
            // still, never 0 by wrapping or clamping.
            match outcome.exit_code {
                code @ 0..=255 => code,
                _ => 255,
            }
        }
        Some(Err(problem)) => {
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            1
        }
    }
}

/// After Ctrl-C: stops the task (`--stop`), or says how to.
async fn interrupted(target: &envc_deploy::DeployTarget, started: &StartedTask, stop: bool) {
    let Some((cluster, task_arn)) = started.get() else {
        errln!("envc: interrupted before the task started; nothing runs");
        return;
    };
    let id = task_id(&task_arn);
    if !stop {
        errln!("envc: interrupted; task {id} goes on in ECS without envc. To stop it:");
        errln!("  aws ecs stop-task --cluster {cluster} --task {id}");
        errln!("(`envc run --stop` stops it on Ctrl-C.)");
        return;
    }
    match envc_deploy::task::stop(target, &cluster, &task_arn).await {
        Ok(()) => errln!("envc: interrupted; stopping task {id} (StopTask sent)"),
        Err(problem) => {
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, false);
            errln!("  stop it with: aws ecs stop-task --cluster {cluster} --task {id}");
        }
    }
}

/// The id at the end of a task's ARN.
fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

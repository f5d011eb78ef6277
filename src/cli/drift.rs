//! `envc drift`: what was changed in AWS behind CloudFormation's back, as a table, JSON or
//! workflow annotations.

use envc_core::source::SourceMap;
use envc_deploy::drift::StackDrift;

use super::deploy::{runtime, target};
use super::output::{out, outln};
use super::report::Format;
use super::{print_diagnostics, AwsArgs, Cli};

pub fn run_drift(
    cli: &Cli,
    env: &str,
    stacks: &[String],
    format: Format,
    aws: &AwsArgs,
    color: bool,
) -> i32 {
    let target = match target(cli, env, aws, envc_core::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if let Some(unknown) = stacks.iter().find(|s| target.stack(s).is_none()) {
        let problem = target.unknown_stack(unknown);
        print_diagnostics(&[problem], &SourceMap::default(), format, color);
        return 2;
    }
    let drifts = match runtime().block_on(envc_deploy::drift::detect(&target, stacks)) {
        Ok(drifts) => drifts,
        // AWS could not be asked: 3, as for `status` (2 is a usage error).
        Err(problem) => {
            print_diagnostics(&[problem], &SourceMap::default(), format, color);
            return 3;
        }
    };
    match format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "env": env, "stacks": drifts }))
                .unwrap_or_default()
        ),
        Format::Github => out!("{}", drift_annotations(&drifts)),
        Format::Human => out!("{}", drift_table(env, &drifts)),
    }
    if drifts.iter().any(|d| d.failure.is_some()) {
        3
    } else {
        i32::from(drifts.iter().any(StackDrift::drifted))
    }
}

fn drift_table(env: &str, drifts: &[StackDrift]) -> String {
    let mut text = String::new();
    for drift in drifts {
        text.push_str(&format!(
            "{} ({}): {}\n",
            drift.stack, drift.stack_name, drift.status
        ));
        for resource in &drift.resources {
            text.push_str(&format!(
                "  {} {} ({})\n",
                resource.status, resource.id, resource.kind
            ));
            for property in &resource.properties {
                text.push_str(&format!(
                    "      {}: {} → {}\n",
                    property.path, property.expected, property.actual
                ));
            }
        }
        if !drift.not_checked.is_empty() {
            text.push_str(&format!(
                "  not checked (drift detection does not support their types): {}\n",
                drift.not_checked.join(", ")
            ));
        }
        if let Some(failure) = &drift.failure {
            text.push_str(&format!("  detection failed: {failure}\n"));
        }
    }
    let drifted: Vec<&str> = drifts
        .iter()
        .filter(|d| d.drifted())
        .map(|d| d.stack.as_str())
        .collect();
    if drifted.is_empty() {
        text.push_str(&format!(
            "no drift: every deployed stack of `{env}` is as its template says\n"
        ));
    } else {
        text.push_str(&format!(
            "{} stack{} drifted: put what was changed by hand into the environment's files, or `envc deploy {env}` puts the templates back\n",
            drifted.len(),
            if drifted.len() == 1 { "" } else { "s" }
        ));
    }
    text
}

/// One workflow annotation per drifted property (or deleted resource).
fn drift_annotations(drifts: &[StackDrift]) -> String {
    let mut text = String::new();
    for drift in drifts {
        for resource in &drift.resources {
            let title = format!("drift in {}", drift.stack_name);
            if resource.properties.is_empty() {
                text.push_str(&format!(
                    "::warning title={title}::{} {} ({})\n",
                    resource.id, resource.status, resource.kind
                ));
            }
            for property in &resource.properties {
                text.push_str(&format!(
                    "::warning title={title}::{} ({}) {}: expected {}, actual {}\n",
                    resource.id, resource.kind, property.path, property.expected, property.actual
                ));
            }
        }
    }
    text
}

//! What deploy, status, drift, run and destroy act on: the environments a command names,
//! checked and rendered once, as deploy targets with their stack names, waves, accounts,
//! regions and roles. Names are environments of the project, or patterns (`pr-*`) over
//! their files; a pattern leaves out the abstract ones it matches.

use std::path::Path;

use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::source::SourceMap;
use envc_core::{resolve, run, validate, PipelineRun, Stages};

/// Where a command reaches AWS, from the command line (the rest comes from the standard chain).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The deployable form of `env`: checked (with `stages`), rendered, with stack names and waves.
pub fn deploy_target(
    root: &Path,
    env: &str,
    aws: &AwsOptions,
    stages: Stages,
) -> (SourceMap, Result<crate::DeployTarget, Vec<Diagnostic>>) {
    target_where(root, env, aws, stages, |_, _| None)
}

/// [`deploy_target`] for `envc run TASK ENV`: TASK must be a stack of `env` with a task; one
/// without is shown where `stacks.kdl` declares it.
pub fn task_target(
    root: &Path,
    env: &str,
    task: &str,
    aws: &AwsOptions,
) -> (SourceMap, Result<crate::DeployTarget, Vec<Diagnostic>>) {
    target_where(root, env, aws, Stages::Render, |stacks, target| {
        if target.tasks().any(|t| t == task) {
            return None;
        }
        let problem = target.unknown_task(task);
        let declared = target.stack(task).and_then(|_| {
            stacks
                .spans
                .nearest(&resolve::path::pointer(&["stack", task]))
        });
        Some(match declared {
            Some(at) => problem.at(at.key, "a stack without a task"),
            None => problem,
        })
    })
}

/// The target of `env`, unless `refuse` finds a problem with it before any request.
fn target_where(
    root: &Path,
    env: &str,
    aws: &AwsOptions,
    stages: Stages,
    refuse: impl Fn(&validate::ValidStacks, &crate::DeployTarget) -> Option<Diagnostic>,
) -> (SourceMap, Result<crate::DeployTarget, Vec<Diagnostic>>) {
    let checked = run(root, &[env.to_string()], stages);
    if checked.has_errors() {
        return (checked.sources, Err(checked.diagnostics));
    }
    let target =
        target_of(&checked, env, aws).and_then(|(stacks, target)| match refuse(stacks, &target) {
            Some(problem) => Err(problem),
            None => Ok(target),
        });
    (checked.sources, target.map_err(|problem| vec![problem]))
}

/// The deployable forms of the environments `wanted` names (each a name or a pattern with
/// `*` and `?`), or of every environment with `all`: checked (with `stages`) and rendered in
/// one run, in the order named, each once.
pub fn deploy_targets(
    root: &Path,
    wanted: &[String],
    all: bool,
    aws: &AwsOptions,
    stages: Stages,
) -> (SourceMap, Result<Vec<crate::DeployTarget>, Vec<Diagnostic>>) {
    let files = envc_core::parse::env_names_on_disk(root);
    let mut names: Vec<(String, bool)> = Vec::new();
    let mut problems = Vec::new();
    let patterns: Vec<&str> = if all {
        vec!["*"]
    } else {
        wanted.iter().map(String::as_str).collect()
    };
    for pattern in patterns {
        if !is_pattern(pattern) {
            if !names.iter().any(|(n, _)| n == pattern) {
                names.push((pattern.to_string(), true));
            }
            continue;
        }
        let matched: Vec<&String> = files.iter().filter(|f| matches(pattern, f)).collect();
        if matched.is_empty() {
            problems.push(
                Diagnostic::error(
                    Code::UnknownEnv,
                    format!("no environment matches `{pattern}`"),
                )
                .help(format!("environments are: {}", files.join(", "))),
            );
        }
        for name in matched {
            if !names.iter().any(|(n, _)| n == name) {
                names.push((name.clone(), false));
            }
        }
    }
    if !problems.is_empty() {
        return (SourceMap::default(), Err(problems));
    }
    let only: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
    let checked = run(root, &only, stages);
    if checked.has_errors() {
        return (checked.sources, Err(checked.diagnostics));
    }
    let mut targets = Vec::new();
    for (name, named) in &names {
        // A pattern matches files: the abstract environments among them are left out.
        if !named && checked.is_abstract(name) {
            continue;
        }
        match target_of(&checked, name, aws) {
            Ok((_, target)) => targets.push(target),
            Err(problem) => problems.push(problem),
        }
    }
    if targets.is_empty() && problems.is_empty() {
        problems.push(
            Diagnostic::error(
                Code::UnknownEnv,
                format!(
                    "no environment to deploy matches {}: those that do are abstract",
                    wanted_text(wanted, all)
                ),
            )
            .help("name environments that extend them, or a pattern that matches those"),
        );
    }
    if !problems.is_empty() {
        return (checked.sources, Err(problems));
    }
    (checked.sources, Ok(targets))
}

/// What was asked for, as the user wrote it: `--all`, or the names and patterns.
fn wanted_text(wanted: &[String], all: bool) -> String {
    if all {
        "`--all`".to_string()
    } else {
        wanted
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The target of `env` from a run that checked and rendered it.
fn target_of<'a>(
    checked: &'a PipelineRun,
    env: &str,
    aws: &AwsOptions,
) -> Result<(&'a validate::ValidStacks, crate::DeployTarget), Diagnostic> {
    let found = (
        checked.validated.stacks.as_ref(),
        checked.validated.envs.iter().find(|e| e.name == env),
        checked.rendered.iter().find(|r| r.name == env),
    );
    let (Some(stacks), Some(valid), Some(rendered)) = found else {
        return Err(checked.not_rendered(env));
    };
    if let Some(region) = &aws.region {
        let env_region = valid.model.region.as_deref().unwrap_or_default();
        if let Some(problem) = validate::regions::check_region_argument(region, env, env_region) {
            // Where the region `--region` stands in for is set.
            return Err(match valid.spans.nearest("/region") {
                Some(set) => problem.at(set.value, format!("`{env}`'s region, without `--region`")),
                None => problem,
            });
        }
    }
    let target = crate::DeployTarget::new(
        &stacks.model,
        valid,
        rendered,
        aws.profile.clone(),
        aws.region.clone(),
        aws.endpoint_url.clone(),
    );
    Ok((stacks, target))
}

fn is_pattern(name: &str) -> bool {
    name.contains(['*', '?'])
}

/// Whether `name` matches `pattern`, where `*` is any run of characters and `?` one.
fn matches(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), name.chars().collect());
    // The classic two-pointer match, backtracking to the last `*`.
    let (mut p, mut n, mut star, mut resume) = (0, 0, None, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            resume = n;
            p += 1;
        } else if let Some(at) = star {
            p = at + 1;
            resume += 1;
            n = resume;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_as_a_shell_does() {
        for (pattern, name, expected) in [
            ("pr-*", "pr-7", true),
            ("pr-*", "pr-", true),
            ("pr-*", "prod", false),
            ("*", "dev", true),
            ("st*g*", "staging2", true),
            ("staging?", "staging2", true),
            ("staging?", "staging", false),
            ("*2", "staging2", true),
            ("*-*-x", "a-b-c-x", true),
            ("d?v", "dev", true),
            ("d?v", "deev", false),
        ] {
            assert_eq!(matches(pattern, name), expected, "{pattern} against {name}");
        }
    }
}

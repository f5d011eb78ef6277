//! Deploy: rendered stacks to CloudFormation, in dependency waves.
//!
//! Takes the output of render and never re-reads the project. Every stack of every wave is
//! planned first (a change set, or the templates where one cannot be made yet), shown as one
//! plan and confirmed once; nothing but change sets is written before the answer. Then the
//! waves run in order, each wave's stacks concurrently, with events until a final status; a
//! failure stops the waves after it. envc keeps no state: CloudFormation is the state.

mod buckets;
pub mod change_set;
pub mod clients;
mod credentials;
pub use credentials::seen_secrets;
pub mod drift;
pub mod health;
pub mod image;
pub mod many;
pub mod plan;
pub mod preflight;
mod run;
pub mod secret;
pub mod stack;
pub mod status;
pub mod targets;
pub mod task;
mod wave;

pub use targets::{deploy_target, deploy_targets, task_target, AwsOptions};

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use clients::AwsTarget;
use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::model::StacksConfig;
use envc_core::render::{RenderedEnv, RenderedStack};
use envc_core::validate::ValidEnv;
use plan::ChangeSetSummary;

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
    /// The CloudFormation name of every stack the environment renders, also those
    /// `--stack` or `--image-tag` leave out of `stacks`: what a deployed stack of the
    /// environment is told left over against.
    pub rendered_stack_names: Vec<String>,
    /// `deploy --image-tag`: the tag the stacks that run the environment's image get.
    pub image_tag: Option<String>,
    /// The Secrets Manager secret of the environment's JSON configuration (`config-secret`).
    pub config_secret: Option<String>,
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
                == Some(envc_core::model::StackKind::Artifacts)
        });
        DeployTarget {
            project: config.project.clone(),
            env: env.name.clone(),
            protected: model.protected,
            aws: AwsTarget {
                region: region.or_else(|| model.region.clone()).unwrap_or_default(),
                profile,
                endpoint_url,
                account: model.account.clone(),
                role: model.deploy_role.clone(),
            },
            // The environment's tags start from the project's (`tags` of `stacks.kdl`), and
            // may replace or remove them: the project's again would send a key twice.
            tags: model
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            artifact_bucket: has_artifacts.then(|| {
                envc_core::render::context::artifacts_bucket(
                    &config.project,
                    &env.name,
                    &model.account,
                )
            }),
            stacks: rendered.stacks.clone(),
            waves: rendered.waves.clone(),
            rendered_stack_names: rendered
                .stacks
                .iter()
                .map(|s| s.stack_name.clone())
                .collect(),
            image_tag: None,
            config_secret: model.config_secret.clone(),
        }
    }

    pub fn stack(&self, name: &str) -> Option<&RenderedStack> {
        self.stacks.iter().find(|s| s.stack == name)
    }

    /// `name` is none of its stacks: the problem, with the closest name or the list.
    pub fn unknown_stack(&self, name: &str) -> Diagnostic {
        let known: Vec<&str> = self.stacks.iter().map(|s| s.stack.as_str()).collect();
        Diagnostic::error(
            Code::UnknownStack,
            format!("`{}` has no stack `{name}`", self.env),
        )
        .help(
            envc_core::did_you_mean::did_you_mean(name, known.iter().copied())
                .unwrap_or_else(|| format!("its stacks: {}", known.join(", "))),
        )
    }

    /// The stacks with a task to run: those whose template outputs `TaskDefinitionArn`.
    pub fn tasks(&self) -> impl Iterator<Item = &str> + Clone {
        self.stacks
            .iter()
            .filter(|s| {
                s.template
                    .outputs
                    .iter()
                    .any(|o| o == task::DEFINITION_OUTPUT)
            })
            .map(|s| s.stack.as_str())
    }

    /// `name` is no stack of it with a task: the problem, with the closest task or the list.
    pub fn unknown_task(&self, name: &str) -> Diagnostic {
        let tasks: Vec<&str> = self.tasks().collect();
        let message = if self.stack(name).is_some() {
            format!("stack `{name}` of `{}` has no task to run", self.env)
        } else {
            format!("`{}` has no stack `{name}` with a task to run", self.env)
        };
        let listed = if tasks.is_empty() {
            format!(
                "no stack of `{}` outputs `{}`, as a `migration` stack does",
                self.env,
                task::DEFINITION_OUTPUT
            )
        } else {
            format!("its tasks: {}", tasks.join(", "))
        };
        let help =
            envc_core::did_you_mean::did_you_mean(name, tasks.iter().copied()).unwrap_or(listed);
        Diagnostic::error(Code::UnknownTask, message).help(help)
    }

    /// Only `only` (all when empty), keeping wave order.
    pub fn select(&mut self, only: &[String]) -> Result<(), Diagnostic> {
        if only.is_empty() {
            return Ok(());
        }
        if let Some(name) = only.iter().find(|name| self.stack(name).is_none()) {
            return Err(self.unknown_stack(name));
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
    /// Deploy over drift in a protected environment (`--overwrite-drift`).
    pub overwrite_drift: bool,
    /// A person is at a terminal to answer questions.
    pub interactive: bool,
}

/// What deploy tells the person watching, as it happens.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Before an environment's plan, when several deploy at once.
    Environment {
        env: String,
        account: String,
        region: String,
        /// The role assumed for it (`deploy-role`), when it has one.
        role: Option<String>,
    },
    Wave {
        number: usize,
        stacks: Vec<String>,
    },
    Plan(ChangeSetSummary),
    /// After the answer: a wave starts.
    Deploying {
        number: usize,
        stacks: Vec<String>,
    },
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

/// What a deploy has under way, for Ctrl-C: the stacks with an operation running (to name
/// them), and the change sets it made and has not executed (to delete them).
#[derive(Debug, Default, Clone)]
pub struct InFlight(Arc<Mutex<UnderWay>>);

#[derive(Debug, Default)]
struct UnderWay {
    running: BTreeSet<String>,
    /// (stack name, change set name or id), one per stack.
    change_sets: Vec<(String, String)>,
}

impl InFlight {
    fn with<T>(&self, f: impl FnOnce(&mut UnderWay) -> T) -> T {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
    fn start(&self, stack_name: &str) {
        self.with(|u| u.running.insert(stack_name.to_string()));
    }
    fn end(&self, stack_name: &str) {
        self.with(|u| u.running.remove(stack_name));
    }
    /// A change set of `stack_name` exists (or is being asked for) under `change_set`.
    fn change_set_made(&self, stack_name: &str, change_set: &str) {
        self.change_set_gone(stack_name);
        self.with(|u| u.change_sets.push((stack_name.into(), change_set.into())));
    }
    /// The change set of `stack_name` was executed or deleted.
    fn change_set_gone(&self, stack_name: &str) {
        self.with(|u| u.change_sets.retain(|(s, _)| s != stack_name));
    }
    /// Stacks with an operation running.
    pub fn names(&self) -> Vec<String> {
        self.with(|u| u.running.iter().cloned().collect())
    }
    /// Change sets made and not executed.
    pub fn change_sets(&self) -> Vec<(String, String)> {
        self.with(|u| u.change_sets.clone())
    }
}

/// Deploys `target`, wave by wave.
pub async fn deploy(
    target: &DeployTarget,
    options: &DeployOptions,
    reporter: Arc<dyn Reporter>,
    in_flight: InFlight,
) -> DeployReport {
    run::deploy(target, options, reporter, in_flight).await
}

/// After Ctrl-C: deletes the change sets the deploy made and did not execute; returns how
/// many.
pub async fn abandon(target: &DeployTarget, in_flight: &InFlight) -> usize {
    change_set::delete_made(target, in_flight).await
}

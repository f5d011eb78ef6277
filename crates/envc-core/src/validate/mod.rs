//! Validate: JSON Schema over each merged environment, then semantic rules a schema cannot
//! express (CIDRs and their overlap, Fargate sizes, min ≤ max, instance classes, stack graph,
//! plaintext credentials).
//!
//! Only environments without errors come out as [`ValidEnv`]s, typed and ready to render.

mod applies;
mod aurora;
mod aws_rules;
mod compute;
mod database;
mod database_names;
mod deploy_role;
mod dns;
mod ids;
mod lambda;
mod model_schema;
mod network;
mod outputs;
mod reach;
pub mod regions;
mod schema;
mod secret_refs;
mod secrets;
mod settings;

pub use aws_rules::{name_rules, NameRule, Scope};
pub use settings::published as published_schemas;
mod stacks;
mod tags;
mod value_problems;
mod variables;

use std::collections::HashSet;

use indexmap::IndexMap;
use std::hash::Hasher;

use crate::cache::Cache;

use crate::diagnostic::Diagnostic;
use crate::model::{Environment, StacksConfig};
use crate::resolve::{Located, ResolvedEnv, ResolvedProject, ResolvedStacks, SpanIndex};
use crate::source::{FileId, Span};
pub use schema::CompiledSchema;

/// Compiled schemas, built once per run.
pub struct Schemas {
    pub env: CompiledSchema,
    pub stacks: CompiledSchema,
}

impl Schemas {
    /// Compiled once per process and shared.
    pub fn shared() -> &'static Schemas {
        static SHARED: std::sync::OnceLock<Schemas> = std::sync::OnceLock::new();
        SHARED.get_or_init(Schemas::compile)
    }

    /// Compiles both validators now; see [`CompiledSchema::prepare`].
    pub fn prepare(&self) {
        self.env.prepare();
        self.stacks.prepare();
    }

    pub fn compile() -> Self {
        Schemas {
            env: CompiledSchema::of_the_model(
                crate::model::env_schema(),
                schema::ShapeOf::Shared(|| &crate::resolve::Shapes::shared().env),
                "environment",
            ),
            stacks: CompiledSchema::of_the_model(
                crate::model::stacks_schema(),
                schema::ShapeOf::Shared(|| &crate::resolve::Shapes::shared().stacks),
                "stacks.kdl",
            ),
        }
    }
}

/// A deployable environment that passed every check.
#[derive(Debug, Clone)]
pub struct ValidEnv {
    pub name: String,
    pub file: FileId,
    pub model: Environment,
    /// The settings blocks of project-kind stacks, by stack name, validated against their
    /// kind's schema, with its defaults filled in and field names in snake_case (as templates
    /// see them).
    pub settings: IndexMap<String, serde_json::Value>,
    pub spans: SpanIndex,
}

#[derive(Debug, Clone)]
pub struct ValidStacks {
    pub file: FileId,
    pub model: StacksConfig,
    pub spans: SpanIndex,
}

#[derive(Debug, Default)]
pub struct ValidatedProject {
    pub stacks: Option<ValidStacks>,
    /// Non-abstract environments without errors, in file-name order.
    pub envs: Vec<ValidEnv>,
    /// Every environment of the project by name (those in `envs` or not): what a template
    /// may import from (`zone-owner`). Sorted, so that a name is found by binary search.
    pub declared: Vec<String>,
}

/// Where a rule looks up spans for one environment, and how it words inherited problems.
pub(crate) struct EnvSpans<'a> {
    pub env: &'a str,
    pub file: FileId,
    pub spans: &'a SpanIndex,
}

impl EnvSpans<'_> {
    fn located(&self, pointer: &str) -> Option<&Located> {
        self.spans.nearest(pointer)
    }

    /// The span of the value at `pointer` (or its nearest ancestor; the file as a last resort).
    pub fn value(&self, pointer: &str) -> Span {
        self.located(pointer)
            .map(|l| l.value)
            .unwrap_or(Span::new(self.file, 0, 0))
    }

    pub fn key(&self, pointer: &str) -> Span {
        self.located(pointer)
            .map(|l| l.key)
            .unwrap_or(Span::new(self.file, 0, 0))
    }

    /// Adds "inherited by" when the value at `pointer` was set by an ancestor.
    pub fn note_inherited(&self, pointer: &str, diagnostic: Diagnostic) -> Diagnostic {
        inherited_note(self.env, self.located(pointer), diagnostic)
    }
}

fn inherited_note(env: &str, located: Option<&Located>, diagnostic: Diagnostic) -> Diagnostic {
    match located {
        Some(l) if &*l.env != env => diagnostic.inherited_by(env),
        _ => diagnostic,
    }
}

/// Schema problems of `json`. With a cache, a document this envc found valid before is
/// not validated again (nor the schema compiled for it); only documents validated in full
/// (`complete`) are remembered.
fn schema_problems(
    schema: &CompiledSchema,
    json: &serde_json::Value,
    spans: &SpanIndex,
    root_span: Span,
    skip: &dyn Fn(&str) -> bool,
    cache: Option<&Cache>,
    shape: &crate::model::Shape,
) -> schema::Problems {
    let marker = cache.map(|cache| {
        let mut hasher = cache.hasher();
        hasher.write(schema.noun.as_bytes());
        crate::cache::hash_json(&mut hasher, json);
        (cache, crate::cache::key_name(hasher.digest128()))
    });
    if let Some((cache, name)) = &marker {
        if cache.read(name).is_some() {
            return Vec::new();
        }
    }
    let found = schema.validate_as(json, spans, root_span, skip, shape);
    if let (Some((cache, name)), true) = (marker, found.is_empty()) {
        cache.write(&name, b"");
    }
    found
}

/// Validates every environment of `resolved`. With `focus` non-empty, only the problems of
/// those environments are reported: their own, and those across environments that involve
/// them (a zone imported from another region, an overlap with another's CIDR), which is why
/// the others are validated too.
pub fn validate_project(
    resolved: &ResolvedProject,
    schemas: &Schemas,
    cache: Option<&Cache>,
    focus: &[String],
) -> (ValidatedProject, Vec<Diagnostic>) {
    let envs = resolved.envs.iter().collect();
    validate_project_of(resolved, envs, schemas, (cache, focus))
}

/// [`validate_project`], taking the environments out of `resolved`: each is dropped once
/// validated, so memory never holds every resolved and every valid environment at once.
pub fn validate_project_dropping(
    resolved: &mut ResolvedProject,
    schemas: &Schemas,
    cache: Option<&Cache>,
    focus: &[String],
) -> (ValidatedProject, Vec<Diagnostic>) {
    let envs = std::mem::take(&mut resolved.envs);
    validate_project_of(resolved, envs, schemas, (cache, focus))
}

/// [`validate_project`] of `envs`, the resolved environments of `resolved` (borrowed or
/// taken out of it).
fn validate_project_of<E: std::borrow::Borrow<ResolvedEnv> + Send>(
    resolved: &ResolvedProject,
    envs: Vec<E>,
    schemas: &Schemas,
    (cache, focus): (Option<&Cache>, &[String]),
) -> (ValidatedProject, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut project = ValidatedProject {
        declared: resolved.declared.keys().cloned().collect(),
        ..ValidatedProject::default()
    };

    if let Some(stacks) = &resolved.stacks {
        project.stacks = validate_stacks(stacks, resolved, schemas, cache, &mut diagnostics);
    }

    let settings = settings::ProjectSettings::of(resolved);
    let typed = validate_envs(envs, (schemas, &settings), cache, focus, &mut diagnostics);
    let all: Vec<&ValidEnv> = typed.iter().map(|(env, _)| env).collect();
    let not_rendered = check_across(
        &all,
        resolved,
        project.stacks.as_ref(),
        focus,
        &mut diagnostics,
    );
    project.envs = typed
        .into_iter()
        .filter(|(env, ok)| *ok && !not_rendered.contains(&env.name))
        .map(|(env, _)| env)
        .collect();
    (project, diagnostics)
}

/// `stacks.kdl` against its schema, then its rules; the typed stacks when both pass.
fn validate_stacks(
    stacks: &ResolvedStacks,
    resolved: &ResolvedProject,
    schemas: &Schemas,
    cache: Option<&Cache>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ValidStacks> {
    let (json, spans) = stacks.root.to_json();
    let root_span = Span::new(stacks.file, 0, 0);
    // A kind's name is checked against the known kinds (with a did-you-mean) by
    // `check_stacks`, not against the schema's pattern.
    let kind_name = |pointer: &str| is_kind_name(&json, pointer);
    let found = schema_problems(
        &schemas.stacks,
        &json,
        &spans,
        root_span,
        &kind_name,
        cache,
        schemas.stacks.shape(),
    );
    let ok = found.is_empty();
    diagnostics.extend(found.into_iter().map(|(_, d)| d));
    if !ok {
        return None;
    }
    match serde_json::from_value::<StacksConfig>(json) {
        Ok(model) => {
            let before = diagnostics.len();
            // A kind whose files are broken was reported; its stacks are not again.
            let kinds: Vec<&str> = resolved
                .kinds
                .iter()
                .map(|k| k.name.as_str())
                .chain(resolved.broken_kinds.iter().map(String::as_str))
                .collect();
            stacks::check_stacks(&model, &spans, stacks.file, &kinds, diagnostics);
            (diagnostics.len() == before).then(|| ValidStacks {
                file: stacks.file,
                model,
                spans,
            })
        }
        Err(error) => {
            diagnostics.push(
                Diagnostic::error(crate::diagnostic::Code::SchemaInvalid, error.to_string())
                    .at(root_span, "in this file"),
            );
            None
        }
    }
}

/// Whether `pointer` is the `kind` of a stack (`/stack/<name>/kind`) and holds a string.
fn is_kind_name(json: &serde_json::Value, pointer: &str) -> bool {
    let mut parts = pointer.split('/');
    let is_kind = matches!(
        (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next()
        ),
        (Some(""), Some("stack"), Some(_), Some("kind"), None)
    );
    is_kind
        && json
            .pointer(pointer)
            .is_some_and(serde_json::Value::is_string)
}

/// Each environment on its own (in parallel), the problems of those in `focus` reported in
/// the environments' order: the typed environments, with whether each passed.
fn validate_envs<E: std::borrow::Borrow<ResolvedEnv> + Send>(
    envs: Vec<E>,
    (schemas, settings): (&Schemas, &settings::ProjectSettings),
    cache: Option<&Cache>,
    focus: &[String],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(ValidEnv, bool)> {
    // Environments are validated in parallel; diagnostics keep the environments' order.
    let checked: Vec<_> = crate::parallel::map(envs, |env| {
        let env: &ResolvedEnv = env.borrow();
        let reported = focus.is_empty() || focus.contains(&env.name);
        let mut found = Vec::new();
        secrets::check_plaintext(env, &mut found);
        // An environment with a plaintext credential is never rendered: its text would be
        // in the golden files.
        let holds_credential = !found.is_empty();
        let checked = if env.is_abstract {
            None
        } else {
            validate_env(env, schemas, settings, cache, &mut found)
                .map(|(env, ok)| (env, ok && !holds_credential))
        };
        (checked, found, reported)
    });
    let mut typed = Vec::new();
    for (checked, found, reported) in checked {
        if reported {
            diagnostics.extend(found);
        }
        typed.extend(checked);
    }
    typed
}

/// The rules across environments (and between each environment and the stacks' outputs),
/// reported where they involve `focus`: the names of environments that are not rendered.
fn check_across(
    all: &[&ValidEnv],
    resolved: &ResolvedProject,
    stacks: Option<&ValidStacks>,
    focus: &[String],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut across = Vec::new();
    network::check_overlaps(all, &mut across);
    dns::check_shared_domains(all, &mut across);
    let creates_zones = creates_builtin(stacks, crate::model::StackKind::Dns);
    let creates_registry = creates_builtin(stacks, crate::model::StackKind::Registry);
    compute::check_image_tags(all, creates_registry, &mut across);
    // Which secret the project makes is known only from valid stacks: without them, every
    // reference to the config secret would read as one to a secret made elsewhere.
    if stacks.is_some() {
        let creates_config_secret = creates_builtin(stacks, crate::model::StackKind::ConfigSecret);
        secret_refs::check_secret_references(all, creates_config_secret, &mut across);
    }
    let mut not_rendered = dns::check_zones(all, &resolved.declared, creates_zones, &mut across);
    let creates_queues = creates_builtin(stacks, crate::model::StackKind::Queues);
    not_rendered.extend(variables::check_container_variables(
        all,
        creates_queues,
        &mut across,
    ));
    if let Some(stacks) = stacks {
        reach::check_private_reach(all, &stacks.model, &mut across);
        for env in all {
            let mut found = Vec::new();
            if outputs::check_stack_outputs(env, stacks, &mut found) {
                not_rendered.push(env.name.clone());
            }
            if focus.is_empty() || focus.contains(&env.name) {
                diagnostics.extend(found);
            }
        }
    }
    let focus_files: Vec<FileId> = all
        .iter()
        .filter(|env| focus.contains(&env.name))
        .map(|env| env.file)
        .collect();
    diagnostics.extend(
        across
            .into_iter()
            .filter(|d| focus.is_empty() || involves(d, focus, &focus_files)),
    );
    not_rendered
}

/// Whether the project has a stack of the built-in `kind`.
fn creates_builtin(stacks: Option<&ValidStacks>, kind: crate::model::StackKind) -> bool {
    stacks.is_some_and(|s| {
        s.model
            .stack
            .values()
            .any(|stack| stack.builtin() == Some(kind))
    })
}

/// Whether a problem across environments concerns one of `focus`: it is placed in one of
/// their files, or they have it through inheritance.
pub(crate) fn involves(diagnostic: &Diagnostic, focus: &[String], focus_files: &[FileId]) -> bool {
    diagnostic
        .inherited_by
        .iter()
        .any(|env| focus.contains(env))
        || diagnostic
            .primary
            .iter()
            .chain(&diagnostic.secondary)
            .any(|label| focus_files.contains(&label.span.file))
}

/// The typed environment when the document makes one, and whether the schema and every
/// rule passed.
fn validate_env(
    env: &ResolvedEnv,
    schemas: &Schemas,
    settings: &settings::ProjectSettings,
    cache: Option<&Cache>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(ValidEnv, bool)> {
    let (mut json, spans) = env.root.to_json();
    let blocks = settings.take(&mut json);
    let unresolved: HashSet<String> = env.unresolved.iter().map(|p| p.pointer()).collect();
    // A value left as written, or an item of a list that holds one.
    let is_unresolved = |pointer: &str| {
        unresolved.contains(pointer)
            || pointer.rsplit_once('/').is_some_and(|(list, index)| {
                index.parse::<usize>().is_ok() && unresolved.contains(list)
            })
    };
    let root_span = Span::new(env.file, 0, 0);
    let found = schema_problems(
        &schemas.env,
        &json,
        &spans,
        root_span,
        &is_unresolved,
        // Only a document whose references all resolved is remembered as valid.
        cache.filter(|_| unresolved.is_empty()),
        &settings.env_shape,
    );
    let (blocks, block_problems) = settings.check(blocks, &spans, root_span, &is_unresolved);
    let found: Vec<_> = found.into_iter().chain(block_problems).collect();
    let schema_ok = found.is_empty();
    for (located, diagnostic) in found {
        diagnostics.push(inherited_note(&env.name, located.as_ref(), diagnostic));
    }
    if !env.unresolved.is_empty() {
        return None;
    }
    let (model, pruned_blocks) = typed_model(env, schemas, json, schema_ok, &spans, diagnostics)?;
    let at = EnvSpans {
        env: &env.name,
        file: env.file,
        spans: &spans,
    };
    let before = diagnostics.len();
    check_rules(&model, &at, diagnostics);
    drop_follow_on(&pruned_blocks, &at, before, diagnostics);
    let ok = schema_ok && !diagnostics[before..].iter().any(Diagnostic::is_error);
    let valid = ValidEnv {
        name: env.name.clone(),
        file: env.file,
        model,
        settings: blocks,
        spans,
    };
    Some((valid, ok))
}

/// The typed model of an environment's document, and the pointers of the blocks that lost
/// an unknown key on the way; none when the document does not make one.
fn typed_model(
    env: &ResolvedEnv,
    schemas: &Schemas,
    json: serde_json::Value,
    schema_ok: bool,
    spans: &SpanIndex,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(Environment, Vec<String>)> {
    // The rules run even when the schema found problems, so one run shows both, as long as
    // the document still makes a typed model (a value out of range does; a wrong type
    // does not, and the schema has said why).
    let (json, pruned_blocks) = if schema_ok {
        (json, Vec::new())
    } else {
        schemas.env.without_unknown_keys(&json)
    };
    use serde::Deserialize;
    match Environment::deserialize(&json) {
        Ok(model) => Some((model, pruned_blocks)),
        Err(_) if !schema_ok => None,
        Err(error) => {
            let diagnostic =
                value_problems::unrepresentable_number(&env.name, &json, &error, spans)
                    .unwrap_or_else(|| {
                        Diagnostic::error(crate::diagnostic::Code::SchemaInvalid, error.to_string())
                            .at(
                                Span::new(env.file, 0, 0),
                                format!("in environment `{}`", env.name),
                            )
                    });
            diagnostics.push(diagnostic);
            None
        }
    }
}

/// The rules a schema cannot express, over one typed environment.
fn check_rules(model: &Environment, at: &EnvSpans, diagnostics: &mut Vec<Diagnostic>) {
    network::check_network(model, at, diagnostics);
    compute::check_compute(model, at, diagnostics);
    database::check_database(model, at, diagnostics);
    aws_rules::check_aws_rules(model, at, diagnostics);
    deploy_role::check_deploy_role(model, at, diagnostics);
    applies::check_settings_apply(model, at, diagnostics);
    tags::check_tags(&model.tags, at, diagnostics);
    lambda::check_lambda_workers(model, at, diagnostics);
    ids::check_logical_ids(model, at, diagnostics);
}

/// Drops the problems found since `before` that are at a block which lost an unknown key.
fn drop_follow_on(
    pruned_blocks: &[String],
    at: &EnvSpans,
    before: usize,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // A rule about a block that lost an unknown key (`cidrr` for `cidr`) is the same
    // mistake again: the unknown key was reported, with did-you-mean.
    let follow_on: Vec<Span> = pruned_blocks
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| at.key(p))
        .collect();
    let mut i = before;
    while i < diagnostics.len() {
        let at_pruned_block = diagnostics[i]
            .primary
            .as_ref()
            .is_some_and(|label| follow_on.contains(&label.span));
        if at_pruned_block {
            diagnostics.remove(i);
        } else {
            i += 1;
        }
    }
}

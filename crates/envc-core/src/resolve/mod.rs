//! Resolve: `extends` chains, merging, `${…}` references and provenance.
//!
//! Produces one [`ResolvedEnv`] per environment. Each parent is merged once and shared by its
//! children. Every value in a `ResolvedEnv` carries the span that set it and what it overrode.

pub mod interpolate;
mod kind_defaults;
pub mod merge;
pub mod path;
pub mod value;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::Shape;
use crate::parse::{EnvFile, ParsedProject, ProjectKind, Scalar};
use crate::source::{FileId, SourceMap, Span};

use merge::{injected, Merger};
pub use path::KeyPath;
pub use value::*;

/// The keys of `stacks.kdl` every environment starts from.
const PROJECT_DEFAULTS: &[&str] = &["project", "region", "tags"];
/// Keys envc sets itself in every environment.
const RESERVED: &[&str] = &["env", "project"];

/// The name provenance gives to values from `stacks.kdl`.
pub const PROJECT_LAYER: &str = "stacks.kdl";

#[derive(Debug, Clone)]
pub struct ResolvedStacks {
    pub file: FileId,
    pub root: Table,
}

/// One environment after inheritance and references.
#[derive(Debug, Clone)]
pub struct ResolvedEnv {
    pub name: String,
    pub file: FileId,
    pub is_abstract: bool,
    /// Its ancestors, nearest first.
    pub ancestors: Vec<String>,
    pub root: Table,
    /// Paths of strings whose references could not be resolved (already reported).
    pub unresolved: HashSet<KeyPath>,
}

#[derive(Debug, Default)]
pub struct ResolvedProject {
    pub stacks: Option<ResolvedStacks>,
    /// Every environment whose chain resolved, abstract ones included, in file-name order.
    pub envs: Vec<ResolvedEnv>,
    /// Every environment file of the project by name, and whether it is abstract (`None`
    /// where it did not parse): what settings naming another environment are checked
    /// against when only some environments go on to validation.
    pub declared: BTreeMap<String, Option<bool>>,
    /// The project's own kinds, as parsed.
    pub kinds: Vec<ProjectKind>,
    /// Kinds whose files make no kind (already reported).
    pub broken_kinds: Vec<String>,
    /// Stacks of a project kind, by stack name, with their kind's name: each is a settings
    /// block of the environments, merged by the shape of its kind's schema.
    pub settings_blocks: IndexMap<String, String>,
    /// Stacks of a kind whose files make no kind: their blocks are taken out of the
    /// environments unchecked (the kind was reported, its settings cannot be).
    pub refused_blocks: Vec<String>,
}

impl ResolvedProject {
    pub fn env(&self, name: &str) -> Option<&ResolvedEnv> {
        self.envs.iter().find(|e| e.name == name)
    }
}

/// The shapes of the two kinds of file.
pub struct Shapes {
    pub env: Shape,
    pub stacks: Shape,
}

impl Shapes {
    /// Read once per process and shared.
    pub fn shared() -> &'static Shapes {
        static SHARED: std::sync::OnceLock<Shapes> = std::sync::OnceLock::new();
        SHARED.get_or_init(Shapes::from_model)
    }

    pub fn from_model() -> Self {
        Shapes {
            env: Shape::from_schema(crate::model::env_schema()),
            stacks: Shape::from_schema(crate::model::stacks_schema()),
        }
    }
}

/// Stacks whose `kind` is one of `kinds`, with the kind's name, in `stacks.kdl` order; not
/// one named like a setting of the model (`tags`), which validation refuses.
fn settings_blocks(
    stacks: Option<&ResolvedStacks>,
    is_kind: impl Fn(&str) -> bool,
    model: &Shape,
) -> IndexMap<String, String> {
    let Some(stacks) = stacks else {
        return IndexMap::new();
    };
    let (json, _) = stacks.root.to_json();
    let Some(declared) = json.get("stack").and_then(|s| s.as_object()) else {
        return IndexMap::new();
    };
    declared
        .iter()
        .filter_map(|(stack, body)| {
            let kind = body.get("kind")?.as_str()?;
            if model.field_names().contains(&stack.as_str()) {
                return None;
            }
            is_kind(kind).then(|| (stack.clone(), kind.to_string()))
        })
        .collect()
}

pub fn resolve_project(
    parsed: &ParsedProject,
    sources: &SourceMap,
    shapes: &Shapes,
) -> (ResolvedProject, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let project_layer: Arc<str> = Arc::from(PROJECT_LAYER);

    let stacks = parsed.stacks.as_ref().map(|file| {
        let mut root = Table::new(Origin::new(&project_layer, Span::new(file.file, 0, 0)));
        Merger {
            env: &project_layer,
            diagnostics: &mut diagnostics,
        }
        .apply(&mut root, &[], &file.nodes, &shapes.stacks);
        ResolvedStacks {
            file: file.file,
            root,
        }
    });

    // A stack of a project kind gets a settings block in the environments, named after it.
    let is_broken = |kind: &str| parsed.broken_kinds.iter().any(|k| k == kind);
    let refused_blocks = settings_blocks(stacks.as_ref(), is_broken, &shapes.env)
        .into_keys()
        .collect();
    let is_kind = |kind: &str| parsed.kinds.iter().any(|k| k.name == kind);
    let settings_blocks = settings_blocks(stacks.as_ref(), is_kind, &shapes.env);
    let project_shapes = with_settings_blocks(shapes, &settings_blocks, parsed);
    let shapes = project_shapes.as_ref().unwrap_or(shapes);

    let defaults = |file: FileId| project_defaults(&project_layer, stacks.as_ref(), file);
    let chains = merge_chains(parsed, shapes, &defaults, &mut diagnostics);
    let finished: Vec<(ResolvedEnv, Vec<Diagnostic>)> =
        crate::parallel::map(chains, |(env, ancestors, root)| {
            finish_env(env, ancestors, root, &settings_blocks, parsed, sources)
        });
    let mut envs = Vec::with_capacity(finished.len());
    for (env, found) in finished {
        diagnostics.extend(found);
        envs.push(env);
    }
    let declared = parsed
        .envs
        .iter()
        .map(|e| (e.name.clone(), Some(e.is_abstract)))
        .chain(parsed.broken_envs.iter().map(|n| (n.clone(), None)))
        .collect();
    (
        ResolvedProject {
            stacks,
            envs,
            declared,
            kinds: parsed.kinds.clone(),
            broken_kinds: parsed.broken_kinds.clone(),
            settings_blocks,
            refused_blocks,
        },
        diagnostics,
    )
}

/// The shapes with a field for each settings block, shaped by its kind's schema; none when
/// the project has no settings blocks (the shapes stay as they are).
fn with_settings_blocks(
    shapes: &Shapes,
    settings_blocks: &IndexMap<String, String>,
    parsed: &ParsedProject,
) -> Option<Shapes> {
    if settings_blocks.is_empty() {
        return None;
    }
    Some(Shapes {
        env: shapes
            .env
            .with_fields(settings_blocks.iter().map(|(stack, kind)| {
                let schema = &parsed
                    .kinds
                    .iter()
                    .find(|k| &k.name == kind)
                    .expect("a known kind")
                    .schema;
                (stack.clone(), Shape::from_schema(schema))
            })),
        stacks: shapes.stacks.clone(),
    })
}

/// The table an environment without `extends` starts from: the project's defaults from
/// `stacks.kdl`.
fn project_defaults(
    project_layer: &Arc<str>,
    stacks: Option<&ResolvedStacks>,
    file: FileId,
) -> Table {
    let mut base = Table::new(Origin::new(project_layer, Span::new(file, 0, 0)));
    if let Some(stacks) = stacks {
        for key in PROJECT_DEFAULTS {
            if let Some(entry) = stacks.root.entries.get(*key) {
                base.entries.insert(key.to_string(), entry.clone());
            }
        }
    }
    base
}

/// Each environment whose chain merged, with its ancestors and its merged (not yet
/// interpolated) table, in file-name order.
fn merge_chains<'p, F: Fn(FileId) -> Table>(
    parsed: &'p ParsedProject,
    shapes: &Shapes,
    defaults: &F,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(&'p EnvFile, Vec<String>, Table)> {
    let mut merger = ChainMerger {
        parsed,
        shapes,
        merged: HashMap::new(),
        diagnostics,
        defaults,
    };
    // Chains merge once each, in order (parents are shared); then each environment's copy
    // is interpolated in parallel.
    let mut chains = Vec::new();
    for env in &parsed.envs {
        let Some(ancestors) = merger.ancestors(env) else {
            continue;
        };
        if merger.merged(env).is_some() {
            chains.push((env, ancestors));
        }
    }
    // Every chain is merged: each environment's table moves out to be interpolated.
    let ChainMerger { mut merged, .. } = merger;
    chains
        .into_iter()
        .filter_map(|(env, ancestors)| Some((env, ancestors, merged.remove(&env.name)??)))
        .collect()
}

/// One environment from its merged table: `env` set, its kinds' defaults filled in and
/// (unless abstract) its references interpolated; with the problems found.
fn finish_env(
    env: &EnvFile,
    ancestors: Vec<String>,
    mut root: Table,
    settings_blocks: &IndexMap<String, String>,
    parsed: &ParsedProject,
    sources: &SourceMap,
) -> (ResolvedEnv, Vec<Diagnostic>) {
    let mut unresolved = HashSet::new();
    let mut found = Vec::new();
    let name: Arc<str> = Arc::from(env.name.as_str());
    root.entries.insert(
        "env".to_string(),
        Entry {
            key_span: Span::new(env.file, 0, 0),
            value: injected(
                &name,
                Span::new(env.file, 0, 0),
                Scalar::String(env.name.clone()),
            ),
        },
    );
    root.entries.move_index(root.entries.len() - 1, 0);
    kind_defaults::fill(&mut root, settings_blocks, &parsed.kinds, sources);
    if !env.is_abstract {
        let (failed, problems) = interpolate::interpolate(&mut root, &env.name, sources);
        unresolved = failed;
        found = problems;
    }
    let resolved = ResolvedEnv {
        name: env.name.clone(),
        file: env.file,
        is_abstract: env.is_abstract,
        ancestors,
        root,
        unresolved,
    };
    (resolved, found)
}

/// The most ancestors an environment may have: every merge and every provenance chain grows
/// with the depth, and real projects need three or four.
pub const MAX_EXTENDS_DEPTH: usize = 32;

struct ChainMerger<'a, F> {
    parsed: &'a ParsedProject,
    shapes: &'a Shapes,
    /// Merged (not yet interpolated) root of each environment; `None` when its chain failed.
    merged: HashMap<String, Option<Table>>,
    diagnostics: &'a mut Vec<Diagnostic>,
    defaults: &'a F,
}

impl<F: Fn(FileId) -> Table> ChainMerger<'_, F> {
    /// The ancestors of `env`, nearest first; `None` (reported) for a missing parent or cycle.
    fn ancestors(&mut self, env: &EnvFile) -> Option<Vec<String>> {
        let mut chain = vec![env.name.as_str()];
        let mut current = env;
        while let Some(parent) = &current.extends {
            if let Some(position) = chain.iter().position(|n| *n == parent.name) {
                self.report_cycle(&chain[position..]);
                return None;
            }
            match self.parsed.env(&parent.name) {
                Some(next) => {
                    chain.push(next.name.as_str());
                    if chain.len() > MAX_EXTENDS_DEPTH + 1 {
                        // Said once, at the environment the limit is first passed at; those
                        // extending it fail with it.
                        if next.extends.is_none() {
                            self.report_too_deep(env);
                        }
                        return None;
                    }
                    current = next;
                }
                None => {
                    if current.name == env.name && !self.parsed.broken_envs.contains(&parent.name) {
                        self.report_missing_parent(current);
                    }
                    return None;
                }
            }
        }
        Some(chain[1..].iter().map(|s| s.to_string()).collect())
    }

    fn report_too_deep(&mut self, env: &EnvFile) {
        let Some(parent) = &env.extends else { return };
        self.diagnostics.push(
            Diagnostic::error(
                Code::ExtendsTooDeep,
                format!(
                    "`{}` inherits through {} environments; envc follows `extends` at most {MAX_EXTENDS_DEPTH} deep",
                    env.name,
                    MAX_EXTENDS_DEPTH + 1
                ),
            )
            .at(parent.span, "one level too many")
            .help("extend an environment nearer the base: real projects need three or four levels"),
        );
    }

    fn report_missing_parent(&mut self, env: &EnvFile) {
        let Some(parent) = &env.extends else { return };
        let names = self.parsed.envs.iter().map(|e| e.name.as_str());
        let (help, suggestion) = suggestion(&parent.name, names, || {
            format!(
                "create `env/{}.kdl`, or extend one of: {}",
                parent.name,
                self.parsed
                    .envs
                    .iter()
                    .filter(|e| e.name != env.name)
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        self.diagnostics.push(
            Diagnostic::error(
                Code::MissingParent,
                format!(
                    "`{}` extends `{}`, which does not exist",
                    env.name, parent.name
                ),
            )
            .at(parent.span, "no such environment")
            .help(help)
            .suggest(suggestion),
        );
    }

    /// One diagnostic per cycle, at the `extends` of its alphabetically first member.
    fn report_cycle(&mut self, members: &[&str]) {
        let Some(first) = members.iter().min() else {
            return;
        };
        let start = members.iter().position(|m| m == first).unwrap_or(0);
        let ordered: Vec<&str> = members[start..]
            .iter()
            .chain(&members[..start])
            .copied()
            .collect();
        let files: Vec<&EnvFile> = ordered.iter().filter_map(|n| self.parsed.env(n)).collect();
        let Some(Some(head)) = files.first().map(|f| f.extends.as_ref()) else {
            return;
        };
        let mut diagnostic = Diagnostic::error(
            Code::ExtendsCycle,
            format!("`extends` forms a cycle: {} → {}", ordered.join(" → "), first),
        )
        .at(head.span, format!("`{}` extends `{}`", first, head.name))
        .help("an environment cannot inherit from itself; make one of them extend a common base instead");
        for file in files.iter().skip(1) {
            if let Some(extends) = &file.extends {
                diagnostic = diagnostic.also(
                    extends.span,
                    format!("`{}` extends `{}`", file.name, extends.name),
                );
            }
        }
        self.diagnostics.push(diagnostic);
    }

    /// The merged root of `env`, merging its parents first (each once).
    fn merged(&mut self, env: &EnvFile) -> Option<&Table> {
        if !self.merged.contains_key(&env.name) {
            let base = match &env.extends {
                None => Some((self.defaults)(env.file)),
                Some(parent) => match self.parsed.env(&parent.name) {
                    Some(parent_file) => self.merged(parent_file).cloned(),
                    None => None,
                },
            };
            let merged = base.map(|mut root| {
                root.origin = Origin::new(&Arc::from(env.name.as_str()), Span::new(env.file, 0, 0));
                self.apply_file(&mut root, env);
                root
            });
            self.merged.insert(env.name.clone(), merged);
        }
        self.merged.get(&env.name).and_then(Option::as_ref)
    }

    fn apply_file(&mut self, root: &mut Table, env: &EnvFile) {
        let name: Arc<str> = Arc::from(env.name.as_str());
        let mut nodes = Vec::with_capacity(env.nodes.len());
        for node in &env.nodes {
            if RESERVED.contains(&node.name.as_str()) {
                self.diagnostics.push(
                    Diagnostic::error(Code::Reserved, format!("`{}` is set by envc", node.name))
                        .at(node.name_span, "cannot be set here")
                        .help(match node.name.as_str() {
                            "env" => {
                                "an environment's name is its file name; `${env}` refers to it"
                            }
                            _ => "the project name is set once, in `stacks.kdl`",
                        }),
                );
            } else {
                nodes.push(node.clone());
            }
        }
        Merger {
            env: &name,
            diagnostics: self.diagnostics,
        }
        .apply(root, &[], &nodes, &self.shapes.env);
    }
}

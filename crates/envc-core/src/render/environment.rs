//! Rendering one environment, in steps: which of its stacks come from the render cache,
//! which render afresh (in parallel) and which cannot; the checks between its stacks; and
//! what the cache keeps of a clean render.

use super::cache::{self, RenderCache};
use super::context::{self, StackContext};
use super::imports::check_imports;
use super::scope;
use super::selection::{applies, selection_problem, without_dependents_of_problems};
use super::trace::RenderTrace;
use super::unread::unread_settings;
use super::{FreshStack, RenderedEnv, RenderedStack, Renderer, Slot};
use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::did_you_mean;
use crate::model::{EnvValue, StackKind};
use crate::resolve::path;
use crate::source::{FileId, SourceMap, Span};
use crate::validate::{ValidEnv, ValidStacks};

/// The stacks rendered so far: each with the trace of its fresh text (none from the cache)
/// and the cache key worth remembering it by.
type Rendered = Vec<(Option<RenderTrace>, RenderedStack, Option<String>)>;

impl Renderer {
    /// Renders every stack that applies to `env`; with a cache, stacks whose inputs are
    /// unchanged since they last rendered cleanly come from it. `declared`: every environment
    /// of the project, which its templates may import from.
    pub fn render_env(
        &self,
        stacks: &ValidStacks,
        env: &ValidEnv,
        declared: &[String],
        cache: Option<&RenderCache>,
        sources: &mut SourceMap,
        out: &mut Vec<Diagnostic>,
    ) -> Option<RenderedEnv> {
        let config = &stacks.model;
        let present: Vec<&str> = config
            .stack
            .iter()
            .filter(|(n, s)| applies(n, s, env))
            .map(|(n, _)| n.as_str())
            .collect();
        let context = StackContext {
            stacks: config,
            env,
            env_shape: self.env_shape,
            present: &present,
        };
        let env_hasher = cache.map(|c| c.env_hasher(config, env, &present));
        let mut cached = cache.map(|c| c.load(&env.name)).unwrap_or_default();
        let before = out.len();

        let slots = present
            .iter()
            .filter_map(|name| {
                let key_of = |template: &str, stack_json: &serde_json::Value| {
                    env_hasher
                        .as_ref()
                        .map(|h| RenderCache::key(h, template, stack_json))
                };
                self.slot(stacks, env, &context, name, &key_of, &mut cached)
            })
            .collect();
        let slots = without_dependents_of_problems(config, slots);
        // Only a stack rendered afresh reads the environment.
        let environment = if slots.iter().any(|s| matches!(s, Slot::Fresh(_))) {
            scope::environment(context.environment())
        } else {
            scope::environment(serde_json::Value::Null)
        };
        override_stacks(stacks, env, &present, out);
        let projects_own = |name: &str| {
            let template = config.stack[name].template_name().unwrap_or_default();
            self.is_projects_own(&template)
        };
        unread_settings(stacks, env, &present, &projects_own, out);
        let rendered = self.render_fresh(env, slots, &environment, sources, out);

        let between = (declared, present.as_slice());
        if self.problems_between_stacks(stacks, env, between, &rendered, sources, out) {
            // Some stacks came from the cache, which keeps no rendered text to point into:
            // render them all again to report it.
            out.truncate(before);
            return self.render_env(stacks, env, declared, None, sources, out);
        }
        if out[before..].iter().any(Diagnostic::is_error) {
            return None;
        }
        if let Some(cache) = cache {
            remember(cache, &env.name, &rendered, cached.stacks.is_empty());
        }
        let waves = config
            .waves(&present)
            .into_iter()
            .map(|w| w.into_iter().map(String::from).collect())
            .collect();
        let mut stacks: Vec<RenderedStack> = rendered.into_iter().map(|(_, s, _)| s).collect();
        // Collected in place, it would keep the room of the larger tuples it was made from
        // for as long as the environment is held.
        stacks.shrink_to_fit();
        Some(RenderedEnv {
            name: env.name.clone(),
            stacks,
            waves,
        })
    }

    /// What becomes of one stack: a problem, the cache's copy, or a fresh render.
    fn slot(
        &self,
        stacks: &ValidStacks,
        env: &ValidEnv,
        context: &StackContext,
        name: &str,
        key_of: &dyn Fn(&str, &serde_json::Value) -> Option<String>,
        cached: &mut cache::EnvEntries,
    ) -> Option<Slot> {
        let config = &stacks.model;
        let stack = &config.stack[name];
        let span_of_stack = stacks
            .spans
            .nearest(&path::pointer(&["stack", name]))
            .map(|l| l.key)
            .unwrap_or(Span::new(stacks.file, 0, 0));
        let field = if stack.builtin() == Some(StackKind::Worker) {
            "worker"
        } else {
            "service"
        };
        let span_of_selection = stacks
            .spans
            .get(&path::pointer(&["stack", name, field]))
            .map_or(span_of_stack, |l| l.value);
        if let Some(problem) = selection_problem(name, stack, env, span_of_selection) {
            return Some(Slot::Problem((name.to_string(), problem)));
        }
        let template_name = stack.template_name()?;
        let needs: Vec<String> = stack
            .needs
            .iter()
            .filter(|n| context.present.contains(&n.as_str()))
            .cloned()
            .collect();
        let stack_json = context.stack(name, stack);
        let key = key_of(&template_name, &stack_json);
        let stack_name = context::stack_name(&config.project, &env.name, name);
        if let (Some(key), Some(entry)) = (&key, cached.stacks.remove(name)) {
            if entry.key == *key {
                let stack = RenderedStack {
                    env: env.name.clone(),
                    stack: name.to_string(),
                    stack_name,
                    needs,
                    template: entry.template,
                    body: entry.body,
                    tree: None,
                };
                return Some(Slot::Cached(stack, entry.key));
            }
        }
        if !self.origins.contains_key(&template_name) {
            let at = stacks
                .spans
                .nearest(&path::pointer(&["stack", name, "template"]))
                .map(|l| l.value)
                .unwrap_or(span_of_stack);
            return Some(Slot::Problem((
                name.to_string(),
                self.unknown_template(name, &template_name, at),
            )));
        }
        Some(Slot::Fresh(FreshStack {
            stack: name.to_string(),
            stack_name,
            needs,
            template_name,
            stack_json,
            key,
            overrides: env.model.overrides.get(name).cloned(),
        }))
    }

    fn unknown_template(&self, stack: &str, template_name: &str, at: Span) -> Diagnostic {
        let known: Vec<&str> = self.origins.keys().map(String::as_str).collect();
        Diagnostic::error(
            Code::UnknownTemplate,
            format!("stack `{stack}` uses template `{template_name}`, which does not exist"),
        )
        .at(at, "no such template")
        .help(
            did_you_mean(template_name, known.iter().copied())
                .unwrap_or_else(|| format!("add `templates/{template_name}`")),
        )
    }

    /// Renders the fresh slots in parallel (each into a scratch source map, absorbed here),
    /// and returns every stack that rendered, in `slots` order; problems go to `out`.
    fn render_fresh(
        &self,
        env: &ValidEnv,
        slots: Vec<Slot>,
        environment: &std::sync::Arc<scope::TextMap>,
        sources: &mut SourceMap,
        out: &mut Vec<Diagnostic>,
    ) -> Rendered {
        use rayon::prelude::*;
        let shared: &SourceMap = sources;
        let slots: Vec<Slot> = slots
            .into_par_iter()
            .map(|slot| match slot {
                Slot::Fresh(fresh) => {
                    Slot::Done(self.render_stack(env, fresh, environment, shared.scratch()))
                }
                other => other,
            })
            .collect();
        let mut rendered = Rendered::new();
        for slot in slots {
            match slot {
                Slot::Problem((_, problem)) => out.push(problem),
                Slot::Cached(stack, key) => rendered.push((None, stack, Some(key))),
                Slot::Done(done) => {
                    let rename = sources.absorb(done.sources);
                    out.extend(done.found.into_iter().map(|d| d.map_files(&rename)));
                    if let Some((mut trace, stack)) = done.rendered {
                        trace.file = rename(trace.file);
                        rendered.push((Some(trace), stack, done.key));
                    }
                }
                Slot::Fresh(_) => unreachable!("every fresh stack was rendered above"),
            }
        }
        rendered
    }

    /// Imports and exports between the environment's stacks, reported at the templates that
    /// wrote them. True when there are problems and some stacks came from the cache (whose
    /// copies have no text to point into).
    fn problems_between_stacks(
        &self,
        stacks: &ValidStacks,
        env: &ValidEnv,
        (declared, present): (&[String], &[&str]),
        rendered: &Rendered,
        sources: &mut SourceMap,
        out: &mut Vec<Diagnostic>,
    ) -> bool {
        let mut found = Vec::new();
        let files: Vec<(Option<FileId>, &RenderedStack)> = rendered
            .iter()
            .map(|(t, s, _)| (t.as_ref().map(|t| t.file), s))
            .collect();
        let unrendered: Vec<&str> = present
            .iter()
            .copied()
            .filter(|name| !rendered.iter().any(|(_, s, _)| s.stack == *name))
            .collect();
        check_imports(
            &stacks.model,
            &env.name,
            declared,
            (&files, &unrendered),
            sources,
            &mut found,
        );
        if !found.is_empty() && rendered.iter().any(|(t, _, _)| t.is_none()) {
            return true;
        }
        let taken = outputs_taken(&stacks.model.project, env);
        for diagnostic in found {
            let trace = diagnostic.primary.as_ref().and_then(|l| {
                rendered
                    .iter()
                    .find_map(|(t, _, _)| t.as_ref().filter(|t| t.file == l.span.file))
            });
            let diagnostic = match trace {
                Some(trace) => self.to_template_source(diagnostic, trace, sources),
                None => diagnostic,
            };
            out.push(at_the_setting(diagnostic, &taken));
        }
        false
    }
}

/// Each `output="<stack>.<Output>"` an environment's variables take, as the import it renders
/// to, and where it is set.
fn outputs_taken(project: &str, env: &ValidEnv) -> Vec<(String, String, Span)> {
    let model = &env.model;
    let variables = model
        .service
        .iter()
        .map(|(name, s)| ("service", name, &s.environment))
        .chain(
            model
                .worker
                .iter()
                .map(|(name, w)| ("worker", name, &w.environment)),
        );
    let mut taken = Vec::new();
    for (unit, name, environment) in variables {
        for (key, value) in environment {
            let EnvValue::Output(output) = value else {
                continue;
            };
            let Some((stack, field)) = output.output.split_once('.') else {
                continue;
            };
            let at = path::pointer(&[unit, name, "environment", key, "output"]);
            let Some(located) = env.spans.nearest(&at) else {
                continue;
            };
            let import = super::context::export_name(project, &env.name, stack, field);
            taken.push((import, output.output.clone(), located.value));
        }
    }
    taken
}

/// A stack's import that nothing exports, shown at the `output=` setting it came from (with
/// the template's place beside it): the setting names an output its stack does not have.
fn at_the_setting(mut diagnostic: Diagnostic, taken: &[(String, String, Span)]) -> Diagnostic {
    if diagnostic.code != Code::DanglingImport {
        return diagnostic;
    }
    let Some((import, output, span)) = taken
        .iter()
        .find(|(import, _, _)| diagnostic.message.contains(&format!("`{import}`")))
    else {
        return diagnostic;
    };
    if let Some(mut written) = diagnostic.primary.take() {
        written.text = "imported here".to_string();
        diagnostic.secondary.insert(0, written);
    }
    let stack = output.split_once('.').map_or(output.as_str(), |(s, _)| s);
    let mut diagnostic = diagnostic.at(*span, format!("stack `{stack}` has no such output"));
    if let Some(meant) = diagnostic
        .help
        .take()
        .filter(|h| h.starts_with("did you mean"))
    {
        // An export of the stack, as the setting names it: `queues.JobsQueueUrl`.
        let field = output.split_once('.').map_or("", |(_, f)| f);
        let prefix = &import[..import.len() - field.len()];
        return diagnostic.help(meant.replace(prefix, &format!("{stack}.")));
    }
    diagnostic.help(format!(
        "name an output stack `{stack}` exports (its golden file's `Outputs`), like `output=\"{stack}.<Output>\"`"
    ))
}

/// Keeps the cleanly rendered stacks in the cache; written only when something rendered
/// afresh or the entries no longer match (`all_matched`: every cached entry was used).
fn remember(cache: &RenderCache, env: &str, rendered: &Rendered, all_matched: bool) {
    let all_cached = rendered.iter().all(|(t, _, _)| t.is_none());
    if all_cached && all_matched {
        return;
    }
    let mut entries = cache::EnvEntries::default();
    for (_, stack, key) in rendered {
        if let Some(key) = key {
            let entry = cache::Entry {
                key: key.clone(),
                template: stack.template.clone(),
                body: stack.body.clone(),
            };
            entries.stacks.insert(stack.stack.clone(), entry);
        }
    }
    cache.store(env, &entries);
}

/// `override` blocks of stacks this environment does not render: a misspelt name, or a stack
/// that is not the environment's (did-you-mean among those it renders).
fn override_stacks(
    stacks: &ValidStacks,
    env: &ValidEnv,
    present: &[&str],
    out: &mut Vec<Diagnostic>,
) {
    for name in env.model.overrides.keys() {
        if present.contains(&name.as_str()) {
            continue;
        }
        let located = env.spans.nearest(&path::pointer(&["override", name]));
        let span = located.map_or(Span::new(env.file, 0, 0), |l| l.key);
        let known = stacks.model.stack.contains_key(name);
        let message = if known {
            format!(
                "stack `{name}` is not rendered for `{}`, so there is nothing to override",
                env.name
            )
        } else {
            format!("there is no stack `{name}` to override")
        };
        let (help, meant) = crate::did_you_mean::suggestion(name, present.iter().copied(), || {
            format!(
                "`{}` renders {}",
                env.name,
                present
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut diagnostic = Diagnostic::error(Code::OverrideTarget, message)
            .at(
                span,
                if known {
                    "not rendered here"
                } else {
                    "no such stack"
                },
            )
            .help(help)
            .suggest(meant);
        if located.is_some_and(|l| *l.env != *env.name) {
            diagnostic = diagnostic.inherited_by(&env.name);
        }
        out.push(diagnostic);
    }
}

//! Render: each stack of each environment through its minijinja template into CloudFormation.
//!
//! Built-in templates ship in the binary; a file of the same name in the project's
//! `templates/` overrides one. Templates see only the values given to them (strict undefined,
//! no file or network access). Every rendered template is parsed, checked, and written in
//! canonical form; imports between stacks are checked against exports and `needs`.

pub mod builtin;
pub mod cache;
pub mod cfn;
pub mod context;
mod environment;
mod functions;
mod imports;
mod limits;
mod macros;
pub mod overrides;
mod own_templates;
mod scope;
mod selection;
mod trace;
mod unread;
pub mod yaml;

pub use selection::applies;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};

use crate::diagnostic::{Code, Diagnostic};
use crate::model::Shape;
use crate::source::{SourceMap, Span};
use crate::validate::ValidatedProject;
pub use cache::RenderCache;
pub use cfn::CfnTemplate;
pub use functions::pascal;
use trace::RenderTrace;

/// One stack of one environment, rendered and checked.
#[derive(Debug, Clone)]
pub struct RenderedStack {
    pub env: String,
    pub stack: String,
    /// CloudFormation stack name, `<project>-<env>-<stack>`.
    pub stack_name: String,
    /// Stacks of this environment it needs (those present).
    pub needs: Vec<String>,
    pub template: CfnTemplate,
    /// Canonical YAML, as committed under `golden/`.
    pub body: String,
    /// `body` as a tree, as render read it, for the checks after render to read instead of
    /// the text: `None` for a stack served from the cache, and once they are done.
    pub tree: Option<std::sync::Arc<yaml::KeptTree>>,
}

impl RenderedStack {
    /// Where its golden file lives, relative to the project.
    pub fn golden_path(&self) -> PathBuf {
        golden_path(&self.env, &self.stack)
    }
}

pub fn golden_path(env: &str, stack: &str) -> PathBuf {
    Path::new("golden")
        .join(env)
        .join([stack, ".yaml"].concat())
}

/// The rendered stacks of one environment, in dependency order.
#[derive(Debug, Clone)]
pub struct RenderedEnv {
    pub name: String,
    pub stacks: Vec<RenderedStack>,
    /// Stack names by dependency wave.
    pub waves: Vec<Vec<String>>,
}

/// What [`Renderer::render_env`] found for one stack, in the order of the stacks.
enum Slot {
    /// The stack cannot be rendered, and why.
    Problem((String, Diagnostic)),
    /// It comes from the render cache, with its key.
    Cached(RenderedStack, String),
    /// It is to be rendered afresh.
    Fresh(FreshStack),
    /// It was rendered afresh.
    Done(StackOutcome),
}

/// A stack to render afresh: its names and needs, and its template's inputs.
struct FreshStack {
    stack: String,
    stack_name: String,
    needs: Vec<String>,
    template_name: String,
    stack_json: serde_json::Value,
    key: Option<String>,
    /// The environment's `override` of this stack's resources.
    overrides: Option<overrides::StackOverrides>,
}

/// What rendering one stack gave: the stack (unless it failed), its cache key (when it
/// rendered cleanly), its problems, and the scratch source map their spans point into.
struct StackOutcome {
    rendered: Option<(RenderTrace, RenderedStack)>,
    key: Option<String>,
    found: Vec<Diagnostic>,
    sources: SourceMap,
}

impl StackOutcome {
    /// A stack that did not render, and why.
    fn failed(found: Vec<Diagnostic>, sources: SourceMap) -> Self {
        StackOutcome {
            rendered: None,
            key: None,
            found,
            sources,
        }
    }
}

/// The template set of one project: built-ins, overridden by `templates/`.
pub struct Renderer {
    templates: Environment<'static>,
    /// Template name → where it came from (for diagnostics).
    origins: HashMap<String, TemplateOrigin>,
    env_shape: &'static Shape,
}

#[derive(Debug, Clone)]
struct TemplateOrigin {
    display: String,
    text: String,
    /// Whether it is the built-in of its name (not the project's own).
    builtin: bool,
    /// Done once it has compiled: a render that needs it while [`Renderer::prepare`]
    /// compiles it waits for that, rather than compiling it a second time alongside.
    compiled: std::sync::OnceLock<()>,
}

/// Why a project's templates cannot be loaded: a problem with a file, or a template that
/// does not compile (placed in its text once the run's sources can hold it).
#[derive(Debug)]
pub enum LoadProblem {
    File(Diagnostic),
    Syntax {
        display: String,
        text: String,
        detail: String,
        range: Option<std::ops::Range<usize>>,
        line: Option<usize>,
    },
}

impl From<Diagnostic> for LoadProblem {
    fn from(diagnostic: Diagnostic) -> Self {
        LoadProblem::File(diagnostic)
    }
}

impl LoadProblem {
    /// The problem as a diagnostic, a syntax error placed in its template's text.
    pub fn into_diagnostic(self, sources: &mut SourceMap) -> Diagnostic {
        match self {
            LoadProblem::File(diagnostic) => diagnostic,
            LoadProblem::Syntax {
                display,
                text,
                detail,
                range,
                line,
            } => {
                let file = sources.add_once(&display, &text);
                let span = match (range, line) {
                    (Some(range), _) => Span::new(file, range.start, range.end),
                    (None, Some(line)) => trace::line_span(&text, file, line),
                    _ => Span::new(file, 0, 0),
                };
                Diagnostic::error(
                    Code::Template,
                    format!("template `{display}` does not compile: {detail}"),
                )
                .at(span, "syntax error")
                .help("fix the template's syntax (minijinja: https://docs.rs/minijinja/latest/minijinja/syntax/)")
            }
        }
    }
}

impl Renderer {
    /// The renderer of a project: the shared built-in one when it has no `templates/`.
    pub fn for_project(root: &Path) -> Result<std::sync::Arc<Renderer>, LoadProblem> {
        if root.join("templates").is_dir() || root.join("kinds").is_dir() {
            return Renderer::new(root).map(std::sync::Arc::new);
        }
        static BUILTIN: std::sync::OnceLock<std::sync::Arc<Renderer>> = std::sync::OnceLock::new();
        if let Some(shared) = BUILTIN.get() {
            return Ok(shared.clone());
        }
        let renderer = std::sync::Arc::new(Renderer::new(root)?);
        Ok(BUILTIN.get_or_init(|| renderer).clone())
    }

    /// Loads the built-in templates and the project's `templates/`.
    pub fn new(root: &Path) -> Result<Renderer, LoadProblem> {
        let mut templates = Environment::new();
        templates.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| LoadProblem::File(Diagnostic::error(Code::Template, e.to_string())))?;
        templates.set_syntax(syntax);
        // Templates write YAML themselves (`| tojson` for values): no automatic escaping.
        templates.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // A setting that is not set, written as it is, would be the word `none` in the
        // template (a `DisplayName: none` CloudFormation takes): an error where it is written.
        templates.set_formatter(|out, state, value| {
            if value.is_none() {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "a value that is not set (none) was written; guard it with `{% if … is not none %}`, or write it with `| tojson` for `null`",
                ));
            }
            minijinja::escape_formatter(out, state, value)
        });
        functions::register(&mut templates);
        templates.set_fuel(Some(limits::MAX_TEMPLATE_FUEL));
        let mut origins = HashMap::new();
        // Built-in templates compile when first used (a run served from the render cache
        // compiles none); the project's own are compiled now, so their syntax errors show.
        for (name, text) in builtin::TEMPLATES {
            origins.insert(
                name.to_string(),
                TemplateOrigin {
                    display: format!("<built-in>/{name}"),
                    text: text.to_string(),
                    builtin: true,
                    compiled: std::sync::OnceLock::new(),
                },
            );
        }
        // `builtin/<name>` is always the built-in, for a project template that extends it
        // (`{% extends "builtin/service.yaml.j2" %}`) under the built-in's own name.
        for (name, text) in builtin::TEMPLATES {
            origins.insert(
                format!("{}{name}", builtin::PREFIX),
                TemplateOrigin {
                    display: format!("<built-in>/{name}"),
                    text: text.to_string(),
                    builtin: true,
                    compiled: std::sync::OnceLock::new(),
                },
            );
        }
        let mut problems: Vec<LoadProblem> = Vec::new();
        // The project's templates (overrides of built-ins by name, and templates stacks name)
        // and its kinds' templates, as `kinds/<name>.yaml.j2`.
        for (folder, prefix) in [("templates", ""), ("kinds", "kinds/")] {
            for (name, relative) in project_templates(root, folder, prefix)? {
                let text = crate::files::read_text(root, &relative)
                    .map_err(|problem| problem.into_diagnostic(root, &relative, None))?;
                // An editor's byte order mark is no part of the template (it made the
                // rendered YAML read as two documents).
                let text = match text.strip_prefix('\u{feff}') {
                    Some(rest) => rest.to_string(),
                    None => text,
                };
                let display = crate::files::display_path(root, &relative)
                    .display()
                    .to_string();
                // One the same as the built-in is compiled when used, like the built-in.
                if !builtin::TEMPLATES.contains(&(name.as_str(), text.as_str())) {
                    if let Err(error) = templates.add_template_owned(name.clone(), text.clone()) {
                        problems.push(LoadProblem::Syntax {
                            display: display.clone(),
                            text: text.clone(),
                            detail: error
                                .detail()
                                .unwrap_or(&error.kind().to_string())
                                .to_string(),
                            range: error.range(),
                            line: error.line(),
                        });
                    }
                }
                let origin = TemplateOrigin {
                    display,
                    text,
                    builtin: false,
                    compiled: std::sync::OnceLock::new(),
                };
                origins.insert(name, origin);
            }
        }
        if let Some(problem) = problems.into_iter().next() {
            return Err(problem);
        }
        let own_macros = origins.get("_macros.j2").is_some_and(|o| !o.builtin);
        templates.set_loader(move |name| {
            // The macros the built-ins import, as functions; `builtin/_macros.j2` as written.
            if name == "_macros.j2" {
                return Ok(Some(macros::module().to_string()));
            }
            let name = name.strip_prefix(builtin::PREFIX).unwrap_or(name);
            let text = builtin::TEMPLATES
                .iter()
                .find(|(builtin, _)| *builtin == name)
                .map(|(_, text)| *text);
            // A project's own `_macros.j2` is imported as written.
            Ok(text.map(|text| match own_macros {
                true => text.to_string(),
                false => macros::with_module_bound(text).into_owned(),
            }))
        });
        Ok(Renderer {
            templates,
            origins,
            env_shape: &crate::resolve::Shapes::shared().env,
        })
    }

    /// Compiles every template now (on another core, while files are parsed) rather than
    /// when a stack first uses it. Problems are left for the render that meets them.
    /// The `builtin/` names are left to compile when a project template extends one: each
    /// name compiles on its own, and only such a template asks for them.
    pub fn prepare(&self) {
        let used_by_stacks = |name: &&String| !name.starts_with(builtin::PREFIX);
        for name in self.origins.keys().filter(used_by_stacks) {
            self.compile_once(name);
        }
    }

    /// Compiles template `name`, unless it has been (or is being: then this waits for it).
    fn compile_once(&self, name: &str) {
        if let Some(origin) = self.origins.get(name) {
            origin.compiled.get_or_init(|| {
                let _ = self.templates.get_template(name);
            });
        }
    }

    /// Whether `template` (or the macros every built-in imports) is the project's own: what
    /// it reads of the environment is then not known.
    fn is_projects_own(&self, template: &str) -> bool {
        [template, "_macros.j2"]
            .iter()
            .any(|name| self.origins.get(*name).is_some_and(|o| !o.builtin))
    }

    /// Every template's name and text, in name order (what a render cache key covers).
    pub fn template_texts(&self) -> Vec<(&str, &str)> {
        let mut texts: Vec<(&str, &str)> = self
            .origins
            .iter()
            .map(|(name, origin)| (name.as_str(), origin.text.as_str()))
            .collect();
        texts.sort();
        texts
    }

    /// What the template writes for one stack (`at`: its environment, stack and template),
    /// with `value` as its context; `None`, with the problem in `found`, when it fails or
    /// writes more than a template may.
    fn template_output(
        &self,
        (valid, stack, template_name): (&crate::validate::ValidEnv, &str, &str),
        value: &minijinja::Value,
        sources: &mut SourceMap,
        found: &mut Vec<Diagnostic>,
    ) -> Option<String> {
        let env = valid.name.as_str();
        let mut output = limits::CappedOutput::default();
        self.compile_once(template_name);
        let written = self
            .templates
            .get_template(template_name)
            .and_then(|template| template.render_captured_to(value, &mut output));
        match written {
            // Kept in the sources for the run (problems are placed in it): without the room
            // it grew into.
            Ok(_) => Some(output.into_text()),
            Err(_) if output.over => {
                found.push(limits::output_too_large(template_name, env, stack));
                None
            }
            Err(error) => {
                found.push(match functions::failure(&error) {
                    Some((setting, message)) => refused_by_template(valid, stack, setting, message),
                    None => self.template_error(&error, template_name, env, stack, sources),
                });
                None
            }
        }
    }

    /// Renders one stack and checks its output, into `sources` (a scratch map of its own).
    fn render_stack(
        &self,
        valid: &crate::validate::ValidEnv,
        fresh: FreshStack,
        environment: &std::sync::Arc<scope::TextMap>,
        mut sources: SourceMap,
    ) -> StackOutcome {
        let FreshStack {
            stack,
            stack_name,
            needs,
            template_name,
            stack_json,
            key,
            overrides,
        } = fresh;
        let env = valid.name.as_str();
        let mut found = Vec::new();
        let value = scope::StackScope::value(stack_json, environment);
        let at = (valid, stack.as_str(), template_name.as_str());
        let Some(text) = self.template_output(at, &value, &mut sources, &mut found) else {
            return StackOutcome::failed(found, sources);
        };
        let text = match &overrides {
            Some(overrides) => {
                let before = found.len();
                let changed = overrides::apply(&text, overrides, valid, &stack, &mut found);
                if found.len() > before {
                    return StackOutcome::failed(found, sources);
                }
                changed.unwrap_or(text)
            }
            None => text,
        };
        let golden = golden_path(env, &stack);
        let file = sources.add(format!("{} (rendered)", golden.display()), text);
        let text = sources.file(file).text.clone();
        let mut problems = Vec::new();
        let own = self.is_projects_own(&template_name);
        let checked = cfn::parse_and_check(&text, file, &sources, own, &mut problems);
        let trace = RenderTrace {
            file,
            context: value,
            template_name,
            golden,
            golden_line: None,
        };
        let clean = problems.is_empty();
        for diagnostic in problems {
            found.push(self.to_template_source(diagnostic, &trace, &mut sources));
        }
        let rendered = checked.map(|(template, body, tree)| {
            let stack = RenderedStack {
                env: env.to_string(),
                stack,
                stack_name,
                needs,
                template,
                body,
                tree: Some(std::sync::Arc::new(tree)),
            };
            (trace, stack)
        });
        StackOutcome {
            rendered,
            key: key.filter(|_| clean),
            found,
            sources,
        }
    }
}

/// A template's `fail(setting, message)`: the message, at the line that set `setting` (in the
/// stack's settings block, else the environment's own settings).
fn refused_by_template(
    env: &crate::validate::ValidEnv,
    stack: &str,
    setting: &str,
    message: &str,
) -> Diagnostic {
    let keys: Vec<&str> = setting.split('.').collect();
    let in_block = crate::resolve::path::pointer(&[&[stack][..], &keys].concat());
    let in_env = crate::resolve::path::pointer(&keys);
    let located = env
        .spans
        .get(&in_block)
        .or_else(|| env.spans.get(&in_env))
        .or_else(|| env.spans.nearest(&in_block));
    let span = located.map_or(crate::source::Span::new(env.file, 0, 0), |l| l.value);
    let diagnostic = Diagnostic::error(Code::KindRule, message.to_string())
        .at(span, format!("`{setting}`"))
        .help(format!(
            "the template of stack `{stack}` refuses this setting of `{}`",
            env.name
        ));
    match located {
        Some(l) if *l.env != *env.name => diagnostic.inherited_by(&env.name),
        _ => diagnostic,
    }
}

/// Template files of a project folder (`templates/`, `kinds/`), as (template name, path
/// relative to the project), in name order; nothing when the folder is absent.
fn project_templates(
    root: &Path,
    folder: &str,
    prefix: &str,
) -> Result<Vec<(String, PathBuf)>, Diagnostic> {
    let dir = root.join(folder);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| Diagnostic::error(Code::Io, format!("cannot read `{folder}/`: {e}")))?
        .filter_map(|e| e.ok())
        .filter(|e| !e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| prefix.is_empty() || n.ends_with(".j2"))
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .map(|n| (format!("{prefix}{n}"), Path::new(folder).join(n)))
        .collect())
}

/// Renders every valid environment, in parallel; diagnostics come back in environment order.
/// With `focus` non-empty, only those environments' problems are reported (the others are
/// rendered for the rules that read across environments).
pub fn render_project(
    renderer: &Renderer,
    project: &ValidatedProject,
    cache: Option<&RenderCache>,
    focus: &[String],
    sources: &mut SourceMap,
    out: &mut Vec<Diagnostic>,
) -> Vec<RenderedEnv> {
    let at = ProjectAt {
        project,
        cache,
        focus,
    };
    render_envs(renderer, &at, &project.envs, sources, out)
}

/// What rendering some of a project's environments reads besides them: the project, the
/// render cache, and the environments whose problems are reported (all when empty).
pub struct ProjectAt<'p> {
    pub project: &'p ValidatedProject,
    pub cache: Option<&'p RenderCache>,
    pub focus: &'p [String],
}

/// [`render_project`] for `envs`, some of `at.project`'s environments (a batch of them, when
/// their renders are checked and dropped a batch at a time).
pub fn render_envs(
    renderer: &Renderer,
    at: &ProjectAt,
    envs: &[crate::validate::ValidEnv],
    sources: &mut SourceMap,
    out: &mut Vec<Diagnostic>,
) -> Vec<RenderedEnv> {
    use rayon::prelude::*;
    let ProjectAt {
        project,
        cache,
        focus,
    } = *at;
    let Some(stacks) = &project.stacks else {
        return Vec::new();
    };
    // Rendered text is kept (in the environment's own source map) only where a diagnostic
    // points into it.
    let results: Vec<(Option<RenderedEnv>, Vec<Diagnostic>, Option<SourceMap>)> = envs
        .par_iter()
        .map(|env| {
            let mut local = sources.scratch();
            let mut found = Vec::new();
            let rendered = renderer.render_env(
                stacks,
                env,
                &project.declared,
                cache,
                &mut local,
                &mut found,
            );
            let local = (!found.is_empty()).then_some(local);
            (rendered, found, local)
        })
        .collect();
    let mut rendered_envs = Vec::with_capacity(results.len());
    for (env, (rendered, found, local)) in envs.iter().zip(results) {
        let reported = focus.is_empty() || focus.contains(&env.name);
        if let Some(local) = local.filter(|_| reported) {
            let rename = sources.absorb(local);
            out.extend(found.into_iter().map(|d| d.map_files(&rename)));
        }
        rendered_envs.extend(rendered);
    }
    rendered_envs
}

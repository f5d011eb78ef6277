//! Where a problem in rendered output came from: the template source that wrote it (found
//! by rendering again with minijinja's output spans, only when there is a problem), and
//! template errors pointed at their template.

use std::path::PathBuf;

use super::context::StackContext;
use super::Renderer;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Stack, StacksConfig};
use crate::source::{FileId, SourceMap, Span};
use crate::validate::{ValidEnv, ValidStacks};

/// How one stack's text was rendered, to point problems in it back at template source.
pub(super) struct RenderTrace {
    pub file: FileId,
    /// The template's context: rendering again with spans (only when a problem is found)
    /// gives the same text and where each piece of it came from.
    pub context: minijinja::Value,
    pub template_name: String,
    pub golden: PathBuf,
    /// The line of the golden file the problem is on, where `file` is not that file's text.
    pub golden_line: Option<usize>,
}

impl Renderer {
    /// Points the labels of `diagnostic` in `rendered` (a file of `sources` holding the text
    /// `stack` of `env` rendered) at the template source that wrote them, by rendering the
    /// stack again with output spans. For a later stage's problems in rendered output.
    pub fn to_template_source_of(
        &self,
        stacks: &ValidStacks,
        env: &ValidEnv,
        stack: &str,
        rendered: FileId,
        mut diagnostic: Diagnostic,
        sources: &mut SourceMap,
    ) -> Diagnostic {
        let config = &stacks.model;
        let Some(stack_config) = config.stack.get(stack) else {
            return diagnostic;
        };
        let Some(template_name) = stack_config.template_name() else {
            return diagnostic;
        };
        let context = self.template_context(config, env, stack, stack_config);
        let Some(raw) = self
            .templates
            .get_template(&template_name)
            .and_then(|t| t.render(&context))
            .ok()
        else {
            return diagnostic;
        };
        // `rendered` is the canonical text, which may quote or space values differently from
        // what the template wrote: each label moves to the same occurrence of its text in the
        // template's own output.
        let canonical = sources.file(rendered).text.clone();
        let golden_line = diagnostic
            .primary
            .as_ref()
            .filter(|l| l.span.file == rendered)
            .map(|l| sources.file(rendered).line_col(l.span.start).line);
        let golden = super::golden_path(&env.name, stack);
        let raw_file = sources.add(format!("{} (rendered)", golden.display()), raw);
        let raw = sources.file(raw_file).text.clone();
        move_labels_to_raw_output(&mut diagnostic, rendered, &canonical, raw_file, &raw);
        let trace = RenderTrace {
            file: raw_file,
            context,
            template_name,
            golden,
            golden_line,
        };
        self.to_template_source(diagnostic, &trace, sources)
    }

    /// What the template of `stack` (configured as `stack_config`) sees when it renders in
    /// `env`.
    fn template_context(
        &self,
        config: &StacksConfig,
        env: &ValidEnv,
        stack: &str,
        stack_config: &Stack,
    ) -> minijinja::Value {
        let present: Vec<&str> = config
            .stack
            .iter()
            .filter(|(n, s)| super::applies(n, s, env))
            .map(|(n, _)| n.as_str())
            .collect();
        let context = StackContext {
            stacks: config,
            env,
            env_shape: self.env_shape,
            present: &present,
        };
        let environment = super::scope::environment(context.environment());
        super::scope::StackScope::value(context.stack(stack, stack_config), &environment)
    }

    /// Points a problem found in rendered output at the template source that wrote it.
    pub(super) fn to_template_source(
        &self,
        mut diagnostic: Diagnostic,
        trace: &RenderTrace,
        sources: &mut SourceMap,
    ) -> Diagnostic {
        let (rendered, template_name, golden) =
            (trace.file, trace.template_name.as_str(), &trace.golden);
        let output_spans = self
            .templates
            .get_template(template_name)
            .and_then(|t| t.render_with_spans(&trace.context))
            .map(|(_, spans)| spans)
            .unwrap_or_default();
        let mut labels: Vec<&mut crate::diagnostic::Label> = diagnostic
            .primary
            .iter_mut()
            .chain(diagnostic.secondary.iter_mut())
            .collect();
        let mut rendered_line = None;
        for label in labels.iter_mut() {
            if label.span.file != rendered {
                continue;
            }
            rendered_line
                .get_or_insert_with(|| sources.file(rendered).line_col(label.span.start).line);
            let offset = label.span.start;
            let source = output_spans
                .iter()
                .find(|s| s.output_range().contains(&offset))
                .map(|s| {
                    let range = s.source_range();
                    let span = if s.kind() == minijinja::OutputSpanKind::Raw {
                        let start = range.start + (offset - s.output_range().start);
                        let end = (start + label.span.len()).min(range.end).max(start);
                        start..end
                    } else {
                        range
                    };
                    (s.name().to_string(), span)
                });
            let (name, range) = source.unwrap_or((template_name.to_string(), 0..0));
            if let Some(origin) = self.origins.get(&name) {
                let file = sources.add_once(&origin.display, &origin.text);
                label.span = Span::new(file, range.start, range.end);
            }
        }
        if let Some(line) = trace.golden_line.or(rendered_line) {
            diagnostic = diagnostic.note(format!(
                "in the rendered `{}`, line {line} (`envc render` shows it)",
                golden.display()
            ));
        }
        diagnostic
    }

    pub(super) fn template_error(
        &self,
        error: &minijinja::Error,
        template_name: &str,
        env: &str,
        stack: &str,
        sources: &mut SourceMap,
    ) -> Diagnostic {
        // An error in an included template arrives as "error in \"part.j2\"" at the
        // `{% include %}`, with the error itself as its source: the innermost is reported.
        let outer = error;
        let error = std::iter::successors(Some(outer), |e| {
            std::error::Error::source(*e).and_then(|s| s.downcast_ref::<minijinja::Error>())
        })
        .last()
        .unwrap_or(outer);
        let name = error.name().unwrap_or(template_name).to_string();
        let out_of_fuel = error.kind() == minijinja::ErrorKind::OutOfFuel;
        let lacking = self.macro_the_projects_lack(error);
        let mut diagnostic = if out_of_fuel {
            super::limits::out_of_fuel(&name, env, stack)
        } else {
            let why = match &lacking {
                Some((called, _)) => format!(
                    "it calls `m.{called}`, which the project's `templates/_macros.j2` does not define"
                ),
                None => error.detail().unwrap_or(&error.kind().to_string()).to_string(),
            };
            Diagnostic::error(
                Code::Template,
                format!("template `{name}` failed for stack `{stack}` of `{env}`: {why}"),
            )
        };
        if let Some(origin) = self.origins.get(&name) {
            let file = sources.add_once(&origin.display, &origin.text);
            let span = match (error.range(), error.line()) {
                (Some(range), _) => Span::new(file, range.start, range.end),
                (None, Some(line)) => line_span(&origin.text, file, line),
                _ => Span::new(file, 0, 0),
            };
            diagnostic = diagnostic.at(span, error.kind().to_string());
        }
        if !std::ptr::eq(error, outer) {
            if let (Some(including), Some(line)) = (outer.name(), outer.line()) {
                diagnostic = diagnostic.note(format!("included by `{including}`, line {line}"));
            }
        }
        if out_of_fuel {
            return diagnostic;
        }
        if let Some((called, definition)) = lacking {
            return diagnostic.help(format!(
                "the project's `_macros.j2` replaces envc's, and envc's built-in templates now call `{called}`: add envc's definition of it to `templates/_macros.j2`:\n{definition}"
            ));
        }
        let detail = error.detail().unwrap_or_default();
        let filter_called = ["fit", "pascal", "tojson"]
            .into_iter()
            .find(|filter| detail.starts_with(&format!("{filter} is unknown")));
        let help = match (error.kind(), filter_called) {
            (minijinja::ErrorKind::UndefinedError, _) => "a name here is not defined for this stack, likely misspelt: templates see `settings` (a project kind's own), `config`, `stack`, `stacks`, `kinds`, `subnets`, `project`, `env`, `account`, `region`; a setting the environment does not set is `none` (test it with `is not none`), not undefined".to_string(),
            (minijinja::ErrorKind::UnknownFunction, Some(filter)) => format!("`{filter}` is a filter, written after a value: `{{{{ value | {filter}(…) }}}}`"),
            (
                minijinja::ErrorKind::MissingArgument
                | minijinja::ErrorKind::TooManyArguments
                | minijinja::ErrorKind::InvalidOperation,
                _,
            ) if error.detail().is_none() => "a function or macro here was called with the wrong arguments: `docs/templates.md` says what each takes".to_string(),
            (minijinja::ErrorKind::UnknownMethod, _) => "`m.` has only the macros `docs/templates.md` lists (and a project's `templates/_macros.j2` defines)".to_string(),
            _ => "fix the template; `envc render ENV --stack STACK` shows its output".to_string(),
        };
        diagnostic.help(help)
    }

    /// When `error` is a call of a macro of envc's `_macros.j2` that the project's own
    /// `_macros.j2` (copied before envc added the macro) does not define: its name, and its
    /// definition as envc writes it.
    fn macro_the_projects_lack(&self, error: &minijinja::Error) -> Option<(String, &'static str)> {
        if error.kind() != minijinja::ErrorKind::UnknownMethod
            || !self.is_projects_own("_macros.j2")
        {
            return None;
        }
        let (_, called) = error.detail()?.rsplit_once(" has no method named ")?;
        Some((
            called.to_string(),
            super::macros::written_definition(called)?,
        ))
    }
}

/// Moves the labels of `diagnostic` in the canonical text of file `rendered` to the same
/// occurrence of their text in the template's own output (`raw`, in file `raw_file`).
fn move_labels_to_raw_output(
    diagnostic: &mut Diagnostic,
    rendered: FileId,
    canonical: &str,
    raw_file: FileId,
    raw: &str,
) {
    for label in diagnostic
        .primary
        .iter_mut()
        .chain(diagnostic.secondary.iter_mut())
    {
        if label.span.file != rendered {
            continue;
        }
        let (start, end) = (label.span.start, label.span.end);
        let text = canonical.get(start..end).unwrap_or_default();
        let nth = canonical
            .get(..start)
            .map_or(0, |before| before.matches(text).count());
        let at = match text {
            "" => None,
            _ => raw.match_indices(text).nth(nth).map(|(at, _)| at),
        };
        label.span = match at {
            Some(at) => Span::new(raw_file, at, at + text.len()),
            None => Span::new(raw_file, 0, 0),
        };
    }
}

pub(super) fn line_span(text: &str, file: FileId, line: usize) -> Span {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let end = text[start..]
        .find('\n')
        .map(|e| start + e)
        .unwrap_or(text.len());
    Span::new(file, start, end)
}

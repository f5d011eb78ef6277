//! Diagnostics as the user sees them: `human` (miette graphics), `json` (one object per
//! line, for editors), `github` (workflow annotations).

use std::fmt::Write as _;

use super::output::escaped;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use envc_core::diagnostic::{Diagnostic, Label, Severity};
use envc_core::source::{SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
}

pub fn render(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    format: Format,
    color: bool,
) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let diagnostic = &shown(diagnostic);
        match format {
            Format::Human => out.push_str(&human(diagnostic, sources, color)),
            Format::Json => {
                out.push_str(&json(diagnostic, sources).to_string());
                out.push('\n');
            }
            Format::Github => {
                out.push_str(&github(diagnostic, sources));
                out.push('\n');
            }
        }
    }
    out
}

/// `diagnostic` with its credentials masked and then its long quotations cut
/// ([`envc_core::diagnostic::shorten_quoted`]), in every format alike.
fn shown(diagnostic: &Diagnostic) -> Diagnostic {
    diagnostic.with_texts_shown(|text| {
        envc_core::diagnostic::shorten_quoted(&super::output::mask(text)).into_owned()
    })
}

/// One-line summary after human output.
pub fn summary(diagnostics: &[Diagnostic]) -> Option<String> {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => None,
        (e, 0) => Some(format!("envc: {}", plural(e, "error"))),
        (0, w) => Some(format!("envc: {}", plural(w, "warning"))),
        (e, w) => Some(format!(
            "envc: {}, {}",
            plural(e, "error"),
            plural(w, "warning")
        )),
    }
}

/// Where a span is, as a file and the lines and columns it runs between.
struct LineRange {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn locate(span: Span, sources: &SourceMap) -> LineRange {
    let file = sources.file(span.file);
    let start = file.line_col(span.start);
    let end = file.line_col(span.end);
    LineRange {
        file: file.display_path(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

fn json(diagnostic: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let mut object = serde_json::json!({
        "severity": diagnostic.severity.as_str(),
        "code": diagnostic.code.as_str(),
        "message": diagnostic.message,
        "help": diagnostic.help,
        "notes": diagnostic.notes,
    });
    let mut place = |label: &Label| {
        let at = locate(label.span, sources);
        serde_json::json!({
            "file": at.file,
            "line": at.line,
            "column": at.column,
            "end_line": at.end_line,
            "end_column": at.end_column,
            "label": label.text,
        })
    };
    if let Some(primary) = &diagnostic.primary {
        let at = place(primary);
        for key in ["file", "line", "column", "end_line", "end_column", "label"] {
            object[key] = at[key].clone();
        }
    } else {
        for key in ["file", "line", "column", "end_line", "end_column"] {
            object[key] = serde_json::Value::Null;
        }
    }
    object["related"] = diagnostic.secondary.iter().map(&mut place).collect();
    object
}

fn github(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let level = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    for note in &diagnostic.notes {
        let _ = write!(message, "\nnote: {note}");
    }
    let mut properties = Vec::new();
    if let Some(primary) = &diagnostic.primary {
        let at = locate(primary.span, sources);
        properties.push(format!("file={}", escape_property(&at.file)));
        properties.push(format!("line={}", at.line));
        properties.push(format!("col={}", at.column));
        properties.push(format!("endLine={}", at.end_line));
        properties.push(format!("endColumn={}", at.end_column));
    }
    properties.push(format!(
        "title={}",
        escape_property(diagnostic.code.as_str())
    ));
    format!(
        "::{level} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A diagnostic as miette wants it: one source, labels in it, other files as related reports.
#[derive(Debug)]
struct Graphical {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Graphical>,
}

impl std::fmt::Display for Graphical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Graphical {}

impl miette::Diagnostic for Graphical {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn std::fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// The file a label points into, as miette shows it: its credentials masked before it is
/// cut into lines, since the output's own masking cannot find one a line continuation
/// splits (`"ghp_…\` and the rest on the next line) once the gutter is between its parts.
fn named_source(span: Span, sources: &SourceMap) -> NamedSource<String> {
    let file = sources.file(span.file);
    NamedSource::new(
        &*escaped(&file.display_path()),
        super::output::mask(&visible_controls(&file.text)),
    )
    .with_language("kdl")
}

/// `text` with each control character (but line breaks and tabs) as `?`s of its length in
/// bytes, so spans into it still hold and a file cannot send escape sequences to a terminal.
fn visible_controls(text: &str) -> String {
    if !text.contains(|c: char| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' => c.to_string(),
            c if c.is_control() => "?".repeat(c.len_utf8()),
            c => c.to_string(),
        })
        .collect()
}

/// A label as miette shows it, its span clamped to its file's text.
fn labeled(label: &Label, primary: bool, sources: &SourceMap) -> LabeledSpan {
    let length = sources.file(label.span.file).text.len();
    let (start, end) = (label.span.start.min(length), label.span.end.min(length));
    let span = SourceSpan::new(start.into(), end.saturating_sub(start));
    let text = Some(escaped(&label.text).into_owned());
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

/// The longest line, in characters, a snippet shows. miette pads to a label's column with
/// `format!` widths, which panic past 65,535; and a terminal wraps a line this long into a
/// wall in which no underline can be found.
const LONGEST_SHOWN_LINE: usize = 4_096;

/// Whether the lines a label starts and ends on are short enough to show.
fn fits_a_snippet(label: &Label, sources: &SourceMap) -> bool {
    let text = sources.file(label.span.file).text.as_str();
    [label.span.start, label.span.end].into_iter().all(|at| {
        let at = at.min(text.len());
        let bytes = text.as_bytes();
        let start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| at + i);
        // A line of no more bytes than that has no more characters; a longer one is counted
        // (it runs between line breaks, so it is whole characters).
        end - start <= LONGEST_SHOWN_LINE || text[start..end].chars().count() <= LONGEST_SHOWN_LINE
    })
}

/// A label whose line is too long to show, as a note: where it is, and what it says.
fn unshown(label: &Label, sources: &SourceMap) -> String {
    let location = escaped(&sources.location(label.span)).into_owned();
    let text = escaped(&label.text);
    let said = if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    };
    format!("at {location}{said} (its line is too long to show)")
}

fn with_note(help: Option<String>, note: &str) -> String {
    match help {
        Some(help) => format!("{help}\nnote: {note}"),
        None => format!("note: {note}"),
    }
}

fn graphical(diagnostic: &Diagnostic, sources: &SourceMap) -> Graphical {
    let severity = match diagnostic.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let mut help = diagnostic.help.clone();
    for note in &diagnostic.notes {
        help = Some(with_note(help, note));
    }
    let mut result = Graphical {
        message: escaped(&diagnostic.message).into_owned(),
        code: Some(diagnostic.code.as_str().to_string()),
        severity,
        help: help.map(|help| escaped(&help).into_owned()),
        source: None,
        labels: Vec::new(),
        related: Vec::new(),
    };
    // A label into a file `sources` does not hold is left out (the message still shows).
    let known = |label: &&Label| sources.get(label.span.file).is_some();
    let Some(primary) = diagnostic.primary.as_ref().filter(known) else {
        return result;
    };
    if !fits_a_snippet(primary, sources) {
        // Every label becomes a note with its place, the primary's first.
        for label in std::iter::once(primary).chain(diagnostic.secondary.iter().filter(known)) {
            result.help = Some(with_note(result.help, &unshown(label, sources)));
        }
        return result;
    }
    result.source = Some(named_source(primary.span, sources));
    result.labels.push(labeled(primary, true, sources));
    for label in diagnostic.secondary.iter().filter(known) {
        if !fits_a_snippet(label, sources) {
            result.help = Some(with_note(result.help, &unshown(label, sources)));
        } else if label.span.file == primary.span.file {
            result.labels.push(labeled(label, false, sources));
        } else {
            result.related.push(Graphical {
                message: escaped(&label.text).into_owned(),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: Some(named_source(label.span, sources)),
                labels: vec![labeled(label, true, sources)],
                related: Vec::new(),
            });
        }
    }
    result
}

fn human(diagnostic: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        // Terminals wrap long lines themselves; unwrapped text stays searchable and copyable.
        .with_wrap_lines(false)
        .with_links(false);
    let mut out = String::new();
    let report = graphical(diagnostic, sources);
    if handler.render_report(&mut out, &report).is_err() {
        let _ = writeln!(out, "error[{}]: {}", diagnostic.code, diagnostic.message);
    }
    out.push('\n');
    out
}

//! envc's diagnostics as the protocol's, by file, and sending them so that a file whose
//! problems are gone is told so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lsp_server::{Message, Notification};
use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    PublishDiagnosticsParams,
};

use super::analysis::Analysis;
use super::position::{range, uri_of, Encoding};
use envc_core::diagnostic::{Code, Diagnostic, Severity};
use envc_core::source::Span;

pub type ByFile = BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>;

/// Every problem of `analysis`, by the absolute path of the file it is shown in. Golden
/// files that are out of date are hints on their environment's file; problems with no
/// place are shown at the top of `stacks.kdl`.
pub fn by_file(analysis: &Analysis, encoding: Encoding) -> ByFile {
    let mut found = ByFile::new();
    for diagnostic in &analysis.checked.diagnostics {
        let (path, converted) = convert(analysis, diagnostic, encoding);
        for (heir_path, shown) in on_heirs(analysis, diagnostic, &path, &converted, encoding) {
            found.entry(heir_path).or_default().push(shown);
        }
        found.entry(path).or_default().push(converted);
    }
    found
}

/// A problem an environment inherits, shown on that environment's own file too: at its
/// `extends` (the line through which it inherits), pointing at where the value was set.
fn on_heirs(
    analysis: &Analysis,
    diagnostic: &Diagnostic,
    shown_at: &Path,
    converted: &lsp_types::Diagnostic,
    encoding: Encoding,
) -> Vec<(PathBuf, lsp_types::Diagnostic)> {
    let mut shown = Vec::new();
    for heir in &diagnostic.inherited_by {
        let Some(env) = analysis.env_file(heir) else {
            continue;
        };
        let file = analysis.checked.sources.file(env.file);
        let path = analysis.root.join(&file.path);
        if path == shown_at {
            continue;
        }
        let range = env
            .extends
            .as_ref()
            .map_or_else(lsp_types::Range::default, |parent| {
                range(&file.text, parent.span.start, parent.span.end, encoding)
            });
        let set_at = Location::new(uri_of(shown_at), converted.range);
        let mut related = vec![DiagnosticRelatedInformation {
            location: set_at,
            message: "the value is set here".to_string(),
        }];
        related.extend(converted.related_information.iter().flatten().cloned());
        shown.push((
            path,
            lsp_types::Diagnostic {
                range,
                message: format!("`{heir}` inherits this: {}", converted.message),
                related_information: Some(related),
                // A did-you-mean fixes the text where the value is set, not this line.
                data: None,
                ..converted.clone()
            },
        ));
    }
    shown
}

fn convert(
    analysis: &Analysis,
    diagnostic: &Diagnostic,
    encoding: Encoding,
) -> (PathBuf, lsp_types::Diagnostic) {
    let golden = diagnostic.code == Code::GoldenStale;
    let place = match (&diagnostic.primary, golden) {
        (Some(label), false) => Some(label.span),
        _ => None,
    };
    let (path, range) = match place {
        Some(span) => located(analysis, span, encoding),
        None => {
            let file = golden_env_file(analysis, diagnostic).unwrap_or("stacks.kdl".into());
            (analysis.root.join(file), lsp_types::Range::default())
        }
    };
    let severity = match diagnostic.severity {
        _ if golden => DiagnosticSeverity::HINT,
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
    };
    let related = diagnostic
        .secondary
        .iter()
        .map(|label| {
            let (path, range) = located(analysis, label.span, encoding);
            DiagnosticRelatedInformation {
                location: Location::new(uri_of(&path), range),
                message: shown(analysis, &label.text),
            }
        })
        .collect::<Vec<_>>();
    let converted = lsp_types::Diagnostic {
        range,
        severity: Some(severity),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        source: Some("envc".to_string()),
        message: shown(analysis, &message(diagnostic)),
        related_information: (!related.is_empty()).then_some(related),
        data: diagnostic
            .suggestion
            .as_ref()
            .map(|s| serde_json::json!({ "suggestion": s })),
        ..lsp_types::Diagnostic::default()
    };
    (path, converted)
}

/// `text` as every envc report shows it: credentials masked, then long quotations cut.
fn shown(analysis: &Analysis, text: &str) -> String {
    envc_core::diagnostic::shorten_quoted(&analysis.mask(text)).into_owned()
}

/// The message with its notes (which environments inherit the problem) and help.
fn message(diagnostic: &Diagnostic) -> String {
    let mut text = diagnostic.message.clone();
    for note in &diagnostic.notes {
        text.push_str(&format!("\n{note}"));
    }
    if let Some(help) = &diagnostic.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    text
}

fn located(analysis: &Analysis, span: Span, encoding: Encoding) -> (PathBuf, lsp_types::Range) {
    let file = analysis.checked.sources.file(span.file);
    let path = analysis.root.join(&file.path);
    (path, range(&file.text, span.start, span.end, encoding))
}

/// `env/<name>.kdl` of the environment a golden-file problem is about.
fn golden_env_file(analysis: &Analysis, diagnostic: &Diagnostic) -> Option<PathBuf> {
    let text = match &diagnostic.primary {
        Some(label) => analysis.shown_path(label.span.file),
        None => diagnostic.message.clone(),
    };
    let after = &text[text.find("golden/")? + "golden/".len()..];
    let env = after.split('/').next()?;
    let file = analysis.env_file(env)?.file;
    Some(analysis.checked.sources.file(file).path.clone())
}

/// What was last sent, so a newer analysis can clear the files it no longer has problems in.
#[derive(Default)]
pub struct Published {
    /// Increases with every change of the buffers: results of older ones are not sent.
    pub generation: u64,
    files: BTreeSet<PathBuf>,
    /// The type of each rendered resource, by environment, stack and logical id, from the
    /// latest full check (which renders): what an `override` names, for hover.
    pub resource_types: std::sync::Arc<ResourceTypes>,
}

/// The type of each rendered resource, by (environment, stack, logical id).
pub type ResourceTypes = std::collections::HashMap<(String, String, String), String>;

impl Published {
    pub fn send(&mut self, sender: &crossbeam_channel::Sender<Message>, found: ByFile) {
        let cleared: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|p| !found.contains_key(*p))
            .cloned()
            .collect();
        for path in cleared {
            notify(sender, &path, Vec::new());
        }
        self.files = found.keys().cloned().collect();
        for (path, diagnostics) in found {
            notify(sender, &path, diagnostics);
        }
    }
}

fn notify(
    sender: &crossbeam_channel::Sender<Message>,
    path: &Path,
    diagnostics: Vec<lsp_types::Diagnostic>,
) {
    let params = PublishDiagnosticsParams {
        uri: uri_of(path),
        diagnostics,
        version: None,
    };
    let notification = Notification::new("textDocument/publishDiagnostics".to_string(), params);
    let _ = sender.send(Message::Notification(notification));
}

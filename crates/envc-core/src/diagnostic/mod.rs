//! The one diagnostic type every stage reports problems with.
//!
//! A [`Diagnostic`] is a value: a stable [`Code`], a message, labelled spans, help and notes.
//! Library code never prints; the CLI renders diagnostics as human, JSON or GitHub output.

use crate::source::Span;

pub use code::Code;

mod code;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with the text to show beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is. `None` only for problems with no place in a file (like a missing
    /// directory).
    pub primary: Option<Label>,
    /// Other places that explain the problem (the other CIDR of an overlap, the first of two
    /// duplicates).
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// Text shown verbatim after the diagnostic in human output (a golden-file diff).
    pub attachment: Option<String>,
    /// What the text at the primary span was most likely meant to be (a did-you-mean), for
    /// an editor to offer as a fix.
    pub suggestion: Option<String>,
    /// Environments that have the problem through inheritance, from a value set in another
    /// environment's file: an editor shows it on their own files too.
    pub inherited_by: Vec<String>,
    /// Credentials the lines it shows hold (one a template writes as a literal), which
    /// every output masks as it masks those of the project's files.
    pub hidden: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            attachment: None,
            suggestion: None,
            inherited_by: Vec::new(),
            hidden: Vec::new(),
        }
    }

    /// Marks `credential` as shown by this diagnostic's lines, to be masked wherever it is.
    pub fn hiding(mut self, credential: &str) -> Self {
        self.hidden.push(credential.to_string());
        self
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span, text: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn also(mut self, span: Span, text: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds help only when there is some.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Notes that `env` has this problem through a value it inherits.
    pub fn inherited_by(self, env: &str) -> Self {
        self.note(format!("inherited by environment `{env}`"))
            .concerns_heir(env)
    }

    /// Records that `env` has this problem through a value it inherits, where a label says
    /// so already.
    pub fn concerns_heir(mut self, env: &str) -> Self {
        if !self.inherited_by.iter().any(|e| e == env) {
            self.inherited_by.push(env.to_string());
        }
        self
    }

    /// Records the name the primary span most likely meant (see [`Diagnostic::suggestion`]).
    pub fn suggest(mut self, name: Option<&str>) -> Self {
        self.suggestion = name.map(str::to_string);
        self
    }

    pub fn attach(mut self, text: impl Into<String>) -> Self {
        self.attachment = Some(text.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The same diagnostic with `shown` applied to each text a reader sees (message, labels,
    /// help, notes): how a report masks credentials and then shortens what it quotes
    /// ([`shorten_quoted`]).
    pub fn with_texts_shown(&self, shown: impl Fn(&str) -> String) -> Self {
        let mut diagnostic = self.clone();
        diagnostic.message = shown(&self.message);
        for label in diagnostic
            .primary
            .iter_mut()
            .chain(diagnostic.secondary.iter_mut())
        {
            label.text = shown(&label.text);
        }
        diagnostic.help = self.help.as_deref().map(&shown);
        diagnostic.notes = self.notes.iter().map(|note| shown(note)).collect();
        diagnostic
    }

    /// The same diagnostic with every span's file renamed (after [`SourceMap::absorb`]).
    ///
    /// [`SourceMap::absorb`]: crate::source::SourceMap::absorb
    pub fn map_files(
        mut self,
        rename: &impl Fn(crate::source::FileId) -> crate::source::FileId,
    ) -> Self {
        for label in self.primary.iter_mut().chain(self.secondary.iter_mut()) {
            label.span.file = rename(label.span.file);
        }
        self
    }
}

/// The longest quoted text (between backticks) a diagnostic shows whole, in characters.
pub const LONGEST_QUOTE_SHOWN: usize = 200;

/// `text` with each quotation longer than [`LONGEST_QUOTE_SHOWN`] characters cut to its start
/// and end and followed by its length: `` `abc…xyz` (5,003 characters) ``. Messages quote what
/// the user wrote (a key, a reference, a value), and a 60,000-character key made every report
/// of it a wall of text. Cut after masking credentials, which a cut could split.
pub fn shorten_quoted(text: &str) -> std::borrow::Cow<'_, str> {
    const HEAD: usize = 120;
    const TAIL: usize = 40;
    // Pieces between backticks: every odd-numbered one but an unclosed last is a quotation.
    let pieces: Vec<&str> = text.split('`').collect();
    let long = |i: usize, piece: &str| {
        i % 2 == 1 && i + 1 < pieces.len() && piece.chars().nth(LONGEST_QUOTE_SHOWN).is_some()
    };
    if !pieces.iter().enumerate().any(|(i, piece)| long(i, piece)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(4096));
    out.push_str(pieces[0]);
    for pair in pieces[1..].chunks(2) {
        let (quoted, after) = (pair[0], pair.get(1));
        out.push('`');
        if after.is_some() && quoted.chars().nth(LONGEST_QUOTE_SHOWN).is_some() {
            let characters = quoted.chars().count();
            let at = |n: usize| {
                quoted
                    .char_indices()
                    .nth(n)
                    .map_or(quoted.len(), |(at, _)| at)
            };
            out.push_str(&quoted[..at(HEAD)]);
            out.push('…');
            out.push_str(&quoted[at(characters - TAIL)..]);
            out.push_str("` (");
            out.push_str(&thousands(characters));
            out.push_str(" characters)");
        } else {
            out.push_str(quoted);
            if after.is_some() {
                out.push('`');
            }
        }
        out.push_str(after.unwrap_or(&""));
    }
    std::borrow::Cow::Owned(out)
}

/// `n` with a comma between each group of three digits.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Diagnostics gathered over a whole run, in a stable order and without repeats.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Sorted by file position, with problems found through several environments (a value
    /// that staging sets and staging2 inherits) merged into one whose notes name them all.
    pub fn into_sorted(self) -> Vec<Diagnostic> {
        let mut merged: Vec<Diagnostic> = Vec::with_capacity(self.items.len());
        for diagnostic in self.items {
            if let Some(same) = merged.iter_mut().find(|d| {
                d.code == diagnostic.code
                    && d.message == diagnostic.message
                    && d.primary == diagnostic.primary
            }) {
                for note in diagnostic.notes {
                    if !same.notes.contains(&note) {
                        same.notes.push(note);
                    }
                }
                for env in diagnostic.inherited_by {
                    if !same.inherited_by.contains(&env) {
                        same.inherited_by.push(env);
                    }
                }
                continue;
            }
            merged.push(diagnostic);
        }
        merged.sort_by(|a, b| {
            let key = |d: &Diagnostic| d.primary.as_ref().map(|l| (l.span.file, l.span.start));
            key(a).cmp(&key(b)).then(a.code.cmp(&b.code))
        });
        merged
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(code.as_str().starts_with("envc::"), "{code}");
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
        }
    }

    #[test]
    fn same_problem_through_two_envs_is_reported_once() {
        let span = Span::new(FileId(0), 3, 5);
        let mut all = Diagnostics::default();
        all.push(
            Diagnostic::error(Code::MinMax, "m")
                .at(span, "x")
                .note("in staging"),
        );
        all.push(
            Diagnostic::error(Code::MinMax, "m")
                .at(span, "x")
                .note("in staging2"),
        );
        let sorted = all.into_sorted();
        assert_eq!(sorted.len(), 1);
        assert_eq!(sorted[0].notes, vec!["in staging", "in staging2"]);
    }

    #[test]
    fn a_long_quotation_is_cut_to_its_ends_and_its_length() {
        let key = format!("unknown{}end", "é".repeat(5_000));
        let message = format!("unknown key `{key}` in `ci`");
        let shown = shorten_quoted(&message);
        let expected = format!(
            "unknown key `unknown{}…{}end` (5,010 characters) in `ci`",
            "é".repeat(113),
            "é".repeat(37)
        );
        assert_eq!(shown, expected);
        // Short quotations, text outside quotations and an unclosed quotation stay whole.
        for whole in [
            format!("`{}` and `b`", "a".repeat(LONGEST_QUOTE_SHOWN)),
            format!("no quotes {}", "a".repeat(1_000)),
            format!("`a` then `{}", "a".repeat(1_000)),
        ] {
            assert_eq!(shorten_quoted(&whole), whole);
        }
        let at_limit = format!("`{}`", "a".repeat(LONGEST_QUOTE_SHOWN + 1));
        assert!(shorten_quoted(&at_limit).ends_with("` (201 characters)"));
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}

//! Everything the CLI shows goes through here: standard output, standard error and the
//! progress display, each masked by one [`Redactor`], so no credential envc has seen is
//! ever printed, in any format; and made safe for a terminal ([`terminal_safe`]), so no
//! text from a file, an argument or AWS can move the cursor, retitle the window, write the
//! clipboard or reorder what is shown.

use std::io::Write;
use std::sync::{Arc, Mutex};

use envc_core::credentials::Redactor;
use envc_core::source::SourceMap;

/// What the redactor has yet to learn (texts are scanned when something is first shown, so
/// a clean run scans nothing), and what it knows.
#[derive(Default)]
struct Redaction {
    pending: Vec<Arc<String>>,
    /// Project kinds' schemas, whose defaults are values.
    pending_schemas: Vec<Arc<String>>,
    /// How many of the credentials envc resolved (see [`envc_deploy::seen_secrets`]) are
    /// learned.
    credentials_learned: usize,
    redactor: Redactor,
}

static REDACTION: Mutex<Option<Redaction>> = Mutex::new(None);

fn with_redaction<T>(f: impl FnOnce(&mut Redaction) -> T) -> T {
    let mut guard = REDACTION
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(guard.get_or_insert_with(Redaction::default))
}

/// Remembers the project files in `sources`: credentials written in them are masked.
pub fn learn(sources: &SourceMap) {
    learn_where(sources, |path| path.extension().is_some_and(|e| e == "kdl"));
}

/// Remembers every file in `sources` as KDL, whatever its name: the files `fmt` was given.
pub fn learn_every_file(sources: &SourceMap) {
    learn_where(sources, |_| true);
}

fn learn_where(sources: &SourceMap, is_kdl: impl Fn(&std::path::Path) -> bool) {
    with_redaction(|r| {
        for (_, file) in sources.files() {
            let pending = if is_kdl(&file.path) {
                &mut r.pending
            } else if envc_core::credentials::is_kind_schema(&file.path) {
                &mut r.pending_schemas
            } else {
                continue;
            };
            if !pending.iter().any(|p| Arc::ptr_eq(p, &file.text)) {
                pending.push(file.text.clone());
            }
        }
    });
}

/// Forgets every credential learned: for a process that runs many commands (a fuzz target).
pub fn forget() {
    with_redaction(|r| *r = Redaction::default());
}

/// Remembers one value as a credential.
pub fn learn_value(value: &str) {
    with_redaction(|r| r.redactor.learn(value));
}

/// `text` with every known credential and every credential shape masked.
pub fn mask(text: &str) -> String {
    with_redaction(|r| {
        let pending = std::mem::take(&mut r.pending);
        let texts: Vec<&str> = pending.iter().map(|t| t.as_str()).collect();
        r.redactor.learn_kdl_texts(&texts);
        for schema in std::mem::take(&mut r.pending_schemas) {
            r.redactor.learn_json_schema(&schema);
        }
        for secret in envc_deploy::seen_secrets(r.credentials_learned) {
            r.redactor.learn(&secret);
            r.credentials_learned += 1;
        }
        r.redactor.mask(text).into_owned()
    })
}

/// `text` masked and made safe for a terminal: what the progress display shows.
pub fn shown(text: &str) -> String {
    terminal_safe(&mask(text)).into_owned()
}

pub fn write_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(terminal_safe(&mask(text)).as_bytes());
    let _ = stdout.flush();
}

pub fn write_err(text: &str) {
    let _ = std::io::stderr()
        .lock()
        .write_all(terminal_safe(&mask(text)).as_bytes());
}

/// `text` with every control character written out as `\u{…}`, but for line breaks, tabs and
/// the colour codes envc's own reports use (`ESC [ digits ; m`): escape sequences from user
/// input (an `--image-tag` holding `ESC ] 0 ;` retitles a terminal) are shown, not run. The
/// text-direction controls that reorder a line (U+202A–U+202E, U+2066–U+2069) go the same way.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text, true)
}

/// `text` with every control character written out as `\u{…}`, colour codes too: for text
/// that comes from input (a diagnostic's message), before envc adds colours of its own.
pub fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text, false)
}

/// [`escaped`], line breaks and tabs too: for one field of a line (a key, a value AWS gave).
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    let text = escaped(text);
    if !text.contains(['\n', '\r', '\t']) {
        return text;
    }
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => format!("\\u{{{:x}}}", u32::from(c)),
            c => c.to_string(),
        })
        .collect::<String>()
        .into()
}

fn escape_controls(text: &str, keep_colour: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_at = |c: char| {
        (c.is_control() && !matches!(c, '\n' | '\t' | '\r' | '\u{1b}'))
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(|c: char| c == '\u{1b}' || c == '\r' || unsafe_at(c)) {
        return text.into();
    }
    let mut safe = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let colour = keep_colour && c == '\u{1b}' && is_colour_code(rest);
        let lone_return = c == '\r' && !rest[1..].starts_with('\n');
        if colour {
            let end = rest.find('m').expect("a colour code ends with m") + 1;
            safe.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if unsafe_at(c) || c == '\u{1b}' || lone_return {
            safe.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            safe.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    safe.into()
}

/// Whether `text` starts with `ESC [`, digits and `;`, then `m`: a colour or style code.
fn is_colour_code(text: &str) -> bool {
    let Some(params) = text.strip_prefix("\u{1b}[") else {
        return false;
    };
    let end = params
        .find(|c: char| !(c.is_ascii_digit() || c == ';'))
        .unwrap_or(params.len());
    params[end..].starts_with('m')
}

/// `print!`, masked.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write_out(&format!($($arg)*)) };
}

/// `println!`, masked.
macro_rules! outln {
    () => { $crate::cli::output::write_out("\n") };
    ($($arg:tt)*) => { $crate::cli::output::write_out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!`, masked.
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::output::write_err(&format!($($arg)*)) };
}

/// `eprintln!`, masked.
macro_rules! errln {
    () => { $crate::cli::output::write_err("\n") };
    ($($arg:tt)*) => { $crate::cli::output::write_err(&format!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {err, errln, out, outln};

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn only_colour_codes_and_line_breaks_reach_the_terminal() {
        assert_eq!(terminal_safe("plain\ttext\r\n"), "plain\ttext\r\n");
        assert_eq!(
            terminal_safe("\u{1b}[1;31mred\u{1b}[0m"),
            "\u{1b}[1;31mred\u{1b}[0m"
        );
        assert_eq!(
            terminal_safe("`\u{1b}]0;title\u{7}` and \u{1b}[2J"),
            "`\\u{1b}]0;title\\u{7}` and \\u{1b}[2J"
        );
        assert_eq!(
            terminal_safe("a\rb \u{9b}31m \u{202e}x"),
            "a\\u{d}b \\u{9b}31m \\u{202e}x"
        );
    }
}

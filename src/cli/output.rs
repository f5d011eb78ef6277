//! Everything the CLI shows goes through here: standard output, standard error and the
//! progress display, each masked by one [`Redactor`], so no credential envc has seen is
//! ever printed, in any format.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::credentials::Redactor;
use crate::source::SourceMap;

/// What the redactor has yet to learn (texts are scanned when something is first shown, so
/// a clean run scans nothing), and what it knows.
#[derive(Default)]
struct Redaction {
    pending: Vec<Arc<String>>,
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
            if is_kdl(&file.path) && !r.pending.iter().any(|p| Arc::ptr_eq(p, &file.text)) {
                r.pending.push(file.text.clone());
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
        r.redactor.mask(text).into_owned()
    })
}

pub fn write_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(mask(text).as_bytes());
    let _ = stdout.flush();
}

pub fn write_err(text: &str) {
    let _ = std::io::stderr().lock().write_all(mask(text).as_bytes());
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

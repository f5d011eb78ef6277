//! What one stack's template may do: a bounded amount of work (minijinja's fuel) and a
//! bounded output, so no template can hang envc or fill its memory.

use crate::diagnostic::{Code, Diagnostic};

/// Instructions one stack's render may run. The largest render of the root project and the
/// examples uses 3,834 (minijinja's `fuel_levels`), so this leaves room for far larger
/// templates and stops a runaway loop within milliseconds.
pub const MAX_TEMPLATE_FUEL: u64 = 1_000_000;

/// The most text one stack's template may write: CloudFormation takes templates of at most
/// 1 MB (from S3; 51,200 bytes inline).
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// A template's output, cut off at [`MAX_OUTPUT_BYTES`].
pub struct CappedOutput {
    bytes: Vec<u8>,
    /// The template tried to write more than the limit.
    pub over: bool,
}

/// Room a render starts with: more than most stacks' templates write (the root project's
/// average 4 KiB), so the buffer is seldom grown and copied on the way.
const USUAL_OUTPUT_BYTES: usize = 8 * 1024;

impl CappedOutput {
    /// What was written, as text sized to fit. minijinja writes whole UTF-8 strings, so the
    /// text is checked once here rather than at each of its many writes.
    pub fn into_text(mut self) -> String {
        self.bytes.shrink_to_fit();
        String::from_utf8(self.bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl Default for CappedOutput {
    fn default() -> CappedOutput {
        CappedOutput {
            bytes: Vec::with_capacity(USUAL_OUTPUT_BYTES),
            over: false,
        }
    }
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + bytes.len() > MAX_OUTPUT_BYTES {
            self.over = true;
            return Err(std::io::Error::other("template output over the limit"));
        }
        self.bytes.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn output_too_large(template: &str, env: &str, stack: &str) -> Diagnostic {
    Diagnostic::error(
        Code::TemplateLimit,
        format!(
            "template `{template}` wrote more than {} MiB for stack `{stack}` of `{env}`",
            MAX_OUTPUT_BYTES / (1024 * 1024)
        ),
    )
    .help("CloudFormation takes templates of at most 1 MB; look for a loop that writes far more than intended")
}

pub fn out_of_fuel(template: &str, env: &str, stack: &str) -> Diagnostic {
    Diagnostic::error(
        Code::TemplateLimit,
        format!(
            "template `{template}` did more work than envc allows one stack (`{stack}` of `{env}`)"
        ),
    )
    .help(format!(
        "envc stops a template after {MAX_TEMPLATE_FUEL} steps; look for a loop over a very large range or one that never ends"
    ))
}

//! How a value the schema refuses is told: a number out of range, a text too long or a list
//! too short, a text not in its format (with an example of the format), a value not one of
//! those allowed (with the nearest, or a did-you-mean).

use jsonschema::error::ValidationErrorKind;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::resolve::{Located, SpanIndex};
use crate::source::Span;

use super::schema::display_name;

/// A value out of range, in the wrong format, or wrong in any other way the schema says.
pub(super) fn value_problem(
    error: &jsonschema::ValidationError<'_>,
    pointer: &str,
    name: &str,
    value_span: Span,
) -> Diagnostic {
    match error.kind() {
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => Diagnostic::error(
            Code::OutOfRange,
            format!("{name} must be at least {limit}, not {}", error.instance()),
        )
        .at(value_span, "too small")
        .help(format!("use a value of {limit} or more")),
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => Diagnostic::error(
            Code::OutOfRange,
            format!("{name} must be at most {limit}, not {}", error.instance()),
        )
        .at(value_span, "too large")
        .help(format!("use a value of {limit} or less")),
        kind @ (ValidationErrorKind::MaxLength { .. }
        | ValidationErrorKind::MinLength { .. }
        | ValidationErrorKind::MaxItems { .. }
        | ValidationErrorKind::MinItems { .. }) => {
            size_problem(kind, error.instance(), name, value_span)
        }
        kind => match refused_by_pattern(kind) {
            Some(pattern) => Diagnostic::error(
                Code::BadFormat,
                format!("{name} is not in the expected format"),
            )
            .at(value_span, "does not match")
            .help(format_help(pointer, pattern)),
            None => Diagnostic::error(Code::SchemaInvalid, format!("{name}: {error}"))
                .at(value_span, "here")
                .help("see schema/ for what this setting takes"),
        },
    }
}

/// A string longer or shorter, or a list longer or shorter, than the schema's bound.
fn size_problem(
    kind: &ValidationErrorKind,
    value: &serde_json::Value,
    name: &str,
    span: Span,
) -> Diagnostic {
    let (limit, most, noun) = match kind {
        ValidationErrorKind::MaxLength { limit } => (*limit, true, "character"),
        ValidationErrorKind::MinLength { limit } => (*limit, false, "character"),
        ValidationErrorKind::MaxItems { limit } => (*limit, true, "item"),
        ValidationErrorKind::MinItems { limit } => (*limit, false, "item"),
        _ => unreachable!("called for length and count bounds only"),
    };
    let (verb, size) = match noun {
        "item" => ("has", items(value)),
        _ => ("is", characters(value)),
    };
    let size = counted(size, noun);
    let (bound, label, help) = match (most, noun) {
        (true, "item") => ("over the", "too many", format!("keep {limit} or fewer")),
        (true, _) => (
            "over the",
            "too long",
            format!("shorten it to {limit} characters or fewer"),
        ),
        (false, "item") => ("under the", "too few", format!("give at least {limit}")),
        (false, _) => (
            "under the",
            "too short",
            format!("write at least {limit} characters"),
        ),
    };
    let needs = if most { "it takes" } else { "it needs" };
    Diagnostic::error(
        Code::OutOfRange,
        format!("{name} {verb} {size}, {bound} {limit} {needs}"),
    )
    .at(span, label)
    .help(help)
}

/// `n` and `noun`, plural but for one.
fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The characters of a string value (0 for any other).
fn characters(value: &serde_json::Value) -> usize {
    value.as_str().map_or(0, |text| text.chars().count())
}

/// The items of a list value (0 for any other).
fn items(value: &serde_json::Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// The pattern a string was refused by, as jsonschema or the model's own `pattern` keyword
/// (see [`model_schema::pattern_keyword`]) reports it.
fn refused_by_pattern(kind: &ValidationErrorKind) -> Option<&str> {
    match kind {
        ValidationErrorKind::Pattern { pattern } => Some(pattern),
        ValidationErrorKind::Custom { keyword, message } if keyword == "pattern" => Some(message),
        _ => None,
    }
}

/// A value as the user wrote it: a string's text, a number's digits.
pub(super) fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A value outside `options`, with did-you-mean.
pub(super) fn not_allowed(
    error: &jsonschema::ValidationError<'_>,
    options: &[String],
    spans: &SpanIndex,
    root: Span,
    noun: &str,
) -> (Option<Located>, Diagnostic) {
    let pointer = error.instance_path().as_str();
    let name = display_name(pointer, noun);
    let located = spans.nearest(pointer).cloned();
    let value_span = located.as_ref().map(|l| l.value).unwrap_or(root);
    let given = value_text(error.instance());
    let (help, suggestion) = match nearest_number(error.instance(), options) {
        Some(nearest) => (
            format!("the nearest allowed value is `{nearest}`"),
            Some(nearest),
        ),
        None => suggestion(&given, options.iter().map(String::as_str), || {
            format!("choose one of: {}", options.join(", "))
        }),
    };
    let diagnostic = Diagnostic::error(
        Code::NotAllowed,
        format!("{name} must be one of: {}", options.join(", ")),
    )
    .at(value_span, "not one of the allowed values")
    .help(help)
    .suggest(suggestion);
    (located, diagnostic)
}

/// For a number outside a list of numbers, the allowed one closest to it (the larger of two
/// as close): spelling is no guide to which number was meant.
fn nearest_number<'a>(given: &serde_json::Value, options: &'a [String]) -> Option<&'a str> {
    let given = given.as_f64()?;
    let numbers: Vec<(f64, &str)> = options
        .iter()
        .map(|o| o.parse::<f64>().ok().map(|n| (n, o.as_str())))
        .collect::<Option<_>>()?;
    numbers
        .into_iter()
        .min_by(|(a, _), (b, _)| {
            let (da, db) = ((a - given).abs(), (b - given).abs());
            da.total_cmp(&db).then(b.total_cmp(a))
        })
        .map(|(_, text)| text)
}

fn format_help(pointer: &str, pattern: &str) -> String {
    // An item of a list is named by its list (`/network/private-subnet-ids/0`).
    let mut segments = pointer.rsplit('/');
    let last = segments.next().unwrap_or_default();
    let last = match last.parse::<usize>() {
        Ok(_) => segments.next().unwrap_or_default(),
        Err(_) => last,
    };
    match last {
        "image" => "an image is up to 255 letters, digits and `- _ : . / # @`, like \"123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1.4.2\"".to_string(),
        "alarm-email" => "write an email address, like \"oncall@example.com\"".to_string(),
        "public-subnet-ids" | "private-subnet-ids" => "a subnet id looks like \"subnet-0a1b2c3d4e5f67890\"".to_string(),
        "private-route-table-ids" => "a route table id looks like \"rtb-0a1b2c3d4e5f67890\"".to_string(),
        "account" => "an AWS account id is 12 digits, like \"123456789012\"".to_string(),
        "vpc-id" => "a VPC id looks like \"vpc-0a1b2c3d4e5f67890\"".to_string(),
        "zone-id" => "a hosted zone id looks like \"Z0123456789ABCDEFGHIJ\"".to_string(),
        "certificate-arn" => "a certificate ARN looks like \"arn:aws:acm:us-east-1:123456789012:certificate/…\" (or an IAM server certificate)".to_string(),
        "project" => "a project name is lowercase letters, digits and single `-` between them, starting with a letter, at most 32 characters".to_string(),
        "github-repo" => "write the repository as \"owner/name\"".to_string(),
        "version" => "write the engine version as digits, like \"16.6\"".to_string(),
        "config-secret" => "a Secrets Manager secret name is 1 to 512 letters, digits and `/ _ + = . @ -`, like \"balancer-prod/config\"".to_string(),
        "master-user" => "a master user's name is 1 to 16 letters, digits and `_`, starting with a letter (RDS's limit), like \"app\"".to_string(),
        "name" if pointer.ends_with("/database/name") => "a database name is 1 to 63 letters, digits and `_`, starting with a letter, like \"app\"".to_string(),
        "image-tag" => "an image tag is 1 to 128 letters, digits, `_`, `.` and `-`, like \"v1.4.2\" or \"3f78685\"".to_string(),
        _ => format!("expected to match `{pattern}`"),
    }
}

/// A number the schema takes (JSON Schema's `integer` takes `300.0`; a `uint32` has no
/// maximum there) that the typed model cannot hold, found from serde's error: the value it
/// quotes, at the first place in the document that holds it. `None` for any other error.
pub(super) fn unrepresentable_number(
    env: &str,
    json: &serde_json::Value,
    error: &serde_json::Error,
    spans: &crate::resolve::SpanIndex,
) -> Option<crate::diagnostic::Diagnostic> {
    use crate::diagnostic::{Code, Diagnostic};
    let message = error.to_string();
    let (quoted, rest) = message.split_once('`')?.1.split_once('`')?;
    let expected = rest.split("expected ").nth(1)?.trim();
    let (least, most): (i128, i128) = match expected {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    };
    let pointer = find_number(json, quoted, &mut String::new())?;
    let located = spans.get(&pointer)?;
    let setting = pointer.trim_start_matches('/').replace('/', ".");
    let whole = !quoted.contains(['.', 'e', 'E']);
    let (code, text, label) = if whole {
        (
            Code::OutOfRange,
            format!("`{setting}` must be between {least} and {most}, not {quoted}"),
            "out of range",
        )
    } else {
        (
            Code::WrongType,
            format!("`{setting}` must be a whole number, not {quoted}"),
            "not a whole number",
        )
    };
    let diagnostic = Diagnostic::error(code, text)
        .at(located.value, label)
        .help(format!("write a whole number from {least} to {most}"));
    Some(super::inherited_note(env, Some(located), diagnostic))
}

/// The pointer of the first number in `json` written as `text`.
fn find_number(json: &serde_json::Value, text: &str, at: &mut String) -> Option<String> {
    use serde_json::Value;
    match json {
        Value::Number(n) if n.to_string() == text => Some(at.clone()),
        Value::Object(map) => map.iter().find_map(|(key, value)| {
            let len = at.len();
            at.push('/');
            at.push_str(&key.replace('~', "~0").replace('/', "~1"));
            let found = find_number(value, text, at);
            at.truncate(len);
            found
        }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, value)| {
            let len = at.len();
            at.push('/');
            at.push_str(&i.to_string());
            let found = find_number(value, text, at);
            at.truncate(len);
            found
        }),
        _ => None,
    }
}

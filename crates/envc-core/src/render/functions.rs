//! Functions and filters templates use: cross-stack imports and exports, logical ids.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State};

pub use crate::model::pascal;

pub fn register(env: &mut Environment<'static>) {
    env.add_function("import_value", import_value);
    env.add_function("export_name", export_name);
    env.add_filter("pascal", pascal);
    env.add_filter("fit", fit_filter);
    env.add_filter("tojson", tojson);
    env.add_function("security_group", security_group);
    env.add_function("env_value", env_value);
    env.add_function("fail", fail);
    env.add_function("image_parts", image_parts);
    super::macros::register(env);
}

/// `{{ image_parts(unit.image) }}` → `[repository, tag]` of an image named by a tag
/// (`…/reports-web:2.4.1`), so the tag can be a parameter `--image-tag` sets; none for an
/// image without a tag or pinned by digest (`…@sha256:…`), which stays as written.
pub(super) fn image_parts(image: Option<String>) -> Option<Vec<String>> {
    let image = image?;
    if image.contains('@') {
        return None;
    }
    let name_start = image.rfind('/').map_or(0, |slash| slash + 1);
    let colon = image[name_start..].rfind(':')? + name_start;
    let (repository, tag) = (&image[..colon], &image[colon + 1..]);
    let valid_tag = tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    (valid_tag && !repository.is_empty() && !repository.contains('$'))
        .then(|| vec![repository.to_string(), tag.to_string()])
}

/// `{{ value | tojson }}`: minijinja's own, except that text with nothing to escape (what
/// templates write most) is put between quotes directly, at a tenth of the cost.
pub(super) fn tojson(
    value: &Value,
    indent: Option<Value>,
    options: Kwargs,
) -> Result<Value, Error> {
    defined(value)?;
    let plain = indent.is_none() && options.args().next().is_none();
    match value.as_str().filter(|_| plain).and_then(quoted) {
        Some(json) => Ok(Value::from_safe_string(json)),
        None => minijinja::filters::tojson(value, indent, options),
    }
}

/// `{{ value | tojson }}`'s text.
pub(super) fn json_text(value: &Value) -> Result<String, Error> {
    defined(value)?;
    match value.as_str().and_then(quoted) {
        Some(json) => Ok(json),
        None => minijinja::filters::tojson(value, None, no_options()).map(|json| json.to_string()),
    }
}

/// An undefined value (a misspelt setting: `settings.nmae`) is an error where it would be
/// written, as it is when printed: minijinja's `tojson` writes it as `null`, which renders
/// without a word.
fn defined(value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "a value that is not defined was written as JSON",
        ));
    }
    Ok(())
}

/// `text` between quotes, when JSON writes it so (nothing in it to escape).
fn quoted(text: &str) -> Option<String> {
    let escapes = |b: u8| b < 0x20 || matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&' | b'\'');
    if text.bytes().any(escapes) {
        return None;
    }
    let mut json = String::with_capacity(text.len() + 2);
    json.push('"');
    json.push_str(text);
    json.push('"');
    Some(json)
}

pub(super) fn no_options() -> Kwargs {
    Kwargs::from_iter(std::iter::empty::<(&str, Value)>())
}

/// What a `fail(…)` error's detail starts with, before the setting and the message.
const FAILED: &str = "\u{1}envc-fail\u{1}";

/// `{{ fail("read.min", "must be at most read.max") }}`: the template refuses the
/// environment's settings, and the problem is shown at the line that set `read.min` (a
/// setting of the stack's block, or of the environment), with the message.
fn fail(setting: &str, message: &str) -> Result<String, Error> {
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("{FAILED}{setting}{FAILED}{message}"),
    ))
}

/// The setting and message of an error `fail(…)` raised.
pub fn failure(error: &Error) -> Option<(&str, &str)> {
    let detail = error.detail()?.strip_prefix(FAILED)?;
    detail.split_once(FAILED)
}

/// `{{ env_value(value) }}` → an environment variable's value as CloudFormation writes it:
/// text as JSON, another stack's output (`{"output": "cache.Url"}`) as the import of its
/// export.
pub(super) fn env_value(state: &State, value: minijinja::Value) -> Result<String, Error> {
    if let Ok(output) = value.get_attr("output") {
        if let Some(reference) = output.as_str() {
            let (stack, name) = reference.split_once('.').unwrap_or((reference, ""));
            return import_value(state, stack, name, None);
        }
    }
    // As the `tojson` filter writes it, so a text value renders as it always has.
    json_text(&value)
}

/// `{{ security_group("api") }}` → the id of stack `api`'s own security group, which the
/// network stack makes (`!ImportValue <project>-<env>-network-ApiStackSecurityGroupId`): a
/// stack admits another by name, as a cache admits only the API.
fn security_group(state: &State, stack: &str) -> Result<String, Error> {
    let network = lookup(state, &["kinds", "network"]).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "security_group() needs a `network` stack in the environment",
        )
    })?;
    import_value(
        state,
        &network,
        &format!("{}StackSecurityGroupId", pascal(stack)),
        None,
    )
}

/// `{{ name | fit(32) }}`: `name` when it has at most `max` characters, else its start and a
/// hash of the whole, `max` long. Two names that differ only past the cut stay distinct,
/// and a name is the same on every render.
pub fn fit(name: &str, max: usize) -> String {
    if name.chars().count() <= max || max < FIT_LEAST {
        return name.to_string();
    }
    let hash = xxhash_rust::xxh3::xxh3_64(name.as_bytes());
    let kept: String = name.chars().take(max - FIT_HASH - 1).collect();
    // Not ending in a separator, so no name made by `fit` has two in a row.
    let kept = kept.trim_end_matches(|c: char| !c.is_alphanumeric());
    if kept.is_empty() {
        format!("{:08x}", hash as u32)
    } else {
        format!("{kept}-{:08x}", hash as u32)
    }
}

/// The hash `fit` ends a cut name with, in characters.
const FIT_HASH: usize = 8;
/// The shortest length `fit` can cut to: a character, `-` and the hash.
const FIT_LEAST: usize = FIT_HASH + 2;

/// The `fit` filter: [`fit`], refusing a length it cannot cut a longer name to.
fn fit_filter(name: &str, max: usize) -> Result<String, Error> {
    if max < FIT_LEAST && name.chars().count() > max {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`fit({max})` cannot shorten a name and keep it distinct: it needs a length of at least {FIT_LEAST} (a start, `-` and an 8-character hash)"),
        ));
    }
    Ok(fit(name, max))
}

/// The variable `name` as the template sees it, refused when it is not defined.
pub(super) fn variable(state: &State, name: &str) -> Result<Value, Error> {
    state.lookup(name).ok_or_else(|| {
        Error::new(
            ErrorKind::UndefinedError,
            format!("`{name}` is not defined"),
        )
    })
}

/// The text at `path` of the template's variables (read where it is, not copied).
fn lookup(state: &State, path: &[&str]) -> Result<Text, Error> {
    let mut value = variable(state, path[0])?;
    for part in &path[1..] {
        value = value.get_attr(part)?;
    }
    match value.as_str() {
        Some(_) => Ok(Text(value)),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{}` is not a string", path.join(".")),
        )),
    }
}

/// A template value known to be a string.
struct Text(Value);

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str().unwrap_or_default()
    }
}

/// `{{ import_value("network", "VpcId") }}` → `!ImportValue balancer-dev-network-VpcId`;
/// `{{ import_value("dns", "HostedZoneId", "prod") }}` imports from another environment of
/// the project (in the same account and region) instead.
pub(super) fn import_value(
    state: &State,
    stack: &str,
    output: &str,
    from_env: Option<&str>,
) -> Result<String, Error> {
    let project = lookup(state, &["project"])?;
    let own_env;
    let env = match from_env {
        Some(other) => other,
        None => {
            own_env = lookup(state, &["env"])?;
            &*own_env
        }
    };
    Ok(["!ImportValue ", &project, "-", env, "-", stack, "-", output].concat())
}

/// `{{ export_name("VpcId") }}` → `balancer-dev-network-VpcId` for the stack being rendered.
/// The stack's part of the name is found once a render (a stack exports up to a dozen).
pub(super) fn export_name(state: &mut State, output: &str) -> Result<String, Error> {
    let stack_part = match state.get_extension::<ExportedAs>() {
        Some(ExportedAs(part)) => part,
        None => {
            let project = lookup(state, &["project"])?;
            let env = lookup(state, &["env"])?;
            let stack = lookup(state, &["stack", "name"])?;
            let part = super::context::export_name(&project, &env, &stack, "");
            &state.get_or_insert_extension(ExportedAs(part)).0
        }
    };
    Ok([stack_part, output].concat())
}

/// `<project>-<env>-<stack>-`: what every export name of the stack being rendered starts with.
struct ExportedAs(String);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character alone and among others, and values other than text, as minijinja's
    /// `tojson` writes them.
    #[test]
    fn tojson_writes_what_minijinjas_writes() {
        let mut values: Vec<Value> = (0u32..0x300)
            .chain([0x2028, 0x2029, 0xfeff, 0x1f600])
            .filter_map(char::from_u32)
            .flat_map(|c| [c.to_string(), format!("arn:aws:{c}x-1/a b")])
            .map(Value::from)
            .collect();
        values.extend([
            Value::from(""),
            Value::from(1),
            Value::from(2.5),
            Value::from(true),
            Value::from(()),
            Value::from(vec!["a", "<b>"]),
            Value::from_safe_string("it's".into()),
        ]);
        for value in values {
            let ours = tojson(&value, None, no_options()).unwrap();
            let theirs = minijinja::filters::tojson(&value, None, no_options()).unwrap();
            assert_eq!(ours.to_string(), theirs.to_string(), "{value:?}");
            assert_eq!(ours.is_safe(), theirs.is_safe());
            assert_eq!(json_text(&value).unwrap(), theirs.to_string());
        }
        let indented = tojson(&Value::from("a"), Some(Value::from(2)), no_options());
        assert_eq!(indented.unwrap().to_string(), "\"a\"");
    }

    #[test]
    fn names_fit_with_a_hash_of_the_whole() {
        assert_eq!(fit("balancer-dev-api", 32), "balancer-dev-api");
        let a = fit("balancer-feature-login-redesign-2026-a-api", 32);
        let b = fit("balancer-feature-login-redesign-2026-b-api", 32);
        // The start, cut at 23 characters and without its trailing `-`, then `-` and 8 hex.
        assert_eq!(a.len(), 31);
        assert_ne!(a, b);
        assert!(
            a.starts_with("balancer-feature-login-") && !a.contains("--"),
            "{a}"
        );
        // No `-` before the hash's own: AWS refuses `--` in some names (RDS).
        assert_eq!(
            fit("abc-def-ghi-jkl-mno", 18),
            format!(
                "abc-def-g-{:08x}",
                xxhash_rust::xxh3::xxh3_64(b"abc-def-ghi-jkl-mno") as u32
            )
        );
    }

    #[test]
    fn fit_keeps_its_promise_or_refuses() {
        let long = "a-very-long-queue-name";
        assert!(
            fit_filter(long, 8).is_err(),
            "no room for a start and the hash"
        );
        assert_eq!(fit_filter("short", 8).unwrap(), "short");
        assert_eq!(fit_filter(long, 10).unwrap().len(), 10);
        // A start of letters past ASCII is kept, and never a lone `-` before the hash.
        let accented = fit("éééééééééééééééé", 12);
        assert!(accented.starts_with("ééé-"), "{accented}");
        assert_eq!(accented.chars().count(), 12);
        assert!(!fit("---------------------", 12).starts_with('-'));
    }

    #[test]
    fn an_image_splits_into_repository_and_tag_unless_pinned() {
        let parts = |image: &str| image_parts(Some(image.to_string()));
        assert_eq!(
            parts("444444444444.dkr.ecr.eu-west-1.amazonaws.com/reports-web:2.4.1"),
            Some(vec![
                "444444444444.dkr.ecr.eu-west-1.amazonaws.com/reports-web".into(),
                "2.4.1".into()
            ])
        );
        assert_eq!(
            parts("localhost:5000/app:v1"),
            Some(vec!["localhost:5000/app".into(), "v1".into()])
        );
        assert_eq!(parts("localhost:5000/app"), None, "a port is no tag");
        assert_eq!(parts("nginx"), None);
        assert_eq!(parts("nginx@sha256:abc"), None);
        assert_eq!(parts("repo:-bad"), None);
    }

    #[test]
    fn pascal_case_for_logical_ids() {
        assert_eq!(pascal("api"), "Api");
        assert_eq!(pascal("jobs-dlq"), "JobsDlq");
        assert_eq!(pascal("DATABASE_URL"), "DatabaseUrl");
    }
}

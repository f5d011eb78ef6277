//! `tags` of each environment (which start from the project's, in `stacks.kdl`): what
//! CloudFormation takes on a stack, and what the services it copies stack tags onto take.
//! Each tag is reported where it is written.
//!
//! AWS's rules (CloudFormation's `Tag`, and the pattern the services share, e.g. IAM's and
//! EFS's `Tag`): a key of 1 to 128 characters not starting with `aws:` in any case, a value
//! of up to 256 (CloudFormation takes none empty), each of letters, digits, white space and
//! `_ . : / = + - @`; at most 50 tags a stack, of which envc writes 3 (`envc:project`,
//! `envc:env`, `envc:stack`).

use indexmap::IndexMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::path;

/// Tags a project and an environment may set together: CloudFormation's 50 less envc's own.
pub const MAX_TAGS: usize = 50 - 3;
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;

/// Each tag of `tags`, an environment's (which start from the project's, `tags` in
/// `stacks.kdl`), and how many there are.
pub(crate) fn check_tags(
    tags: &IndexMap<String, String>,
    at: &super::EnvSpans,
    out: &mut Vec<Diagnostic>,
) {
    for (key, value) in tags {
        let pointer = path::pointer(&["tags", key]);
        for (on_key, message, help) in problems(key, value) {
            let (span, label) = if on_key {
                (at.key(&pointer), "this tag's key")
            } else {
                (at.value(&pointer), "this tag's value")
            };
            let diagnostic = Diagnostic::error(Code::Tag, message)
                .at(span, label)
                .help(help);
            out.push(at.note_inherited(&pointer, diagnostic));
        }
    }
    if tags.len() > MAX_TAGS {
        // At the last tag this environment's own file sets, when it sets one: the project's
        // tags are every environment's, and this one's took them past the limit.
        let own = tags.keys().rev().find_map(|key| {
            let located = at.located(&path::pointer(&["tags", key]))?;
            (located.key.file == at.file).then_some(located.key)
        });
        let diagnostic = match own {
            Some(span) => too_many(tags.len(), span),
            None => at.note_inherited("/tags", too_many(tags.len(), at.key("/tags"))),
        };
        out.push(diagnostic);
    }
}

fn too_many(count: usize, span: crate::source::Span) -> Diagnostic {
    Diagnostic::error(
        Code::Tag,
        format!("{count} tags, over the {MAX_TAGS} a stack can take besides envc's own"),
    )
    .at(span, "past the limit here")
    .help("CloudFormation takes at most 50 tags on a stack, and envc adds `envc:project`, `envc:env` and `envc:stack`: keep the tags cost reports and access rules need")
}

/// What is wrong with one tag, each as (whether it is the key's, message, help).
fn problems(key: &str, value: &str) -> Vec<(bool, String, String)> {
    let allowed = "letters, digits, spaces and `_ . : / = + - @`";
    let mut found = Vec::new();
    let key_length = key.chars().count();
    if key_length == 0 || key_length > MAX_KEY {
        found.push((
            true,
            format!("a tag's key is {key_length} characters; AWS takes 1 to {MAX_KEY}"),
            "write a key of 1 to 128 characters".to_string(),
        ));
    }
    let lowercase = key.to_ascii_lowercase();
    if lowercase.starts_with("aws:") || lowercase.starts_with("envc:") {
        let owner = if lowercase.starts_with("aws:") {
            "AWS"
        } else {
            "envc"
        };
        found.push((
            true,
            format!("tag `{key}` starts with a prefix {owner} keeps for its own tags"),
            format!(
                "`{}` keys are {owner}'s (it writes them itself); name the tag without that prefix",
                &key[..key.find(':').map_or(0, |i| i + 1)]
            ),
        ));
    }
    if let Some(c) = key.chars().find(|c| !is_tag_char(*c)) {
        found.push((
            true,
            format!("tag `{key}` holds {}", described(c)),
            format!(
                "services refuse the stack's resources a tag of other characters than {allowed}"
            ),
        ));
    }
    let value_length = value.chars().count();
    if value_length == 0 || value_length > MAX_VALUE {
        found.push((
            false,
            format!("the value of tag `{key}` is {value_length} characters; CloudFormation takes 1 to {MAX_VALUE}"),
            "give the tag a value of 1 to 256 characters, or leave the tag out".to_string(),
        ));
    }
    if let Some(c) = value.chars().find(|c| !is_tag_char(*c)) {
        found.push((
            false,
            format!("the value of tag `{key}` holds {}", described(c)),
            format!(
                "services refuse the stack's resources a tag of other characters than {allowed}"
            ),
        ));
    }
    found
}

/// `\p{L}`, `\p{Z}`, `\p{N}` and `_ . : / = + - @`: the characters AWS's services share.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

fn described(c: char) -> String {
    if c.is_control() {
        format!("the control character U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

#[cfg(test)]
mod tests {
    use super::{is_tag_char, problems};

    #[test]
    fn tags_are_held_to_what_aws_takes() {
        assert!(problems("owner", "team-payments@example.com").is_empty());
        assert!(problems("cost-center", "Ünïcode and spaces 42").is_empty());
        assert!(problems(&"k".repeat(128), &"v".repeat(256)).is_empty());
        let keys = |key: &str, value: &str| -> Vec<bool> {
            problems(key, value)
                .into_iter()
                .map(|(on_key, ..)| on_key)
                .collect()
        };
        assert_eq!(keys(&"k".repeat(129), "v"), [true]);
        assert_eq!(keys("AWS:owner", "v"), [true]);
        assert_eq!(keys("envc:env", "v"), [true]);
        assert_eq!(keys("owner", ""), [false]);
        assert_eq!(keys("owner", &"v".repeat(257)), [false]);
        assert_eq!(keys("team#1", "a,b"), [true, false]);
        assert!(!is_tag_char('\t'));
        assert!(is_tag_char('\u{a0}'));
    }
}

//! The canonical YAML envc writes golden files in: two-space indents, CloudFormation short
//! forms (`!Ref Bucket`, `!Select [0, !GetAZs ""]`), and quotes on every string a YAML 1.1
//! reader could take for something else (`"2012-10-17"`, `"yes"`, `"0755"`).

use std::fmt::Write as _;

use serde_yaml_ng::Value;

/// Writes `value` (a template body) in canonical form.
pub fn to_canonical_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Mapping(map) if !map.is_empty() => mapping(&mut out, map, 0),
        Value::Sequence(items) if !items.is_empty() => sequence(&mut out, items, 0),
        other => {
            out.push_str(&inline(other).unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn mapping(out: &mut String, map: &serde_yaml_ng::Mapping, level: usize) {
    for (key, value) in map {
        indent(out, level);
        out.push_str(&key_text(key));
        out.push(':');
        after_key(out, value, level);
    }
}

/// What follows `key:` or `- `: an inline value, or a nested block on the next lines.
fn after_key(out: &mut String, value: &Value, level: usize) {
    if let Some(text) = inline(value) {
        out.push(' ');
        out.push_str(&text);
        out.push('\n');
        return;
    }
    match value {
        Value::Mapping(map) => {
            out.push('\n');
            mapping(out, map, level + 1);
        }
        Value::Sequence(items) => {
            out.push('\n');
            sequence(out, items, level + 1);
        }
        Value::Tagged(tagged) => {
            let _ = write!(out, " {}", tagged.tag);
            after_key(out, &tagged.value, level);
        }
        Value::String(s) => {
            block_literal(out, s, level + 1);
        }
        _ => out.push('\n'),
    }
}

fn sequence(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Mapping(map) if !map.is_empty() => {
                // `- Key: value` with the rest of the mapping aligned under `Key`.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 1);
                    }
                    out.push_str(&key_text(key));
                    out.push(':');
                    after_key(out, value, level + 1);
                }
            }
            other => after_key(out, other, level),
        }
    }
}

/// The value on one line, when it fits there.
fn inline(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("null".to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.contains('\n') && !s.ends_with("\n\n") && !s.starts_with(' ') => None,
        Value::String(s) => Some(scalar_text(s)),
        Value::Mapping(map) if map.is_empty() => Some("{}".to_string()),
        Value::Sequence(items) if items.is_empty() => Some("[]".to_string()),
        // Plain lists and mappings go in blocks; only function arguments go in flow style.
        Value::Sequence(_) | Value::Mapping(_) => None,
        Value::Tagged(tagged) => match &tagged.value {
            Value::Sequence(items) => flow_sequence(items).map(|f| format!("{} {f}", tagged.tag)),
            Value::Mapping(_) => None,
            other => inline(other).map(|v| format!("{} {v}", tagged.tag)),
        },
    }
}

/// `[a, !Ref B]` when every item is a scalar or a tagged scalar (or such a list).
fn flow_sequence(items: &[Value]) -> Option<String> {
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        let part = match item {
            Value::Sequence(inner) if !inner.is_empty() => flow_sequence(inner)?,
            Value::Mapping(_) => return None,
            Value::String(s) if s.contains('\n') => return None,
            other => inline(other)?,
        };
        parts.push(part);
    }
    let text = format!("[{}]", parts.join(", "));
    (text.len() <= 100).then_some(text)
}

fn block_literal(out: &mut String, text: &str, level: usize) {
    out.push_str(if text.ends_with('\n') {
        " |\n"
    } else {
        " |-\n"
    });
    for line in text.trim_end_matches('\n').split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => scalar_text(s),
        other => inline(other).unwrap_or_default(),
    }
}

/// A string plain when no YAML reader could mistake it, double-quoted otherwise.
fn scalar_text(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || "/._$".contains(first)) {
        return false;
    }
    if text.ends_with([' ', ':']) || text.contains(": ") || text.contains(" #") {
        return false;
    }
    if !text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " _./:@$*,()+=-".contains(c))
    {
        return false;
    }
    if text.contains(',') && (text.contains('[') || text.contains('{')) {
        return false;
    }
    !looks_like_other_type(text)
}

/// YAML 1.1 booleans, nulls, numbers (any base, with `_`), dates and times.
fn looks_like_other_type(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "n"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "true"
            | "false"
            | "null"
            | "~"
            | ".inf"
            | "-.inf"
            | "+.inf"
            | ".nan"
    ) {
        return true;
    }
    let digits_etc = text
        .chars()
        .all(|c| c.is_ascii_digit() || "+-._:eExXoObBaAcCdDfF".contains(c));
    let has_digit = text.chars().any(|c| c.is_ascii_digit());
    digits_etc && has_digit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let value: Value = serde_yaml_ng::from_str(text).unwrap();
        let canonical = to_canonical_yaml(&value);
        let again: Value = serde_yaml_ng::from_str(&canonical).unwrap();
        assert_eq!(
            value, again,
            "canonical form changed the value:\n{canonical}"
        );
        canonical
    }

    #[test]
    fn quotes_what_yaml_11_would_misread() {
        let out = round_trip("a: \"2012-10-17\"\nb: \"yes\"\nc: \"0755\"\nd: plain-text\ne: \"1e3\"\nf: \"*\"\ng: \"x: y\"\n");
        assert_eq!(out, "a: \"2012-10-17\"\nb: \"yes\"\nc: \"0755\"\nd: plain-text\ne: \"1e3\"\nf: \"*\"\ng: \"x: y\"\n");
    }

    #[test]
    fn writes_short_forms_and_nested_blocks() {
        let out = round_trip(
            "R:\n  Type: AWS::EC2::Subnet\n  Properties:\n    Az: !Select [0, !GetAZs \"\"]\n    Ids: !Split [\",\", !ImportValue x-y]\n    Vpc: !Ref Vpc\n    Tags:\n      - Key: Name\n        Value: web\n    Sub: !Sub\n      - \"${A}/*\"\n      - A: !GetAtt B.Arn\n    Code: |\n      line one\n      line two\n",
        );
        assert!(out.contains("Az: !Select [0, !GetAZs \"\"]\n"), "{out}");
        assert!(
            out.contains("Ids: !Split [\",\", !ImportValue x-y]\n"),
            "{out}"
        );
        assert!(
            out.contains("    Tags:\n      - Key: Name\n        Value: web\n"),
            "{out}"
        );
        assert!(
            out.contains("Sub: !Sub\n      - \"${A}/*\"\n      - A: !GetAtt B.Arn\n"),
            "{out}"
        );
        assert!(
            out.contains("Code: |\n      line one\n      line two\n"),
            "{out}"
        );
    }
}

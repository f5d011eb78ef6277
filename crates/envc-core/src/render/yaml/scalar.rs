//! The scalars of one line of block YAML, read as `serde_yaml_ng` resolves them: plain
//! scalars to null, booleans, numbers or strings (YAML 1.1, as `serde_yaml_ng`), and quoted
//! strings, borrowed from the text unless an escape makes them differ from it.

use std::borrow::Cow;

use serde_yaml_ng::{Number, Value};

use super::tree::Yaml;

/// A plain scalar's value, resolved as `serde_yaml_ng` resolves it.
pub(super) fn plain(text: &str) -> Option<Yaml<'_>> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Yaml::Null),
        "true" | "True" | "TRUE" => return Some(Yaml::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Yaml::Bool(false)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    // Only digits, signs, `.`, `_`, hex digits and the letters of `0x`, `0o`, `.inf`, `.nan`
    // can make a number; anything else is a string.
    let could_be_number = (first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.'))
        && text.bytes().all(|b| {
            b.is_ascii_hexdigit()
                || matches!(
                    b,
                    b'+' | b'-'
                        | b'.'
                        | b'_'
                        | b'x'
                        | b'X'
                        | b'o'
                        | b'O'
                        | b'i'
                        | b'I'
                        | b'n'
                        | b'N'
                )
        })
        && (text.bytes().any(|b| b.is_ascii_digit())
            || matches!(
                text.trim_start_matches(['+', '-']),
                ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
            ));
    if !could_be_number {
        return Some(Yaml::str(text));
    }
    // The common numbers, read as serde_yaml_ng reads them: `443`, `-1`, `16.6`, `0`.
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // A leading zero makes YAML 1.1 octal (`0755`); `0` itself is zero.
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    if all_digits(digits) && digits.len() <= 18 && !leading_zero {
        return Some(Yaml::Number(if negative {
            Number::from(text.parse::<i64>().ok()?)
        } else {
            Number::from(text.parse::<u64>().ok()?)
        }));
    }
    if let Some((whole, fraction)) = digits.split_once('.') {
        if all_digits(whole) && all_digits(fraction) {
            // Past f64's range it is no number to serde_yaml_ng, but a string.
            let number = text.parse::<f64>().ok()?;
            return Some(if number.is_finite() {
                Yaml::Number(Number::from(number))
            } else {
                Yaml::str(text)
            });
        }
    }
    // Signs, floats, hex, octal, `.inf`: as serde_yaml_ng reads the scalar on its own.
    match serde_yaml_ng::from_str::<Value>(text).ok()? {
        Value::Number(n) => Some(Yaml::Number(n)),
        Value::String(s) if s == text => Some(Yaml::str(text)),
        _ => None,
    }
}

/// `"…"` on one line: its value (borrowed when it has no escapes) and the text after the
/// closing quote.
pub(super) fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let mut out = String::new();
    let mut rest = body;
    loop {
        let stop = memchr::memchr2(b'"', b'\\', rest.as_bytes())?;
        if rest.as_bytes()[stop] == b'"' {
            let value = if rest.len() == body.len() {
                Cow::Borrowed(&body[..stop])
            } else {
                out.push_str(&rest[..stop]);
                Cow::Owned(out)
            };
            return Some((value, &rest[stop + 1..]));
        }
        out.push_str(&rest[..stop]);
        let mut chars = rest[stop + 1..].chars();
        let escape = chars.next()?;
        match escape {
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '/' => out.push('/'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            ' ' => out.push(' '),
            'x' | 'u' | 'U' => {
                let digits = match escape {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut code = 0u32;
                for _ in 0..digits {
                    code = code * 16 + chars.next()?.to_digit(16)?;
                }
                out.push(char::from_u32(code)?);
            }
            _ => return None,
        }
        rest = chars.as_str();
    }
}

/// `'…'` on one line: its value (borrowed when it has no `''`) and the text after the
/// closing quote.
pub(super) fn single_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let mut out = String::new();
    let mut rest = body;
    loop {
        let quote = rest.find('\'')?;
        let after = &rest[quote + 1..];
        if !after.starts_with('\'') {
            let value = if rest.len() == body.len() {
                Cow::Borrowed(&body[..quote])
            } else {
                out.push_str(&rest[..quote]);
                Cow::Owned(out)
            };
            return Some((value, after));
        }
        out.push_str(&rest[..=quote]);
        rest = &after[1..];
    }
}

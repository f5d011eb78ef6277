//! Regular expressions that envc's own data holds (AWS's name patterns, the model schema's
//! `pattern`s), matched the cheap way their form allows. Most are one character class
//! repeated over the whole text (`^[a-zA-Z0-9_-]+$`), which is a lookup per character;
//! the rest are compiled by `regex-lite` the first time a text is matched against them.
//! Both ways accept exactly the texts `regex-lite` accepts (a test holds them together).

use std::sync::OnceLock;

/// A pattern, matched by its class when it is one class repeated, else by `regex-lite`.
pub struct Pattern {
    source: String,
    class: Option<WholeClass>,
    sequence: Option<Sequence>,
    regex: OnceLock<regex_lite::Regex>,
}

impl Pattern {
    /// `source`, which must compile with `regex-lite`: the patterns are envc's own, and
    /// tests compile each one.
    pub fn new(source: &str) -> Pattern {
        let class = WholeClass::parse(source);
        let sequence = class.is_none().then(|| Sequence::parse(source)).flatten();
        Pattern {
            source: source.to_owned(),
            class,
            sequence,
            regex: OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches somewhere in `text` (a JSON Schema `pattern` is not
    /// anchored; AWS's are, with `^…$`).
    pub fn is_match(&self, text: &str) -> bool {
        match (&self.class, &self.sequence) {
            (Some(class), _) => class.matches_all(text),
            (None, Some(sequence)) => sequence.matches(text),
            (None, None) => self.regex().is_match(text),
        }
    }

    fn regex(&self) -> &regex_lite::Regex {
        self.regex.get_or_init(|| {
            regex_lite::Regex::new(&self.source)
                .unwrap_or_else(|e| panic!("envc's pattern {} is invalid: {e}", self.source))
        })
    }
}

/// `^[…]+$` or `^[…]{m,n}$`: a text made of characters of a class, as many as the
/// repetition says. The class is ASCII (ranges, single characters, `\w`, escaped
/// punctuation), or its negation, which also takes every character beyond ASCII.
struct WholeClass {
    ascii: u128,
    negated: bool,
    /// The fewest and most characters.
    count: (usize, usize),
}

impl WholeClass {
    fn parse(source: &str) -> Option<WholeClass> {
        let (inner, repetition) = source
            .strip_prefix("^[")?
            .strip_suffix('$')?
            .rsplit_once(']')?;
        let count = match repetition {
            "+" => (1, usize::MAX),
            _ => bounds(repetition)?,
        };
        let (ascii, negated) = class(inner)?;
        Some(WholeClass {
            ascii,
            negated,
            count,
        })
    }

    /// Whether `c` is in the class.
    fn has(&self, c: char) -> bool {
        let in_ascii = c.is_ascii() && self.ascii & (1 << c as u32) != 0;
        in_ascii != self.negated
    }

    fn matches_all(&self, text: &str) -> bool {
        let mut count = 0;
        let all_in_class = text.chars().all(|c| {
            count += 1;
            self.has(c)
        });
        all_in_class && (self.count.0..=self.count.1).contains(&count)
    }
}

/// `{m}` or `{m,n}`: the fewest and most repetitions.
fn bounds(repetition: &str) -> Option<(usize, usize)> {
    let bounds = repetition.strip_prefix('{')?.strip_suffix('}')?;
    let (least, most) = bounds.split_once(',').unwrap_or((bounds, bounds));
    let digits = |n: &str| {
        n.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| n.parse().ok())?
    };
    let (least, most) = (digits(least)?, digits(most)?);
    (least <= most).then_some((least, most))
}

/// A class's inside (`a-zA-Z_`, `^/`) as its ASCII members and whether it is negated.
fn class(inner: &str) -> Option<(u128, bool)> {
    let (negated, inner) = match inner.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let members = class_members(inner)?;
    let mut ascii = 0u128;
    let mut at = 0;
    while at < members.len() {
        let first = members[at];
        // An unescaped `-` between two members makes a range of them; first or last in
        // the class, it is itself.
        if let (Some(('-', false)), Some(&last)) = (members.get(at + 1), members.get(at + 2)) {
            if first.1 || last.1 {
                return None; // a range next to an escape (`\w-z`): left to regex-lite
            }
            let (low, high) = (first.0 as u32, last.0 as u32);
            if low > high || high > 127 {
                return None;
            }
            (low..=high).for_each(|c| ascii |= 1 << c);
            at += 3;
            continue;
        }
        match first {
            ('w', true) => {
                for c in b'0'..=b'9' {
                    ascii |= 1 << c;
                }
                for c in (b'a'..=b'z').chain(b'A'..=b'Z') {
                    ascii |= 1 << c;
                }
                ascii |= 1 << b'_';
            }
            (c, _) if c.is_ascii() => ascii |= 1 << c as u32,
            _ => return None,
        }
        at += 1;
    }
    Some((ascii, negated))
}

/// `^` then characters and classes each matched once (`subnet-`, `[A-Za-z_]`), then one
/// class repeated, then `$` (`^[A-Za-z_][A-Za-z0-9_]*$`, `^vpc-[0-9a-f]{8,17}$`): the text's
/// first characters are each looked up in their class, the rest in the last, with no
/// backtracking (every part before the last takes exactly one character).
struct Sequence {
    each: Vec<WholeClass>,
    rest: WholeClass,
}

impl Sequence {
    fn parse(source: &str) -> Option<Sequence> {
        let mut text = source.strip_prefix('^')?.strip_suffix('$')?;
        let mut parts: Vec<WholeClass> = Vec::new();
        while !text.is_empty() {
            let (ascii, negated, after) = if let Some(inside) = text.strip_prefix('[') {
                let close = class_end(inside)?;
                let (ascii, negated) = class(&inside[..close])?;
                (ascii, negated, &inside[close + 1..])
            } else {
                let mut chars = text.chars();
                let c = match chars.next()? {
                    '\\' => chars.next().filter(char::is_ascii_punctuation)?,
                    c if c.is_ascii_alphanumeric() || "-_/@:,=#".contains(c) => c,
                    _ => return None,
                };
                (1u128 << c as u32, false, chars.as_str())
            };
            let (count, after) = match after.chars().next() {
                Some('+') => ((1, usize::MAX), &after[1..]),
                Some('*') => ((0, usize::MAX), &after[1..]),
                Some('{') => {
                    let end = after.find('}')?;
                    (bounds(&after[..=end])?, &after[end + 1..])
                }
                Some('?' | '(' | ')' | '|' | '.' | '^' | '$') => return None,
                _ => ((1, 1), after),
            };
            parts.push(WholeClass {
                ascii,
                negated,
                count,
            });
            text = after;
        }
        let rest = parts.pop()?;
        // Each part before the last takes one character, or the text is left to regex-lite.
        if parts.is_empty() || parts.iter().any(|p| p.count != (1, 1)) {
            return None;
        }
        Some(Sequence { each: parts, rest })
    }

    fn matches(&self, text: &str) -> bool {
        let mut chars = text.char_indices();
        for part in &self.each {
            match chars.next() {
                Some((_, c)) if part.has(c) => {}
                _ => return false,
            }
        }
        let rest = chars.next().map_or("", |(at, _)| &text[at..]);
        self.rest.matches_all(rest)
    }
}

/// Where the class whose inside starts `inside` ends: its first `]` not escaped.
fn class_end(inside: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in inside.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ']' => return Some(at),
            _ => {}
        }
    }
    None
}

/// The members of a class's inside, each with whether it was escaped; `None` for anything
/// beyond single characters, ranges and `\w` (a nested class, `\d`, `&&`, a `[`).
fn class_members(inner: &str) -> Option<Vec<(char, bool)>> {
    let mut members = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'w' => members.push(('w', true)),
                escaped if escaped.is_ascii_punctuation() => members.push((escaped, true)),
                _ => return None,
            },
            '[' | ']' => return None,
            c => members.push((c, false)),
        }
    }
    (!members.is_empty()).then_some(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text of one character out of every ASCII character and two beyond; texts of
    /// two and three of the pattern's own characters; and each of those repeated up to
    /// past the bounds a repetition sets.
    fn samples(pattern: &str) -> Vec<String> {
        let singles: Vec<char> = (0u8..128).map(char::from).chain(['é', '€']).collect();
        let mut samples: Vec<String> = singles.iter().map(|c| c.to_string()).collect();
        samples.push(String::new());
        let mut own: Vec<char> = pattern.chars().chain(['a', 'Z', '0', 'é']).collect();
        own.sort_unstable();
        own.dedup();
        for a in &own {
            for b in &own {
                samples.push(format!("{a}{b}"));
                for c in &own {
                    samples.push(format!("{a}{b}{c}"));
                }
            }
            for length in [4, 63, 64, 511, 512, 513] {
                samples.push(a.to_string().repeat(length));
            }
        }
        samples
    }

    fn the_same_as_regex_lite(pattern: &str) {
        let ours = Pattern::new(pattern);
        let lite = regex_lite::Regex::new(pattern).unwrap();
        for text in samples(pattern) {
            assert_eq!(
                ours.is_match(&text),
                lite.is_match(&text),
                "{pattern} on {text:?}"
            );
        }
    }

    #[test]
    fn a_repeated_class_matches_as_regex_lite_does() {
        for pattern in [
            "^[a-zA-Z0-9_-]+$",
            r"^[\w+=,.@-]+$",
            r"^[^:\\]+$",
            r"^[\.\-_A-Za-z0-9]+$",
            "^[a-zA-Z0-9/_+=.@-]+$",
            "^[-a-z]+$",
            r"^[.\-_/#A-Za-z0-9]{1,512}$",
            "^[0-9A-Za-z_-]{1,3}$",
            "^[a-z]{2}$",
            "^[a-z]{0,2}$",
        ] {
            assert!(WholeClass::parse(pattern).is_some(), "{pattern} is a class");
            the_same_as_regex_lite(pattern);
        }
    }

    #[test]
    fn other_forms_are_left_to_regex_lite() {
        for pattern in [
            "^[a-z]+(\\.fifo)?$",
            "^[a-z]{1,}$",
            "^[a-z]{3,1}$",
            "^[a-z]*$",
            r"^[\d]+$",
            "^[[:alpha:]]+$",
            "[a-z]+$",
            r"^[\w-z]+$",
            "^[z-a]+$",
        ] {
            assert!(WholeClass::parse(pattern).is_none(), "{pattern} is not");
        }
        for pattern in ["^[a-z]+(\\.fifo)?$", "^[a-z]{1,}$", "^[a-z]*$"] {
            the_same_as_regex_lite(pattern);
        }
    }

    /// The patterns of `data/aws-rules.json`, the ones envc matches most.
    #[test]
    fn every_name_pattern_of_the_aws_data_matches_as_regex_lite_does() {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../../../data/aws-rules.json")).unwrap();
        let rules = data["physical_names"].as_object().unwrap();
        let patterns: Vec<&str> = rules
            .values()
            .filter_map(|r| r["pattern"].as_str())
            .collect();
        assert!(patterns.len() > 10);
        assert!(patterns.iter().any(|p| WholeClass::parse(p).is_some()));
        for pattern in patterns {
            the_same_as_regex_lite(pattern);
        }
    }

    #[test]
    fn a_sequence_ending_in_a_repeated_class_matches_as_regex_lite_does() {
        for pattern in [
            "^[A-Za-z_][A-Za-z0-9_]*$",
            "^[A-Za-z0-9][A-Za-z0-9_:./#@-]{0,254}$",
            "^[a-z][a-z0-9-]{0,63}$",
            "^subnet-[0-9a-f]{8,17}$",
            "^Z[A-Z0-9]{1,32}$",
            "^AWSManagedRules[A-Za-z0-9]+$",
            "^[0-9]{12}$",
            r"^a\.b[^/]+$",
            "^ab$",
            "^[a-z]x{2}$",
        ] {
            assert!(
                WholeClass::parse(pattern).is_some() || Sequence::parse(pattern).is_some(),
                "{pattern} is matched without regex-lite"
            );
            the_same_as_regex_lite(pattern);
        }
        for pattern in [
            "^[a-z]*[a-z0-9]$",
            "^[a-z]{2}[0-9]+$",
            "^[a-z]+(\\.fifo)?$",
            "^[0-9]+(\\.[0-9]+)?$",
            "^a.b$",
            "^[a-z]{1,}$",
        ] {
            assert!(
                Sequence::parse(pattern).is_none(),
                "{pattern} is not a sequence"
            );
            the_same_as_regex_lite(pattern);
        }
    }

    /// The `pattern`s of the model's own schemas, which every environment's values meet.
    #[test]
    fn every_pattern_of_the_model_matches_as_regex_lite_does() {
        let mut patterns = Vec::new();
        for schema in [crate::model::env_schema(), crate::model::stacks_schema()] {
            collect_patterns(schema, &mut patterns);
        }
        assert!(patterns.len() > 10, "{patterns:?}");
        for pattern in patterns {
            the_same_as_regex_lite(&pattern);
        }
    }

    fn collect_patterns(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(pattern) = map.get("pattern").and_then(|p| p.as_str()) {
                    out.push(pattern.to_string());
                }
                map.values().for_each(|v| collect_patterns(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_patterns(v, out)),
            _ => {}
        }
    }
}

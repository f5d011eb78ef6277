//! "Did you mean …?" suggestions for misspelt keys, environment and stack names.

/// The help for a name that is not one of `candidates`: "did you mean …?" with the closest,
/// or `otherwise`; and the closest, for [`Diagnostic::suggest`].
///
/// [`Diagnostic::suggest`]: crate::diagnostic::Diagnostic::suggest
pub fn suggestion<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    otherwise: impl FnOnce() -> String,
) -> (String, Option<&'a str>) {
    match closest(input, candidates) {
        Some(c) => (format!("did you mean `{c}`?"), Some(c)),
        None => (otherwise(), None),
    }
}

/// The closest candidate to `input`, phrased as help, when one is close enough to be a typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(input, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The longest text taken for a misspelling of a name: no name of envc's or a project's is
/// near it, and comparing takes time in the product of the lengths (a 60,000-character
/// `${…}` took 12 s against a project's paths in a debug build).
const LONGEST_MISSPELLING: usize = 256;

/// The closest candidate to `input`, when it is close enough to be a typo.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if input.len() > LONGEST_MISSPELLING {
        return None;
    }
    // Near by letters in common (Jaro-Winkler) or by a few edits, like swapped letters.
    let edits_allowed = (input.chars().count() / 4).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != input)
        .map(|c| {
            (
                strsim::jaro_winkler(input, c),
                strsim::osa_distance(input, c),
                c,
            )
        })
        .filter(|(score, edits, _)| *score > 0.8 || *edits <= edits_allowed)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, _, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(
            closest("stagin", ["dev", "staging", "prod"]),
            Some("staging")
        );
        assert_eq!(
            closest("instance-clas", ["instance-class", "engine"]),
            Some("instance-class")
        );
        assert_eq!(closest("zzz", ["dev", "staging", "prod"]), None);
        assert_eq!(closest("Vcp", ["Vpc", "Gateway"]), Some("Vpc"));
        let long = format!("network.cidr{}", "x".repeat(LONGEST_MISSPELLING));
        assert_eq!(closest(&long, ["network.cidr"]), None);
    }
}

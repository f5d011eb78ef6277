//! Aurora PostgreSQL versions against what Serverless v2 needs of them: every Aurora cluster
//! envc makes is Serverless v2, which runs from a minor version of each major on, pauses at
//! 0 ACU from a later one, and scales past 128 ACU from another (`data/aws-rules.json` has
//! the tables and their sources).

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::Database;

use super::aws_rules::AuroraVersions;
use super::EnvSpans;

/// The most capacity versions before the 256 ACU table's may scale to.
const OLDER_MAX_ACU: f64 = 128.0;

pub fn check_aurora_version(
    database: &Database,
    versions: &AuroraVersions,
    at: &EnvSpans,
    out: &mut Vec<Diagnostic>,
) {
    let version = database.version.as_str();
    if !has_feature(version, versions.serverless_from, versions.offered) {
        out.push(
            at.note_inherited(
                "/database/version",
                Diagnostic::error(
                    Code::AwsRule,
                    format!("Aurora Serverless v2 does not run Aurora PostgreSQL `{version}`"),
                )
                .at(
                    at.value("/database/version"),
                    "no Serverless v2 on this version",
                )
                .help(format!(
                    "envc's Aurora clusters are Serverless v2, which runs Aurora PostgreSQL {}",
                    from_list(version, versions.serverless_from)
                )),
            ),
        );
        return;
    }
    if database.min_acu == Some(0.0) && !has_feature(version, versions.pause_from, versions.offered)
    {
        out.push(
            at.note_inherited(
                "/database/min-acu",
                Diagnostic::error(
                    Code::AwsRule,
                    format!("Aurora PostgreSQL `{version}` cannot pause at 0 ACU"),
                )
                .at(
                    at.value("/database/min-acu"),
                    "0 needs a version that can pause",
                )
                .also(at.value("/database/version"), "this version cannot")
                .help(format!(
                    "pausing at 0 ACU needs Aurora PostgreSQL {}; or set `min-acu 0.5`",
                    from_list(version, versions.pause_from)
                )),
            ),
        );
    }
    if let Some(max) = database.max_acu.filter(|max| *max > OLDER_MAX_ACU) {
        if !has_feature(version, versions.max_256_acu_from, versions.offered) {
            out.push(at.note_inherited(
                "/database/max-acu",
                Diagnostic::error(
                    Code::AwsRule,
                    format!("Aurora PostgreSQL `{version}` scales to at most {OLDER_MAX_ACU} ACU, not {max}"),
                )
                .at(at.value("/database/max-acu"), "above this version's most")
                .also(at.value("/database/version"), "this version")
                .help(format!(
                    "lower `max-acu` to {OLDER_MAX_ACU}, or use Aurora PostgreSQL {} for up to 256",
                    from_list(version, versions.max_256_acu_from)
                )),
            ));
        }
    }
}

/// Which versions have a feature: from where it starts in `version`'s major, or else "13.15,
/// 14.12, … or later".
fn from_list(version: &str, from: &BTreeMap<String, String>) -> String {
    let major = version.split('.').next().unwrap_or_default();
    if let Some(start) = from.get(major) {
        return format!("{start} or a later {major}");
    }
    let mut starts: Vec<&str> = from.values().map(String::as_str).collect();
    starts.sort_by_key(|v| parts(v));
    format!("{} or later", starts.join(", "))
}

/// Whether `version` has a feature that starts, in each major, where `from` says. A major
/// newer than the table's has it and an older one does not. A major alone (`"16"`, AWS's
/// default minor of it) has it when the feature came with that major's first version.
fn has_feature(version: &str, from: &BTreeMap<String, String>, offered: &[String]) -> bool {
    let major = version.split('.').next().unwrap_or_default();
    let Some(start) = from.get(major) else {
        let newest = from.keys().filter_map(|m| m.parse::<u32>().ok()).max();
        return matches!((major.parse::<u32>(), newest), (Ok(m), Some(n)) if m > n);
    };
    match parts(version) {
        Some(_) => parts(version) >= parts(start),
        None => first_of_major(major, offered).is_some_and(|first| parts(first) >= parts(start)),
    }
}

/// The oldest `major.minor` of `major` AWS offers.
fn first_of_major<'a>(major: &str, offered: &'a [String]) -> Option<&'a str> {
    offered
        .iter()
        .map(String::as_str)
        .filter(|v| v.split('.').next() == Some(major) && parts(v).is_some())
        .min_by_key(|v| parts(v))
}

/// `major.minor` as numbers; a major alone (or a `-limitless` build) is none.
fn parts(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[(&str, &str)]) -> BTreeMap<String, String> {
        rows.iter()
            .map(|(m, v)| (m.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_feature_starts_at_its_minor_of_each_major() {
        let pause = table(&[("15", "15.7"), ("16", "16.3"), ("17", "17.4")]);
        let offered: Vec<String> = ["15.4", "15.7", "16.1", "16.3", "17.4", "17.5"]
            .map(String::from)
            .to_vec();
        assert!(has_feature("15.10", &pause, &offered));
        assert!(!has_feature("15.4", &pause, &offered));
        assert!(!has_feature("14.12", &pause, &offered), "older major");
        assert!(has_feature("18.1", &pause, &offered), "newer major");
        assert!(has_feature("17", &pause, &offered), "every 17 pauses");
        assert!(!has_feature("16", &pause, &offered), "16.1 cannot");
        assert_eq!(from_list("14.6", &pause), "15.7, 16.3, 17.4 or later");
        assert_eq!(from_list("15.4", &pause), "15.7 or a later 15");
    }
}

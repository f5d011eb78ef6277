//! AWS regions and the partition each is in, checked offline: an environment's `region`, the
//! project's default `region` in `stacks.kdl`, and `--region` on a command that asks AWS.
//!
//! The data is `data/aws-regions.json` (it names its source and date), compiled into the
//! binary: a region outside it is refused before any request could be built for it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::Environment;
use crate::resolve::PROJECT_LAYER;

use super::EnvSpans;

#[derive(serde::Deserialize)]
struct RegionData {
    /// Partition (`aws`, `aws-cn`, `aws-us-gov`) → region code → the region's name.
    partitions: BTreeMap<String, BTreeMap<String, String>>,
}

static DATA: LazyLock<RegionData> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../../data/aws-regions.json"))
        .expect("data/aws-regions.json is valid")
});

/// The partition `region` is in (`aws`, `aws-cn` or `aws-us-gov`); `None` for no AWS region.
pub fn partition(region: &str) -> Option<&'static str> {
    DATA.partitions
        .iter()
        .find(|(_, regions)| regions.contains_key(region))
        .map(|(partition, _)| partition.as_str())
}

// `ZONES`, written by `build.rs` from `data/aws-region-types.json` (cfn-lint's zones).
include!(concat!(env!("OUT_DIR"), "/region_zones.rs"));

/// How many availability zones `region` has (what `!GetAZs` lists); `None` for a region the
/// data does not know.
pub fn zones(region: &str) -> Option<u8> {
    let at = ZONES.binary_search_by_key(&region, |(r, _)| r).ok()?;
    Some(ZONES[at].1)
}

/// The domain of AWS's endpoints in `region`'s partition (what `AWS::URLSuffix` is in a
/// template): `amazonaws.com.cn` in China, `amazonaws.com` elsewhere.
pub fn url_suffix(region: &str) -> &'static str {
    match partition(region) {
        Some("aws-cn") => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

/// The partitions envc deploys to.
pub fn partitions() -> impl Iterator<Item = &'static str> + Clone {
    DATA.partitions.keys().map(String::as_str)
}

fn all() -> impl Iterator<Item = &'static str> + Clone {
    DATA.partitions
        .values()
        .flat_map(|r| r.keys().map(String::as_str))
}

/// `region` is no AWS region: the problem (without its place), with the closest region as
/// help and fix.
pub fn unknown(region: &str) -> Diagnostic {
    let (help, suggestion) = suggestion(region, all(), || {
        "use a region code like \"us-east-1\" or \"eu-west-1\"".to_string()
    });
    Diagnostic::error(Code::NotAllowed, format!("`{region}` is not an AWS region"))
        .help(help)
        .suggest(suggestion)
}

/// The environment's `region`: given, here or in `stacks.kdl`, and an AWS region. A default
/// from `stacks.kdl` is checked there, once for the project.
pub(super) fn check_region(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    match &env.region {
        None => out.push(
            Diagnostic::error(
                Code::MissingRegion,
                format!("environment `{}` has no region", env.env),
            )
            .at(at.value(""), "in this environment")
            .help("add `region \"us-east-1\"` here, or a default `region` to stacks.kdl"),
        ),
        Some(region) if partition(region).is_none() => {
            if at
                .located("/region")
                .is_some_and(|l| &*l.env == PROJECT_LAYER)
            {
                return;
            }
            out.push(at.note_inherited(
                "/region",
                unknown(region).at(at.value("/region"), "unknown region"),
            ));
        }
        Some(_) => {}
    }
}

/// `--region` of a command that asks AWS, for an environment in `env_region`: an AWS region
/// of the environment's partition (its account is no account in another one).
pub fn check_region_argument(region: &str, env: &str, env_region: &str) -> Option<Diagnostic> {
    let Some(partition) = partition(region) else {
        let problem = unknown(region);
        return Some(Diagnostic {
            code: Code::RegionArgument,
            message: format!("`--region {region}`: `{region}` is not an AWS region"),
            ..problem
        });
    };
    let env_partition = self::partition(env_region).unwrap_or(partition);
    (partition != env_partition).then(|| {
        Diagnostic::error(
            Code::RegionArgument,
            format!(
                "`--region {region}` is in partition `{partition}`, but `{env}` is in `{env_partition}` ({env_region})"
            ),
        )
        .help(format!(
            "an account lives in one partition: give a region of `{env_partition}`, or leave out `--region` to use {env_region}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_counted_per_region() {
        assert_eq!(zones("us-east-1"), Some(6));
        assert_eq!(zones("us-west-1"), Some(2));
        assert_eq!(zones("eu-west-3"), Some(3));
        assert_eq!(zones("xx-nowhere-1"), None);
        // Every region envc takes has its zones counted.
        assert!(
            all().all(|region| zones(region).is_some()),
            "a region without zones"
        );
    }

    #[test]
    fn endpoints_of_china_are_under_their_own_domain() {
        assert_eq!(url_suffix("cn-north-1"), "amazonaws.com.cn");
        assert_eq!(url_suffix("cn-northwest-1"), "amazonaws.com.cn");
        assert_eq!(url_suffix("us-gov-west-1"), "amazonaws.com");
        assert_eq!(url_suffix("eu-west-1"), "amazonaws.com");
        // Every partition the data holds has its domain here.
        assert_eq!(
            partitions().collect::<Vec<_>>(),
            ["aws", "aws-cn", "aws-us-gov"]
        );
    }

    #[test]
    fn every_region_has_one_partition() {
        assert_eq!(partition("us-east-1"), Some("aws"));
        assert_eq!(partition("mx-central-1"), Some("aws"));
        assert_eq!(partition("cn-northwest-1"), Some("aws-cn"));
        assert_eq!(partition("us-gov-east-1"), Some("aws-us-gov"));
        assert_eq!(partition("us-east1"), None);
        assert_eq!(partition("aws-global"), None);
        let mut seen = std::collections::HashSet::new();
        assert!(all().all(|r| seen.insert(r)));
    }

    #[test]
    fn region_argument_is_a_region_of_the_environments_partition() {
        assert!(check_region_argument("eu-west-1", "dev", "us-east-1").is_none());
        let typo = check_region_argument("us-east1", "dev", "us-east-1").unwrap();
        assert_eq!(typo.code, Code::RegionArgument);
        assert_eq!(typo.suggestion.as_deref(), Some("us-east-1"));
        let china = check_region_argument("cn-north-1", "dev", "us-east-1").unwrap();
        assert!(china.message.contains("`aws-cn`"), "{}", china.message);
    }
}

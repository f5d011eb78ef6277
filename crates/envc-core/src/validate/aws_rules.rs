//! AWS's own rules, checked offline: Lambda runtimes and their deprecation, RDS and Aurora
//! engine versions (and, in [`super::aurora`], what Aurora Serverless v2 needs of them), and
//! a Lambda consumer's timeout against its queue's visibility timeout.
//!
//! The data is `data/aws-rules.json`, written by `scripts/aws-rules.py` from cfn-lint's data
//! (it names its source and date), and compiled into the binary.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::{Engine, Environment, WorkerRuntime};
use crate::resolve::path;

use super::EnvSpans;

#[derive(serde::Deserialize)]
struct AwsRules {
    date: String,
    lambda_runtimes: BTreeMap<String, Runtime>,
    engines: BTreeMap<String, EngineVersions>,
    aurora_postgresql_serverless_from: BTreeMap<String, String>,
    aurora_postgresql_pause_from: BTreeMap<String, String>,
    aurora_postgresql_256_acu_from: BTreeMap<String, String>,
    /// Read here once for [`crate::rules`], which checks rendered names against them.
    physical_names: BTreeMap<String, NameRule>,
}

/// Where AWS wants a name unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// An account and region.
    Region,
    /// Every region of an account.
    Account,
    /// Every account.
    Global,
    /// Not by name alone (an ECS service is unique in its cluster).
    None,
}

/// How AWS names one resource type.
#[derive(Debug, serde::Deserialize)]
pub struct NameRule {
    /// The property under `Properties` that holds the name (a dotted path).
    pub property: String,
    pub scope: Scope,
    /// Whether AWS compares names without case (IAM, RDS).
    pub case_insensitive: bool,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub source: String,
}

/// How AWS names each resource type it has a rule for, by type.
pub fn name_rules() -> &'static BTreeMap<String, NameRule> {
    &RULES.physical_names
}

#[derive(serde::Deserialize)]
struct Runtime {
    deprecated: String,
    create_blocked: String,
    successor: Option<String>,
}

#[derive(serde::Deserialize)]
struct EngineVersions {
    versions: Vec<String>,
    deprecated: Vec<String>,
}

static RULES: LazyLock<AwsRules> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../../data/aws-rules.json"))
        .expect("data/aws-rules.json is valid")
});

/// Today as `YYYY-MM-DD` (UTC), to compare with the data's dates.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

pub fn check_aws_rules(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let today = today();
    check_runtimes(env, at, &today, out);
    check_engine_version(env, at, out);
    check_visibility(env, at, out);
    check_certificate(env, at, out);
    check_own_secrets(env, at, out);
    check_waf_rules(env, at, out);
}

/// AWS's managed rule groups that need no configuration of their own, with the web ACL
/// capacity units (WCU) each takes (AWS WAF Developer Guide, "AWS Managed Rules rule groups
/// list", 2026-11). Bot Control, ATP, ACFP and anti-DDoS need settings envc does not have.
const WAF_MANAGED_RULES: &[(&str, u32)] = &[
    ("AWSManagedRulesCommonRuleSet", 700),
    ("AWSManagedRulesAdminProtectionRuleSet", 100),
    ("AWSManagedRulesKnownBadInputsRuleSet", 200),
    ("AWSManagedRulesSQLiRuleSet", 200),
    ("AWSManagedRulesLinuxRuleSet", 200),
    ("AWSManagedRulesUnixRuleSet", 100),
    ("AWSManagedRulesWindowsRuleSet", 200),
    ("AWSManagedRulesPHPRuleSet", 100),
    ("AWSManagedRulesWordPressRuleSet", 100),
    ("AWSManagedRulesAmazonIpReputationList", 25),
    ("AWSManagedRulesAnonymousIpList", 50),
];

/// The web ACL capacity AWS's base price includes; the rate-based rule takes 2 WCU.
const WAF_INCLUDED_CAPACITY: u32 = 1500;

/// `waf { managed-rules }`: groups AWS offers without configuration, each once; above the
/// capacity AWS's price includes is a warning.
fn check_waf_rules(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let Some(waf) = &env.waf else {
        return;
    };
    let mut capacity = 2;
    for (i, group) in waf.managed_rules.iter().enumerate() {
        let pointer = format!("/waf/managed-rules/{i}");
        if waf.managed_rules[..i].contains(group) {
            out.push(
                Diagnostic::error(Code::AwsRule, format!("`{group}` is listed twice"))
                    .at(at.value(&pointer), "again")
                    .help("WAF refuses two rules of one name; list each rule group once"),
            );
            continue;
        }
        match WAF_MANAGED_RULES.iter().find(|(name, _)| name == group) {
            Some((_, units)) => capacity += units,
            None => {
                let known = WAF_MANAGED_RULES.iter().map(|(n, _)| *n);
                let (help, suggestion) = suggestion(group, known.clone(), || {
                    format!("groups are: {}", known.collect::<Vec<_>>().join(", "))
                });
                out.push(
                    Diagnostic::error(
                        Code::AwsRule,
                        format!("`{group}` is not an AWS managed rule group envc can apply"),
                    )
                    .at(at.value(&pointer), "unknown rule group")
                    .help(help)
                    .suggest(suggestion),
                );
            }
        }
    }
    if capacity > WAF_INCLUDED_CAPACITY {
        out.push(
            Diagnostic::warning(
                Code::AwsRule,
                format!(
                    "these rule groups take {capacity} WCU; AWS charges extra above {WAF_INCLUDED_CAPACITY}"
                ),
            )
            .at(at.value("/waf/managed-rules"), "over the web ACL's included capacity")
            .help("each 500 WCU above 1,500 adds a charge per request; leave out a rule group to stay within it"),
        );
    }
}

/// The keys of the database credentials secret: generated (`username`, `password`) and
/// added by the secret's attachment to the database.
const DATABASE_SECRET_KEYS: &[&str] = &[
    "username",
    "password",
    "engine",
    "host",
    "port",
    "dbClusterIdentifier",
    "dbInstanceIdentifier",
];

/// A secret reference to one of the project's own secrets (the database credentials, the
/// config secret) must name it exactly, and a key it has.
fn check_own_secrets(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let database_secret = format!("{}-{}/database", env.project, at.env);
    let mut own: Vec<String> = Vec::new();
    if env.database.is_some() {
        own.push(database_secret.clone());
    }
    own.extend(env.config_secret.clone());
    let references = env
        .service
        .iter()
        .map(|(name, s)| (path::pointer(&["service", name]), &s.secret))
        .chain(
            env.worker
                .iter()
                .map(|(name, w)| (path::pointer(&["worker", name]), &w.secret)),
        );
    for (base, secrets) in references {
        for (variable, reference) in secrets {
            let Some(from) = reference.from.as_deref() else {
                continue;
            };
            let pointer = format!("{base}{}", path::pointer(&["secret", variable]));
            // A name close to one the project creates is a typo of it; other names are
            // secrets made outside envc.
            if !own.iter().any(|o| o == from) {
                let typo_of = own.iter().find(|o| strsim::levenshtein(o, from) <= 2);
                if let Some(meant) = typo_of {
                    let help = format!("did you mean `{meant}`?");
                    out.push(at.note_inherited(
                        &format!("{pointer}/from"),
                        Diagnostic::error(
                            Code::AwsRule,
                            format!("`{variable}` reads secret `{from}`, which the project does not create"),
                        )
                        .at(at.value(&format!("{pointer}/from")), "not one of the project's secrets")
                        .help(help),
                    ));
                }
                continue;
            }
            let Some(key) = reference.key.as_deref() else {
                continue;
            };
            if from == database_secret && !DATABASE_SECRET_KEYS.contains(&key) {
                let (help, suggestion) =
                    suggestion(key, DATABASE_SECRET_KEYS.iter().copied(), || {
                        format!("its keys are: {}", DATABASE_SECRET_KEYS.join(", "))
                    });
                out.push(
                    at.note_inherited(
                        &format!("{pointer}/key"),
                        Diagnostic::error(
                            Code::AwsRule,
                            format!("the database secret `{from}` has no key `{key}`"),
                        )
                        .at(at.value(&format!("{pointer}/key")), "no such key")
                        .help(help)
                        .suggest(suggestion),
                    ),
                );
            }
        }
    }
}

/// An existing certificate for the load balancer must be in the environment's account and,
/// from ACM, its region: an ALB listener takes no certificate from elsewhere.
fn check_certificate(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let Some(arn) = env.dns.as_ref().and_then(|d| d.certificate_arn.as_deref()) else {
        return;
    };
    let pointer = "/dns/certificate-arn";
    // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, region, account, _] = parts.as_slice() else {
        return;
    };
    if *account != env.account {
        out.push(at.note_inherited(
            pointer,
            Diagnostic::error(
                Code::AwsRule,
                format!("the certificate is in account {account}, not the environment's ({})", env.account),
            )
            .at(at.value(pointer), "another account's certificate")
            .help("a load balancer uses certificates of its own account; import or request the certificate there"),
        ));
    }
    let env_region = env.region.as_deref().unwrap_or_default();
    if *service == "acm" && !env_region.is_empty() && *region != env_region {
        out.push(at.note_inherited(
            pointer,
            Diagnostic::error(
                Code::AwsRule,
                format!("the certificate is in {region}, not the environment's region ({env_region})"),
            )
            .at(at.value(pointer), "another region's certificate")
            .help(format!("a load balancer uses ACM certificates of its own region; request one in {env_region}")),
        ));
    }
}

fn check_runtimes(env: &Environment, at: &EnvSpans, today: &str, out: &mut Vec<Diagnostic>) {
    let rules = &*RULES;
    for (name, worker) in &env.worker {
        if worker.runtime != WorkerRuntime::Lambda {
            continue;
        }
        let pointer = path::pointer(&["worker", name, "lambda-runtime"]);
        let runtime = worker.lambda_runtime.as_str();
        let Some(known) = rules.lambda_runtimes.get(runtime) else {
            let supported = rules
                .lambda_runtimes
                .iter()
                .filter(|(_, r)| r.deprecated.as_str() > today)
                .map(|(n, _)| n.as_str());
            let (help, suggestion) = suggestion(runtime, supported.clone(), || {
                format!(
                    "Lambda runtimes are: {}",
                    supported.collect::<Vec<_>>().join(", ")
                )
            });
            out.push(
                at.note_inherited(
                    &pointer,
                    Diagnostic::error(
                        Code::AwsRule,
                        format!("`{runtime}` is not a Lambda runtime"),
                    )
                    .at(at.value(&pointer), "unknown runtime")
                    .help(help)
                    .suggest(suggestion),
                ),
            );
            continue;
        };
        if known.deprecated.as_str() > today {
            continue;
        }
        let successor = known
            .successor
            .as_deref()
            .map(|s| format!("; move to `{s}`"))
            .unwrap_or_default();
        let blocked = known.create_blocked.as_str() <= today;
        let (diagnostic, why) = if blocked {
            (
                Diagnostic::error as fn(Code, String) -> Diagnostic,
                format!(
                    "AWS has refused new functions on it since {}",
                    known.create_blocked
                ),
            )
        } else {
            (
                Diagnostic::warning as fn(Code, String) -> Diagnostic,
                format!(
                    "AWS stops creating functions on it on {}",
                    known.create_blocked
                ),
            )
        };
        out.push(at.note_inherited(
            &pointer,
            diagnostic(
                Code::AwsRule,
                format!(
                    "Lambda runtime `{runtime}` is deprecated since {}",
                    known.deprecated
                ),
            )
            .at(at.value(&pointer), why)
            .help(format!(
                "set `lambda-runtime` to a supported runtime{successor} (AWS's runtime table as of {})",
                rules.date
            )),
        ));
    }
}

fn check_engine_version(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let Some(database) = &env.database else {
        return;
    };
    let engine = match database.engine {
        Engine::Postgres => "postgres",
        Engine::AuroraPostgresql => "aurora-postgresql",
    };
    let Some(versions) = RULES.engines.get(engine) else {
        return;
    };
    let version = database.version.as_str();
    let pointer = "/database/version";
    let major = version.split('.').next().unwrap_or_default();
    if !versions.versions.iter().any(|v| v == version) {
        out.push(
            at.note_inherited(
                pointer,
                Diagnostic::error(
                    Code::AwsRule,
                    format!("AWS has no {engine} version `{version}`"),
                )
                .at(at.value(pointer), "not an engine version")
                .help(version_to_use(versions, engine, major)),
            ),
        );
        return;
    }
    if versions.deprecated.iter().any(|v| v == version) {
        out.push(at.note_inherited(
            pointer,
            Diagnostic::error(
                Code::AwsRule,
                format!("{engine} version `{version}` is deprecated: AWS no longer creates databases on it"),
            )
            .at(at.value(pointer), "deprecated")
            .help(version_to_use(versions, engine, major)),
        ));
        return;
    }
    if database.engine == Engine::AuroraPostgresql {
        super::aurora::check_aurora_version(
            database,
            &aurora_versions(&versions.versions),
            at,
            out,
        );
    }
}

/// What to use instead of a version AWS does not offer (or no longer does): the newest of
/// its major, or else the newest AWS offers. Worked out only for a version that needs it
/// (the lists are long).
fn version_to_use(versions: &EngineVersions, engine: &str, major: &str) -> String {
    let current: Vec<&str> = versions
        .versions
        .iter()
        .filter(|v| !versions.deprecated.contains(v) && !v.contains('-'))
        .map(String::as_str)
        .collect();
    let newest_of_major = current
        .iter()
        .rev()
        .find(|v| v.split('.').next() == Some(major) && v.contains('.'))
        .copied();
    newest_of_major
        .map(|v| format!("use `version \"{v}\"`, the newest {engine} {major} AWS offers"))
        .unwrap_or_else(|| {
            let newest: Vec<&str> = current.iter().rev().take(3).copied().collect();
            format!("versions AWS offers include {}", newest.join(", "))
        })
}

/// From which minor version of each major Aurora PostgreSQL does what Serverless v2 needs.
pub struct AuroraVersions {
    /// Every version AWS offers.
    pub offered: &'static [String],
    pub serverless_from: &'static BTreeMap<String, String>,
    pub pause_from: &'static BTreeMap<String, String>,
    pub max_256_acu_from: &'static BTreeMap<String, String>,
}

fn aurora_versions(offered: &'static [String]) -> AuroraVersions {
    AuroraVersions {
        offered,
        serverless_from: &RULES.aurora_postgresql_serverless_from,
        pause_from: &RULES.aurora_postgresql_pause_from,
        max_256_acu_from: &RULES.aurora_postgresql_256_acu_from,
    }
}

/// A Lambda consumer's timeout must fit in its queue's visibility timeout, or AWS refuses
/// the event source mapping; AWS advises six times the timeout, so a retried batch is not
/// delivered twice while the first is still running.
fn check_visibility(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    for (name, worker) in &env.worker {
        if worker.runtime != WorkerRuntime::Lambda {
            continue;
        }
        let Some(queue) = env.queue.get(&worker.queue) else {
            continue;
        };
        // The worker template's default timeout.
        let timeout = worker.timeout.unwrap_or(60);
        let visibility = queue.visibility_timeout;
        let timeout_pointer = path::pointer(&["worker", name, "timeout"]);
        let visibility_pointer = path::pointer(&["queue", &worker.queue, "visibility-timeout"]);
        let visibility_span = if at.spans.contains(&visibility_pointer) {
            at.value(&visibility_pointer)
        } else {
            at.key(&path::pointer(&["queue", &worker.queue]))
        };
        let timeout_span = if at.spans.contains(&timeout_pointer) {
            at.value(&timeout_pointer)
        } else {
            at.key(&path::pointer(&["worker", name]))
        };
        if timeout > visibility {
            out.push(at.note_inherited(
                &timeout_pointer,
                Diagnostic::error(
                    Code::AwsRule,
                    format!("worker `{name}` runs up to {timeout} s, longer than queue `{}` hides a message ({visibility} s)", worker.queue),
                )
                .at(timeout_span, "the function's timeout")
                .also(visibility_span, "the queue's visibility timeout")
                .help(format!("AWS refuses an SQS trigger whose queue's visibility timeout is shorter than the function's; set `visibility-timeout={}` or more (AWS advises six times the timeout)", timeout * 6)),
            ));
        } else if visibility < timeout * 6 {
            out.push(at.note_inherited(
                &visibility_pointer,
                Diagnostic::warning(
                    Code::AwsRule,
                    format!("queue `{}` hides a message for {visibility} s, under six times worker `{name}`'s timeout ({timeout} s)", worker.queue),
                )
                .at(visibility_span, "the queue's visibility timeout")
                .also(timeout_span, "the function's timeout")
                .help(format!("AWS advises a visibility timeout of six times the function's timeout, so a retried batch is not delivered again while it runs: `visibility-timeout={}`", timeout * 6)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_names_its_source_and_knows_current_releases() {
        let source: serde_json::Value =
            serde_json::from_str(include_str!("../../../../data/aws-rules.json")).unwrap();
        assert!(source["source"].as_str().unwrap().contains("cfn-lint"));
        assert!(RULES.lambda_runtimes.contains_key("nodejs24.x"));
        assert!(RULES.engines["postgres"]
            .versions
            .iter()
            .any(|v| v == "16.6"));
        assert!(RULES.engines["postgres"]
            .deprecated
            .iter()
            .any(|v| v == "15"));
    }

    #[test]
    fn today_is_a_date() {
        let today = today();
        assert_eq!(today.len(), 10);
        assert!(today.as_str() > "2025-01-01", "{today}");
    }
}

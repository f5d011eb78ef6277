//! Domains and hosted zones across environments: two environments never serve the same name
//! (each creates its own records and certificate for it, and the second deploy would take the
//! first's), and a zone is created once per account and lent to the others.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::did_you_mean;
use crate::source::Span;

use super::ValidEnv;

pub fn check_shared_domains(envs: &[&ValidEnv], out: &mut Vec<Diagnostic>) {
    // Environments by domain, in their order: only those of one domain are compared.
    // Keyed as DNS compares names: `API.example.com` is `api.example.com`.
    let mut by_domain: BTreeMap<String, Vec<&ValidEnv>> = BTreeMap::new();
    for env in envs {
        if let Some(domain) = env.model.domain.as_deref() {
            by_domain.entry(zone_key(domain)).or_default().push(env);
        }
    }
    for (domain, serving) in by_domain.iter().filter(|(_, s)| s.len() > 1) {
        for (i, a) in serving.iter().enumerate() {
            for b in &serving[i + 1..] {
                report_shared_domain(domain, a, b, out);
            }
        }
    }
}

/// Two environments (`a` first in their order) that serve one domain.
fn report_shared_domain(domain: &str, a: &ValidEnv, b: &ValidEnv, out: &mut Vec<Diagnostic>) {
    let (Some(a_span), Some(b_span)) = (
        a.spans.nearest("/domain").map(|l| l.value),
        b.spans.nearest("/domain").map(|l| l.value),
    ) else {
        return;
    };
    let diagnostic = Diagnostic::error(
        Code::Domain,
        format!("`{}` and `{}` both serve `{domain}`", a.name, b.name),
    );
    out.push(if a_span == b_span {
        // One line sets both: the one that inherits it should set its own.
        let child = if a_span.file == a.file { &b.name } else { &a.name };
        diagnostic
            .at(a_span, format!("inherited by both `{}` and `{}`", a.name, b.name))
            .concerns_heir(&a.name)
            .concerns_heir(&b.name)
            .help(format!(
                "give `{child}` its own `domain \"…\"`, or write the name with `${{env}}` so each environment gets its own"
            ))
    } else {
        diagnostic
            .at(b_span, format!("`{}` serves {domain}", b.name))
            .also(a_span, format!("`{}` serves it too", a.name))
            .help("each environment needs a domain of its own")
    });
}

/// Where an environment's hosted zone comes from.
enum ZoneSource<'a> {
    /// An existing zone, by `zone-id`.
    Existing,
    /// This environment's `dns` stack creates it.
    Created,
    /// Imported from the environment that creates it.
    Owner(&'a str),
}

fn zone_source(env: &ValidEnv) -> Option<ZoneSource<'_>> {
    let dns = env.model.dns.as_ref()?;
    Some(match (&dns.zone_id, dns.zone_owner.as_deref()) {
        (Some(_), _) => ZoneSource::Existing,
        (None, Some(owner)) if owner != env.name => ZoneSource::Owner(owner),
        (None, _) => ZoneSource::Created,
    })
}

/// A zone name as Route 53 compares it: case-insensitive, without the final dot.
fn zone_key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Hosted zones across environments, as Route 53 and CloudFormation allow them: `domain` is
/// inside its zone, one environment of an account creates a zone and the others import it
/// through `zone-owner`, which must name an environment that can export it to them (same
/// account and region, same zone). `creates_zones`: the project has a `dns` stack. Returns
/// the environments whose zone cannot be had, which are not to be rendered.
pub fn check_zones(
    envs: &[&ValidEnv],
    declared: &BTreeMap<String, Option<bool>>,
    creates_zones: bool,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut without_zone = Vec::new();
    for env in envs {
        check_domain_in_zone(env, out);
        check_one_zone_source(env, out);
        if creates_zones {
            check_certificate_domain(env, out);
            if !check_zone_named(env, out) {
                without_zone.push(env.name.clone());
                continue;
            }
        }
        if let Some(ZoneSource::Owner(owner)) = zone_source(env) {
            if check_owner(env, owner, envs, declared, out) {
                without_zone.push(env.name.clone());
            }
        }
    }
    if creates_zones {
        check_created_once(envs, out);
    }
    without_zone
}

fn check_domain_in_zone(env: &ValidEnv, out: &mut Vec<Diagnostic>) {
    let (Some(domain), Some(zone)) = (
        env.model.domain.as_deref(),
        env.model.dns.as_ref().and_then(|d| d.zone_name.as_deref()),
    ) else {
        return;
    };
    let (domain_key, zone) = (zone_key(domain), zone_key(zone));
    if domain_key == zone || domain_key.ends_with(&format!(".{zone}")) {
        return;
    }
    let (Some(domain_at), Some(zone_at)) = (
        env.spans.nearest("/domain").map(|l| l.value),
        env.spans.nearest("/dns/zone-name").map(|l| l.value),
    ) else {
        return;
    };
    out.push(
        Diagnostic::error(
            Code::Domain,
            format!(
                "`{}` serves `{domain}`, which is not in the zone `{zone}`",
                env.name
            ),
        )
        .at(domain_at, "not under the zone")
        .also(zone_at, "the zone")
        .concerns_heir(&env.name)
        .help(format!(
            "a certificate and records for `{domain}` can only be made in a zone that holds it: \
             use a name ending in `.{zone}`, or the zone of `{domain}`"
        )),
    );
}

/// Whether the zone this environment's `dns` stack creates has a name: without `dns { zone-name }`
/// (or `zone-id`, or `zone-owner`) the stack would create `AWS::Route53::HostedZone` without
/// its required `Name`, which CloudFormation refuses.
fn check_zone_named(env: &ValidEnv, out: &mut Vec<Diagnostic>) -> bool {
    if env.model.domain.is_none() {
        // Without a domain the `dns` stack is not rendered.
        return true;
    }
    let named = match zone_source(env) {
        Some(ZoneSource::Created) => env
            .model
            .dns
            .as_ref()
            .is_some_and(|d| d.zone_name.is_some()),
        Some(_) => true,
        None => false,
    };
    if named {
        return true;
    }
    let (at, label) = match env.spans.get("/dns") {
        Some(dns) => (dns, "no `zone-name`"),
        None => match env.spans.nearest("/domain") {
            Some(domain) => (domain, "served from a zone without a name (no `dns` block)"),
            None => return true,
        },
    };
    out.push(
        Diagnostic::error(
            Code::DnsZone,
            format!("`{}` creates a hosted zone without a name", env.name),
        )
        .at(at.value, label)
        .concerns_heir(&env.name)
        .help(
            "the project's `dns` stack creates the environment's zone: give its name, like \
             `dns { zone-name \"example.com\" }`, or `zone-id \"Z…\"` of an existing zone, or \
             `zone-owner` for another environment's",
        ),
    );
    false
}

/// `zone-id` (an existing zone) and `zone-owner` (another environment's) are two sources of
/// the zone: one is taken and the other silently dropped.
fn check_one_zone_source(env: &ValidEnv, out: &mut Vec<Diagnostic>) {
    let Some(dns) = env.model.dns.as_ref() else {
        return;
    };
    let (Some(_), Some(owner)) = (&dns.zone_id, dns.zone_owner.as_deref()) else {
        return;
    };
    if owner == env.name {
        return;
    }
    let (Some(id_at), Some(owner_at)) = (
        env.spans.nearest("/dns/zone-id"),
        env.spans.nearest("/dns/zone-owner"),
    ) else {
        return;
    };
    out.push(
        Diagnostic::error(
            Code::DnsZone,
            format!("`{}` takes its zone both by id and from `{owner}`", env.name),
        )
        .at(id_at.value, "an existing zone")
        .also(owner_at.value, "another environment's zone")
        .concerns_heir(&env.name)
        .help("give one of `zone-id` and `zone-owner`; in a child, `(remove)zone-owner` drops the inherited one"),
    );
}

/// The longest name ACM takes as a certificate's domain name (its common name), dots included.
const MAX_CERTIFICATE_DOMAIN: usize = 64;

/// A certificate the `dns` stack requests is for `domain`, which ACM takes up to 64
/// characters long (`RequestCertificate`'s `DomainName`).
fn check_certificate_domain(env: &ValidEnv, out: &mut Vec<Diagnostic>) {
    let Some(domain) = env.model.domain.as_deref() else {
        return;
    };
    let requested = env
        .model
        .dns
        .as_ref()
        .is_none_or(|d| d.certificate_arn.is_none());
    let length = domain.chars().count();
    if !requested || length <= MAX_CERTIFICATE_DOMAIN {
        return;
    }
    let Some(domain_at) = env.spans.nearest("/domain") else {
        return;
    };
    out.push(
        Diagnostic::error(
            Code::Domain,
            format!(
                "`{}` serves `{domain}`, {length} characters, and ACM issues certificates for names of at most {MAX_CERTIFICATE_DOMAIN}",
                env.name
            ),
        )
        .at(domain_at.value, "the certificate's name")
        .concerns_heir(&env.name)
        .help(
            "shorten the name (a shorter environment name, or fewer labels), or give `dns { certificate-arn }` \
             of a certificate whose names cover it",
        ),
    );
}

/// Whether `zone-owner` cannot lend this environment its zone (reported into `out`).
fn check_owner(
    env: &ValidEnv,
    owner: &str,
    envs: &[&ValidEnv],
    declared: &BTreeMap<String, Option<bool>>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let Some(owner_located) = env.spans.nearest("/dns/zone-owner") else {
        return false;
    };
    let at = ZoneOwnerAt {
        span: owner_located.value,
        inherited: *owner_located.env != *env.name,
        env: &env.name,
    };
    if let Some(problem) = undeployed_owner(owner, declared, &at) {
        out.push(problem);
        return true;
    }
    // The owner's own settings are known only when it is validated in this run.
    let Some(lender) = envs.iter().find(|e| e.name == owner) else {
        return false;
    };
    match lender_problem(env, owner, lender, &at) {
        Some(problem) => {
            out.push(problem);
            true
        }
        None => false,
    }
}

/// Where an environment's `zone-owner` is set, and whether it inherits it.
struct ZoneOwnerAt<'a> {
    span: Span,
    inherited: bool,
    env: &'a str,
}

impl ZoneOwnerAt<'_> {
    /// A problem with the `zone-owner`, at its value.
    fn problem(&self, message: String, label: &str, help: String) -> Diagnostic {
        let diagnostic = Diagnostic::error(Code::DnsZone, message)
            .at(self.span, label)
            .help(help);
        if self.inherited {
            diagnostic.inherited_by(self.env)
        } else {
            diagnostic
        }
    }
}

/// A `zone-owner` that is no environment, or an abstract one: it deploys no zone.
fn undeployed_owner(
    owner: &str,
    declared: &BTreeMap<String, Option<bool>>,
    at: &ZoneOwnerAt,
) -> Option<Diagnostic> {
    match declared.get(owner) {
        None => {
            let help =
                did_you_mean(owner, declared.keys().map(String::as_str)).unwrap_or_else(|| {
                    "name the environment whose `dns` stack creates the zone".into()
                });
            Some(at.problem(
                format!("`zone-owner` is `{owner}`, which is not an environment"),
                "no such environment",
                help,
            ))
        }
        Some(Some(true)) => Some(at.problem(
            format!("`zone-owner` is `{owner}`, an abstract environment"),
            "never deployed, so it creates no zone",
            "name a deployed environment, the one whose `dns` stack creates the zone".into(),
        )),
        Some(_) => None,
    }
}

/// Why `lender` cannot lend `env` its zone, if it cannot: it imports the zone itself, or it
/// is in another account or region, or its zone is another.
fn lender_problem(
    env: &ValidEnv,
    owner: &str,
    lender: &ValidEnv,
    at: &ZoneOwnerAt,
) -> Option<Diagnostic> {
    if let Some(ZoneSource::Owner(next)) = zone_source(lender) {
        return Some(at.problem(
            format!("`{owner}` does not create its zone: it imports it from `{next}`"),
            "not the zone's owner",
            format!("name `{next}`, the environment that creates the zone"),
        ));
    }
    let region = |e: &ValidEnv| e.model.region.clone().unwrap_or_default();
    let zone = |e: &ValidEnv| {
        e.model
            .dns
            .as_ref()
            .and_then(|d| d.zone_name.as_deref())
            .map(zone_key)
    };
    if lender.model.account != env.model.account {
        Some(at.problem(
            format!(
                "`{}` (account {}) cannot import the zone of `{owner}` (account {})",
                env.name, env.model.account, lender.model.account
            ),
            "in another account",
            format!(
                "CloudFormation exports stay in their account: give `zone-id \"Z…\"` of the zone, \
                 or create a zone for a name of `{}`'s own",
                env.name
            ),
        ))
    } else if region(lender) != region(env) {
        Some(
            at.problem(
                format!(
                    "`{}` ({}) cannot import the zone of `{owner}` ({})",
                    env.name,
                    region(env),
                    region(lender)
                ),
                "in another region",
                "CloudFormation exports stay in their region, though the zone serves all of them: \
             give `zone-id \"Z…\"` of the zone instead"
                    .into(),
            ),
        )
    } else if zone(lender) != zone(env) {
        Some(at.problem(
            format!(
                "`{owner}` has the zone `{}`, and `{}` wants `{}`",
                zone(lender).unwrap_or_else(|| "(none)".into()),
                env.name,
                zone(env).unwrap_or_else(|| "(none)".into())
            ),
            "a different zone",
            "name the environment that creates this zone, or use the same `zone-name`".into(),
        ))
    } else {
        None
    }
}

/// One environment of an account creates a zone of a name; more are one diagnostic per zone.
fn check_created_once(envs: &[&ValidEnv], out: &mut Vec<Diagnostic>) {
    let mut creators: BTreeMap<(String, String), Vec<(&ValidEnv, Span)>> = BTreeMap::new();
    for env in envs {
        if !matches!(zone_source(env), Some(ZoneSource::Created)) {
            continue;
        }
        let (Some(zone), Some(at)) = (
            env.model.dns.as_ref().and_then(|d| d.zone_name.as_deref()),
            env.spans.nearest("/dns/zone-name").map(|l| l.value),
        ) else {
            continue;
        };
        let key = (env.model.account.clone(), zone_key(zone));
        creators.entry(key).or_default().push((env, at));
    }
    for ((account, zone), group) in creators {
        if group.len() < 2 {
            continue;
        }
        let names: Vec<String> = group.iter().map(|(e, _)| format!("`{}`", e.name)).collect();
        // The longest-lived environment is the natural owner: a protected one if there is one.
        let owner = group
            .iter()
            .find(|(e, _)| e.model.protected)
            .unwrap_or(&group[0])
            .0
            .name
            .as_str();
        let mut diagnostic = Diagnostic::error(
            Code::DnsZone,
            format!(
                "{} {} create the hosted zone `{zone}` in account {account}",
                and_list(&names),
                if names.len() == 2 { "both" } else { "all" }
            ),
        );
        let mut spans: Vec<Span> = Vec::new();
        for (_, at) in &group {
            if !spans.contains(at) {
                spans.push(*at);
            }
        }
        let shared = spans.len() == 1;
        for (i, at) in spans.into_iter().enumerate() {
            let here: Vec<String> = group
                .iter()
                .filter(|(_, a)| *a == at)
                .map(|(e, _)| format!("`{}`", e.name))
                .collect();
            let text = if here.len() == 1 {
                format!("{} creates it", here[0])
            } else {
                format!("inherited by {}", and_list(&here))
            };
            if here.len() > 1 {
                for (env, _) in group.iter().filter(|(_, a)| *a == at) {
                    diagnostic = diagnostic.concerns_heir(&env.name);
                }
            }
            diagnostic = if i == 0 {
                diagnostic.at(at, text)
            } else {
                diagnostic.also(at, text)
            };
        }
        let place = if shared {
            "in the `dns` block they share"
        } else {
            "in the others' `dns` blocks"
        };
        out.push(diagnostic.help(format!(
            "a registrar delegates a name to one zone, so certificates validated in the others \
             never issue: let one environment create it, with `zone-owner \"{owner}\"` {place}, \
             or use `zone-id \"Z…\"` of an existing zone"
        )));
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

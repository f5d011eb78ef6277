//! Network rules: VPC CIDR syntax and size, new-or-existing VPC, NAT count, region, domain,
//! and CIDR overlap between environments sharing an account and region.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Cidr, Environment, Network};

use super::{EnvSpans, ValidEnv};

pub fn check_network(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let network = &env.network;
    if network.ssm_path.is_some() {
        let sources = vpc_sources(network);
        if sources.len() > 1 {
            out.push(at.note_inherited(
                "/network/ssm-path",
                Diagnostic::error(Code::NetworkSource, format!("`network` has {}", sources.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" and ")))
                    .at(at.key("/network/ssm-path"), "an existing VPC from SSM")
                    .help("give exactly one of `cidr` (a new VPC), `vpc-id` or `ssm-path` (an existing one); in a child, `(remove)cidr` drops the inherited one"),
            ));
        }
        check_existing_vpc(env, at, out);
        return check_region_and_domain(env, at, out);
    }
    if network.vpc_id.is_some() && network.cidr.is_none() {
        check_existing_vpc(env, at, out);
    }
    if network.cidr.is_some() && !network.private_route_table_ids.is_empty() {
        out.push(at.note_inherited(
            "/network/private-route-table-ids",
            Diagnostic::error(
                Code::NetworkSource,
                "`private-route-table-ids` is for an existing VPC; envc makes the route tables of a new one",
            )
            .at(at.key("/network/private-route-table-ids"), "not used with `cidr`")
            .help("remove it"),
        ));
    }
    check_vpc_source(env, at, out);
    check_nat_gateways(network, at, out);
    check_zones(env, at, out);

    check_region_and_domain(env, at, out);
}

/// Which of the ways to name a VPC (`cidr`, `vpc-id`, `ssm-path`) `network` uses.
fn vpc_sources(network: &Network) -> Vec<&'static str> {
    [
        ("cidr", network.cidr.is_some()),
        ("vpc-id", network.vpc_id.is_some()),
        ("ssm-path", network.ssm_path.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect()
}

/// A network without `ssm-path` has one of `cidr` (a new VPC) and `vpc-id` (an existing one,
/// with its private subnets).
fn check_vpc_source(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let network = &env.network;
    match (&network.cidr, &network.vpc_id) {
        (Some(_), Some(_)) => out.push(at.note_inherited(
            "/network/vpc-id",
            Diagnostic::error(Code::NetworkSource, "`network` has both `cidr` and `vpc-id`")
                .at(at.key("/network/vpc-id"), "an existing VPC")
                .also(at.key("/network/cidr"), "a new VPC")
                .help("keep `cidr` to create a VPC, or `vpc-id` (with subnet ids) to use an existing one; in a child environment, `(remove)cidr` drops the inherited one"),
        )),
        (None, None) => out.push(
            Diagnostic::error(Code::NetworkSource, "`network` has neither `cidr` nor `vpc-id`")
                .at(at.key("/network"), "no VPC")
                .help("add `cidr \"10.0.0.0/16\"` to create a VPC, or `vpc-id \"vpc-…\"` (or `ssm-path`) to use an existing one"),
        ),
        (None, Some(_)) => {
            if network.private_subnet_ids.is_empty() {
                out.push(at.note_inherited(
                    "/network/vpc-id",
                    Diagnostic::error(Code::NetworkSource, "an existing VPC needs `private-subnet-ids`")
                        .at(at.key("/network/vpc-id"), "existing VPC")
                        .help("add `private-subnet-ids \"subnet-…\" \"subnet-…\"` (and `public-subnet-ids` for a public load balancer)"),
                ));
            }
        }
        (Some(cidr), None) => check_cidr(env, cidr, at, out),
    }
}

/// A new VPC's `cidr` is a CIDR block from /16 to /28, large enough for its subnets.
fn check_cidr(env: &Environment, cidr: &str, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    match Cidr::parse(cidr) {
        Err(problem) => out.push(
            at.note_inherited(
                "/network/cidr",
                Diagnostic::error(
                    Code::CidrSyntax,
                    format!("`{cidr}` is not a valid CIDR block"),
                )
                .at(at.value("/network/cidr"), problem)
                .help("write the VPC range as an IPv4 network, like \"10.0.0.0/16\""),
            ),
        ),
        Ok(parsed) if !(16..=28).contains(&parsed.prefix) => out.push(
            at.note_inherited(
                "/network/cidr",
                Diagnostic::error(
                    Code::CidrSyntax,
                    format!("a VPC CIDR must be /16 to /28, not /{}", parsed.prefix),
                )
                .at(
                    at.value("/network/cidr"),
                    "outside what AWS allows for a VPC",
                )
                .help("use a prefix length from /16 (65,536 addresses) to /28 (16 addresses)"),
            ),
        ),
        Ok(parsed) => {
            let needed = subnet_count(env);
            let subnet_prefix = parsed.prefix + bits_for(needed);
            if subnet_prefix > 28 {
                out.push(
                    at.note_inherited(
                        "/network/cidr",
                        Diagnostic::error(
                            Code::CidrSyntax,
                            format!("`{cidr}` is too small for {needed} subnets"),
                        )
                        .at(
                            at.value("/network/cidr"),
                            format!("subnets would be /{subnet_prefix}, smaller than /28"),
                        )
                        .help("use a larger VPC range or fewer availability zones"),
                    ),
                );
            }
        }
    }
}

/// A new VPC's subnets span `azs` zones (two at least), which its region must have: a
/// template selects each zone from `!GetAZs`, and an index past its list fails the stack.
fn check_zones(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let network = &env.network;
    let region = env.region.as_deref().unwrap_or_default();
    let Some(offered) = super::regions::zones(region) else {
        return;
    };
    let wanted = network.subnet_azs();
    // Past the schema's maximum (6) the schema has said so already.
    if network.cidr.is_none() || wanted <= offered || network.azs > 6 {
        return;
    }
    let pointer = "/network/azs";
    let span = if at.spans.contains(pointer) {
        at.value(pointer)
    } else {
        at.key("/network")
    };
    out.push(at.note_inherited(
        pointer,
        Diagnostic::error(
            Code::NetworkSource,
            format!("{wanted} availability zones, and {region} has {offered}"),
        )
        .at(span, "more zones than the region has")
        .help(format!("set `azs` to {offered} or fewer: the subnets are laid out one zone each, from the region's list")),
    ));
}

/// A new VPC has at most one NAT gateway per availability zone.
fn check_nat_gateways(network: &Network, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    if network.cidr.is_some() && network.nat_gateways > network.azs {
        out.push(
            at.note_inherited(
                "/network/nat-gateways",
                Diagnostic::error(
                    Code::NatGateways,
                    format!(
                        "{} NAT gateways for {} availability zones",
                        network.nat_gateways, network.azs
                    ),
                )
                .at(at.value("/network/nat-gateways"), "more than one per zone")
                .help(format!(
                    "use at most {} (one per availability zone), or 0 with VPC endpoints",
                    network.azs
                )),
            ),
        );
    }
}

fn check_region_and_domain(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    super::regions::check_region(env, at, out);

    if let Some(domain) = &env.domain {
        if let Err(problem) = check_domain(domain) {
            out.push(at.note_inherited(
                "/domain",
                Diagnostic::error(Code::Domain, format!("`{domain}` is not a valid domain name"))
                    .at(at.value("/domain"), problem)
                    .help("a domain is dot-separated labels of letters, digits and `-`, like \"api.example.com\""),
            ));
        }
    }
}

/// Public and private subnets per AZ, plus isolated ones when asked for.
fn subnet_count(env: &Environment) -> u32 {
    let per_az = if env.network.isolated_subnets { 3 } else { 2 };
    per_az * u32::from(env.network.subnet_azs())
}

fn bits_for(count: u32) -> u8 {
    (32 - count.saturating_sub(1).leading_zeros()) as u8
}

pub fn check_domain(domain: &str) -> Result<(), String> {
    if domain.len() > 253 {
        return Err("longer than 253 characters".to_string());
    }
    if domain.ends_with('.') {
        // ACM refuses a certificate's name with it, and no request's `Host` carries it.
        return Err("ends with `.`: write it without the final dot".to_string());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("needs at least two labels".to_string());
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err("each label is 1 to 63 characters".to_string());
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("`{label}` has characters a domain cannot hold"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("`{label}` starts or ends with `-`"));
        }
    }
    Ok(())
}

/// Environments in one account and region share an address plan: VPC CIDRs must not overlap
/// (peering and shared transit need that, and a copy-pasted CIDR is usually a mistake).
///
/// Each account and region's ranges are sorted by where they start, so only ranges that
/// overlap are compared (CIDR blocks nest or are apart): a project of a thousand
/// environments costs a sort, not a million comparisons.
pub fn check_overlaps(envs: &[&ValidEnv], out: &mut Vec<Diagnostic>) {
    // One address plan per account and region: (index, environment, range).
    type Plan<'a> = Vec<(usize, &'a ValidEnv, Cidr)>;
    let mut plans: std::collections::HashMap<(&str, Option<&str>), Plan> = Default::default();
    for (i, env) in envs.iter().enumerate() {
        let Some(cidr) = env
            .model
            .network
            .cidr
            .as_deref()
            .and_then(|c| Cidr::parse(c).ok())
        else {
            continue;
        };
        let plan = (env.model.account.as_str(), env.model.region.as_deref());
        plans.entry(plan).or_default().push((i, *env, cidr));
    }
    for plan in plans.values_mut() {
        plan.sort_by_key(|(i, _, cidr)| (cidr.base & cidr.mask(), cidr.prefix, *i));
        for (at, (i, a, a_cidr)) in plan.iter().enumerate() {
            for (j, b, b_cidr) in &plan[at + 1..] {
                if !a_cidr.overlaps(b_cidr) {
                    break;
                }
                // In the environments' order, as one walk over all pairs would meet them.
                let (a, b) = if i < j { (*a, *b) } else { (*b, *a) };
                report_overlap(a, b, out);
            }
        }
    }
}

/// Two environments of one address plan whose VPC ranges overlap (`a` first in the
/// environments' order).
fn report_overlap(a: &ValidEnv, b: &ValidEnv, out: &mut Vec<Diagnostic>) {
    let a_span = a.spans.nearest("/network/cidr").map(|l| l.value);
    let b_span = b.spans.nearest("/network/cidr").map(|l| l.value);
    let (Some(a_span), Some(b_span)) = (a_span, b_span) else {
        return;
    };
    let region = a.model.region.as_deref().unwrap_or_default();
    let cidr = |env: &ValidEnv| env.model.network.cidr.clone().unwrap_or_default();
    if a_span == b_span {
        // One line sets both (an inherited CIDR): point at the child that should set its own.
        out.push(
            Diagnostic::error(
                Code::CidrOverlap,
                format!(
                    "`{}` and `{}` share VPC CIDR `{}` in account {} {region}",
                    a.name,
                    b.name,
                    cidr(a),
                    a.model.account,
                ),
            )
            .at(
                a_span,
                format!("inherited by both `{}` and `{}`", a.name, b.name),
            )
            .concerns_heir(&a.name)
            .concerns_heir(&b.name)
            .help(format!(
                "give `{}` its own `network {{ cidr \"…\" }}`",
                b.name
            )),
        );
        return;
    }
    out.push(
        Diagnostic::error(
            Code::CidrOverlap,
            format!(
                "VPC CIDRs of `{}` and `{}` overlap in account {} {region}",
                b.name, a.name, a.model.account
            ),
        )
        .at(b_span, format!("`{}` uses {}", b.name, cidr(b)))
        .also(a_span, format!("`{}` uses {}", a.name, cidr(a)))
        .help("environments in one account and region need distinct address ranges, like 10.1.0.0/16 and 10.2.0.0/16"),
    );
}

/// Settings of a new VPC's layout do nothing to an existing one (envc adds endpoints and
/// security groups to it, never subnets, routes or NAT gateways), so setting them is an
/// error; the `s3` gateway endpoint needs the private route tables it adds routes to.
fn check_existing_vpc(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let network = &env.network;
    // `nat-gateways 0` and `isolated-subnets #false` say what the existing VPC is like
    // (private subnets reach AWS through endpoints); anything else would change it.
    let layout = [
        ("azs", true),
        ("nat-gateways", network.nat_gateways > 0),
        ("isolated-subnets", network.isolated_subnets),
    ];
    for (key, changes_the_vpc) in layout {
        let pointer = format!("/network/{key}");
        if changes_the_vpc && at.spans.contains(&pointer) {
            out.push(at.note_inherited(
                &pointer,
                Diagnostic::error(
                    Code::NetworkSource,
                    format!("`{key}` does not apply to an existing VPC"),
                )
                .at(at.key(&pointer), "only a new VPC (`cidr`) is laid out by envc")
                .help("an existing VPC keeps its own zones, subnets and routes; remove it (in a child, `(remove)` it)"),
            ));
        }
    }
    // A load balancer takes subnets in two zones or more, and so does a database subnet group.
    for (key, ids) in [
        ("private-subnet-ids", &network.private_subnet_ids),
        ("public-subnet-ids", &network.public_subnet_ids),
    ] {
        if ids.len() == 1 {
            let pointer = format!("/network/{key}");
            out.push(at.note_inherited(
                &pointer,
                Diagnostic::error(
                    Code::NetworkSource,
                    format!("`{key}` names one subnet; AWS needs two, in two zones"),
                )
                .at(at.value(&pointer), "one subnet")
                .help(format!("a load balancer and a database subnet group each need subnets in at least two availability zones: add the VPC's other {} subnet", if key.starts_with("public") { "public" } else { "private" })),
            ));
        }
    }
    let needs_route_tables = network.endpoints.contains(&crate::model::Endpoint::S3)
        && network.vpc_id.is_some()
        && network.ssm_path.is_none()
        && network.private_route_table_ids.is_empty();
    if needs_route_tables {
        out.push(at.note_inherited(
            "/network/endpoints",
            Diagnostic::error(
                Code::NetworkSource,
                "the `s3` endpoint of an existing VPC needs `private-route-table-ids`",
            )
            .at(at.value("/network/endpoints"), "a gateway endpoint adds routes")
            .help("add `private-route-table-ids \"rtb-…\"` with the route tables of the private subnets"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert!(check_domain("staging-api.example.com").is_ok());
        assert!(check_domain("localhost").is_err());
        assert!(check_domain("bad_label.example.com").is_err());
        assert!(check_domain("-x.example.com").is_err());
        assert!(check_domain("api.example.com.").is_err());
    }
}

//! Availability Zones: what AWS refuses in one zone. An Application Load Balancer needs
//! subnets in at least two zones, and so does a DB subnet group; an ElastiCache replication
//! group fails over only to a replica, so automatic failover and Multi-AZ need two nodes.

use super::place::Placer;
use super::template::{intrinsic, list_items, target, Rendered, Resource};
use super::{source_note, Finding};
use crate::diagnostic::{Code, Diagnostic};
use crate::render::yaml::Yaml;

const ALB_ZONES: &str =
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer";
const DB_SUBNET_GROUP_ZONES: &str =
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html";
const CACHE_FAILOVER: &str =
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-elasticache-replicationgroup.html#cfn-elasticache-replicationgroup-numcacheclusters";

pub(super) fn check(stacks: &[Rendered], placer: &mut Placer, out: &mut Vec<Finding>) {
    for stack in stacks {
        for resource in stack.resources() {
            match resource.kind {
                "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                    let network = resource.property("Type").and_then(Yaml::as_str);
                    if matches!(network, None | Some("application")) {
                        let subnets = resource
                            .property("Subnets")
                            .or_else(|| resource.property("SubnetMappings"));
                        check_spread(
                            stacks,
                            stack,
                            resource,
                            subnets,
                            "an Application Load Balancer",
                            ALB_ZONES,
                            placer,
                            out,
                        );
                    }
                }
                "AWS::RDS::DBSubnetGroup" => {
                    let subnets = resource.property("SubnetIds");
                    check_spread(
                        stacks,
                        stack,
                        resource,
                        subnets,
                        "a DB subnet group",
                        DB_SUBNET_GROUP_ZONES,
                        placer,
                        out,
                    );
                }
                "AWS::ElastiCache::ReplicationGroup" => {
                    check_failover(stack, resource, placer, out);
                }
                _ => {}
            }
        }
    }
}

/// How many zones the subnets of `list` are in, when it is known here: subnets of the
/// project count by their `AvailabilityZone`, others each as a zone of its own.
fn zones_of(stacks: &[Rendered], here: &Rendered, list: &Yaml) -> Option<usize> {
    let (owner, items) = list_items(stacks, here, list)?;
    let mut zones: Vec<&Yaml> = Vec::new();
    let mut unknown = 0;
    for item in items {
        let item = item.get("SubnetId").unwrap_or(item);
        let zone = target(stacks, owner, item)
            .filter(|t| t.resource.kind == "AWS::EC2::Subnet")
            .and_then(|t| {
                t.resource
                    .property("AvailabilityZone")
                    .or_else(|| t.resource.property("AvailabilityZoneId"))
            });
        match zone {
            Some(zone) if !zones.contains(&zone) => zones.push(zone),
            Some(_) => {}
            None => unknown += 1,
        }
    }
    Some(zones.len() + unknown)
}

#[allow(clippy::too_many_arguments)]
fn check_spread(
    stacks: &[Rendered],
    stack: &Rendered,
    resource: Resource,
    subnets: Option<&Yaml>,
    what: &str,
    source: &str,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    let Some(subnets) = subnets else {
        return;
    };
    let Some(zones) = zones_of(stacks, stack, subnets) else {
        return;
    };
    if zones >= 2 {
        return;
    }
    let text = match subnets {
        Yaml::Sequence(items) => items.first().map_or("", |i| first_text(i)),
        other => first_text(other),
    };
    let place = placer.in_rendered(stack, text);
    let network_zones = stack.env.model.network.subnet_azs();
    out.push(Finding {
        envs: vec![stack.env.name.clone()],
        diagnostic: Diagnostic::error(
            Code::Zones,
            format!(
                "`{}` of `{}` (stack `{}`) is {what} in {zones} Availability Zone{}; AWS \
                 requires at least two",
                resource.id,
                stack.env.name,
                stack.stack.stack,
                if zones == 1 { "" } else { "s" }
            ),
        )
        .at(place.span, "its subnets")
        .help(format!(
            "CloudFormation fails creating it. Give it subnets in two zones: the environment's \
             network has subnets in {network_zones} zones"
        ))
        .note(source_note(source)),
    });
}

fn check_failover(
    stack: &Rendered,
    resource: Resource,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    let flag = |name: &str| matches!(resource.property(name), Some(Yaml::Bool(true)));
    let number = |name: &str| match resource.property(name) {
        Some(Yaml::Number(n)) => n.as_u64(),
        _ => None,
    };
    let (failover, multi_az) = (flag("AutomaticFailoverEnabled"), flag("MultiAZEnabled"));
    let problem = if multi_az && !failover {
        Some((
            "MultiAZEnabled",
            "Multi-AZ needs `AutomaticFailoverEnabled: true`".to_string(),
        ))
    } else if failover {
        match (number("NumCacheClusters"), number("ReplicasPerNodeGroup")) {
            (Some(n), _) if n < 2 => Some((
                "NumCacheClusters",
                format!("automatic failover needs a replica, and it has {n} node"),
            )),
            (None, Some(0)) => Some((
                "ReplicasPerNodeGroup",
                "automatic failover needs a replica, and it has none".to_string(),
            )),
            _ => None,
        }
    } else {
        None
    };
    let Some((property, problem)) = problem else {
        return;
    };
    let key_text = resource
        .node
        .get("Properties")
        .and_then(Yaml::as_mapping)
        .and_then(|m| m.keys().find(|k| k.as_str() == Some(property)))
        .and_then(Yaml::as_str)
        .unwrap_or("");
    let place = placer.in_rendered(stack, key_text);
    out.push(Finding {
        envs: vec![stack.env.name.clone()],
        diagnostic: Diagnostic::error(
            Code::Zones,
            format!(
                "the ElastiCache replication group `{}` of `{}` cannot be made: {problem}",
                resource.id, stack.env.name
            ),
        )
        .at(place.span, "here")
        .help("give it at least two nodes (`NumCacheClusters: 2`, or a replica per node group), or turn automatic failover and Multi-AZ off")
        .note(source_note(CACHE_FAILOVER)),
    });
}

/// The first text of a value (a scalar, or an intrinsic's first string), to place a finding.
fn first_text<'v>(value: &'v Yaml) -> &'v str {
    if let Some(text) = value.as_str() {
        return text;
    }
    match intrinsic(value) {
        Some((_, Yaml::String(text))) => text,
        Some((_, Yaml::Sequence(items))) => items
            .iter()
            .map(first_text)
            .find(|t| !t.is_empty())
            .unwrap_or(""),
        Some((_, inner)) => first_text(inner),
        None => "",
    }
}

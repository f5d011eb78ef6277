//! Quotas a project can break by its own settings, at AWS's defaults: Lambda concurrency
//! reserved across every function of an account and region, rules of one security group,
//! listener rules of one load balancer. An account whose quota was raised can be over these
//! without harm, so they are warnings (`--deny-warnings` makes them errors).

use std::collections::BTreeMap;

use super::place::{Placer, Spot, StackAt};
use super::template::{target, Rendered};
use super::{source_note, Finding};
use crate::diagnostic::{Code, Diagnostic};
use crate::render::yaml::Yaml;

/// Lambda's default concurrency per account and region, and what it keeps unreserved.
const LAMBDA_CONCURRENCY: u64 = 1_000;
const LAMBDA_UNRESERVED: u64 = 100;
const LAMBDA_SOURCE: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/API_PutFunctionConcurrency.html";
/// Inbound (and, apart, outbound) rules per security group.
const SECURITY_GROUP_RULES: usize = 60;
const VPC_QUOTAS: &str = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups";
/// Listener rules per Application Load Balancer, not counting default rules.
const LISTENER_RULES: usize = 100;
const ALB_QUOTAS: &str =
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html";

/// Checks the quotas of each stack of `stacks`, and adds the functions that reserve
/// concurrency to `reserving`, for [`check_reserved_concurrency`] once every environment is
/// read.
pub(super) fn check_each<'a>(
    stacks: &[Rendered<'a>],
    placer: &mut Placer,
    out: &mut Vec<Finding>,
    reserving: &mut Vec<Reserving<'a>>,
) {
    for stack in stacks {
        add_reserving(stack, reserving);
    }
    for stack in stacks {
        check_security_groups(stacks, stack, placer, out);
        check_listener_rules(stacks, stack, placer, out);
    }
}

fn number(value: Option<&Yaml>) -> Option<u64> {
    match value {
        Some(Yaml::Number(n)) => n.as_u64(),
        _ => None,
    }
}

/// A function that reserves concurrency: its stack, its id and where the id is in the
/// rendered text, and how much it reserves.
pub(super) struct Reserving<'a> {
    stack: StackAt<'a>,
    id: String,
    at: Spot,
    reserved: u64,
}

impl<'a> Reserving<'a> {
    /// A function found on an earlier run (see [`super::cache`]).
    pub(super) fn restore(stack: StackAt<'a>, id: String, at: Spot, reserved: u64) -> Self {
        Reserving {
            stack,
            id,
            at,
            reserved,
        }
    }

    /// Its stack, id, where the id is and what it reserves: what [`super::cache`] keeps.
    pub(super) fn parts(&self) -> (StackAt<'a>, &str, Spot, u64) {
        (self.stack, &self.id, self.at, self.reserved)
    }
}

fn add_reserving<'a>(stack: &Rendered<'a>, reserving: &mut Vec<Reserving<'a>>) {
    for resource in stack.resources() {
        if resource.kind != "AWS::Lambda::Function" {
            continue;
        }
        if let Some(reserved) = number(resource.property("ReservedConcurrentExecutions")) {
            reserving.push(Reserving {
                stack: stack.at(),
                id: resource.id.to_string(),
                at: Spot::of(stack.stack, resource.id),
                reserved,
            });
        }
    }
}

pub(super) fn check_reserved_concurrency(
    reserving: &[Reserving],
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    let mut by_region: BTreeMap<(&str, &str), Vec<&Reserving>> = BTreeMap::new();
    for function in reserving {
        let (account, region) = (function.stack.account(), function.stack.region());
        by_region
            .entry((account, region))
            .or_default()
            .push(function);
    }
    let most = LAMBDA_CONCURRENCY - LAMBDA_UNRESERVED;
    for ((account, region), functions) in by_region {
        let total: u64 = functions.iter().map(|f| f.reserved).sum();
        if total <= most {
            continue;
        }
        let most_reserving = functions.iter().max_by_key(|f| f.reserved).unwrap();
        let place = placer.at_spot(most_reserving.stack, most_reserving.at);
        let mut envs: Vec<String> = functions.iter().map(|f| f.stack.env.name.clone()).collect();
        envs.dedup();
        out.push(Finding {
            envs: envs.clone(),
            diagnostic: Diagnostic::warning(
                Code::Quota,
                format!(
                    "{} Lambda functions of the project reserve {total} concurrent executions in \
                     account {account}, {region}; by default AWS lets an account reserve {most}",
                    functions.len()
                ),
            )
            .at(
                place.span,
                format!(
                    "`{}` of `{}` reserves {}",
                    most_reserving.id, most_reserving.stack.env.name, most_reserving.reserved
                ),
            )
            .help(format!(
                "AWS keeps {LAMBDA_UNRESERVED} of the account's {LAMBDA_CONCURRENCY} unreserved, \
                 so the function over it fails to deploy: reserve less (environments: {}), or \
                 raise the account's concurrency quota first",
                envs.join(", ")
            ))
            .note(source_note(LAMBDA_SOURCE)),
        });
    }
}

fn check_security_groups(
    stacks: &[Rendered],
    stack: &Rendered,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    for group in stack
        .resources()
        .filter(|r| r.kind == "AWS::EC2::SecurityGroup")
    {
        for (inline, apart, direction) in [
            (
                "SecurityGroupIngress",
                "AWS::EC2::SecurityGroupIngress",
                "inbound",
            ),
            (
                "SecurityGroupEgress",
                "AWS::EC2::SecurityGroupEgress",
                "outbound",
            ),
        ] {
            let own = match group.property(inline) {
                Some(Yaml::Sequence(rules)) => rules.len(),
                _ => 0,
            };
            let added = stack
                .resources()
                .filter(|r| r.kind == apart)
                .filter(|r| {
                    r.property("GroupId")
                        .and_then(|g| target(stacks, stack, g))
                        .is_some_and(|t| t.resource.id == group.id)
                })
                .count();
            let rules = own + added;
            if rules <= SECURITY_GROUP_RULES {
                continue;
            }
            let place = placer.in_rendered(stack, group.id);
            out.push(Finding {
                envs: vec![stack.env.name.clone()],
                diagnostic: Diagnostic::warning(
                    Code::Quota,
                    format!(
                        "the security group `{}` of `{}` has {rules} {direction} rules; AWS allows \
                         {SECURITY_GROUP_RULES} by default",
                        group.id, stack.env.name
                    ),
                )
                .at(place.span, "this group")
                .help("adding the rules past the quota fails: combine rules (a prefix list or a source group), or raise the quota first")
                .note(source_note(VPC_QUOTAS)),
            });
        }
    }
}

/// Rules of each load balancer (through its listeners), default rules not counted.
fn check_listener_rules(
    stacks: &[Rendered],
    stack: &Rendered,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    let mut by_balancer: BTreeMap<&str, usize> = BTreeMap::new();
    for rule in stack
        .resources()
        .filter(|r| r.kind == "AWS::ElasticLoadBalancingV2::ListenerRule")
    {
        let Some(listener) = rule
            .property("ListenerArn")
            .and_then(|l| target(stacks, stack, l))
        else {
            continue;
        };
        let balancer = listener
            .resource
            .property("LoadBalancerArn")
            .and_then(|b| target(stacks, listener.stack, b))
            .map_or(listener.resource.id, |b| b.resource.id);
        *by_balancer.entry(balancer).or_default() += 1;
    }
    for (balancer, rules) in by_balancer {
        if rules <= LISTENER_RULES {
            continue;
        }
        let place = placer.in_rendered(stack, balancer);
        out.push(Finding {
            envs: vec![stack.env.name.clone()],
            diagnostic: Diagnostic::warning(
                Code::Quota,
                format!(
                    "the load balancer `{balancer}` of `{}` has {rules} listener rules; AWS \
                     allows {LISTENER_RULES} by default, not counting default rules",
                    stack.env.name
                ),
            )
            .at(place.span, "this load balancer")
            .help("the rules past the quota fail to create: combine conditions, or raise the quota first")
            .note(source_note(ALB_QUOTAS)),
        });
    }
}

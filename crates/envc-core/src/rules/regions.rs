//! What the environment's region offers: every resource type a template renders must be one
//! the region's CloudFormation registry has. A type AWS offers elsewhere (a newer service,
//! one not yet in a newer region) fails the stack's creation in this one.
//!
//! The data is `data/aws-region-types.json`, written by `scripts/aws-rules.py` from
//! cfn-lint's per-region provider lists: every type known in any region, and a bitmap of
//! those each region offers.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use super::place::Placer;
use super::template::Rendered;
use super::{source_note, Finding};
use crate::diagnostic::{Code, Diagnostic};

const REGISTRY: &str =
    "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schemas.html";

#[derive(serde::Deserialize)]
struct Data {
    types: Vec<String>,
    /// Region → hex bitmap over `types`, lowest bit first in each byte.
    offered: BTreeMap<String, String>,
}

struct Offerings {
    index: HashMap<String, usize>,
    offered: BTreeMap<String, Vec<u8>>,
}

static OFFERINGS: LazyLock<Offerings> = LazyLock::new(|| {
    let data: Data = serde_json::from_str(include_str!("../../../../data/aws-region-types.json"))
        .expect("data/aws-region-types.json is valid");
    let offered = data
        .offered
        .into_iter()
        .map(|(region, hex)| (region, decode_hex(&hex)))
        .collect();
    let index = data
        .types
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, i))
        .collect();
    Offerings { index, offered }
});

fn decode_hex(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            digit(pair[0]) << 4 | pair.get(1).map_or(0, |c| digit(*c))
        })
        .collect()
}

impl Offerings {
    /// Whether `region` offers `kind`; `None` where either is unknown to the data (a
    /// `Custom::` resource, a third-party type, a region newer than the data).
    fn offers(&self, region: &str, kind: &str) -> Option<bool> {
        let bits = self.offered.get(region)?;
        let i = *self.index.get(kind)?;
        Some(
            bits.get(i / 8)
                .is_some_and(|byte| byte & (1 << (i % 8)) != 0),
        )
    }

    /// The regions that offer `kind`.
    fn regions_offering(&self, kind: &str) -> Vec<&str> {
        self.offered
            .keys()
            .filter(|r| self.offers(r, kind) == Some(true))
            .map(String::as_str)
            .collect()
    }
}

pub(super) fn check(stacks: &[Rendered], placer: &mut Placer, out: &mut Vec<Finding>) {
    for stack in stacks {
        let region = stack.region();
        for resource in stack.resources() {
            if OFFERINGS.offers(region, resource.kind) != Some(false) {
                continue;
            }
            // Regions of the same partition, and of those the ones of the same geography.
            let partition = crate::validate::regions::partition(region);
            let elsewhere: Vec<&str> = OFFERINGS
                .regions_offering(resource.kind)
                .into_iter()
                .filter(|r| crate::validate::regions::partition(r) == partition)
                .collect();
            let near: Vec<&str> = elsewhere
                .iter()
                .filter(|r| r.split('-').next() == region.split('-').next())
                .copied()
                .collect();
            let place = placer.in_rendered(stack, resource.kind);
            out.push(Finding {
                envs: vec![stack.env.name.clone()],
                diagnostic: Diagnostic::error(
                    Code::RegionOffering,
                    format!(
                        "`{}` (`{}`, stack `{}` of `{}`) is a resource type CloudFormation does \
                         not offer in {region}",
                        resource.id, resource.kind, stack.stack.stack, stack.env.name
                    ),
                )
                .at(place.span, "not in this region")
                .help(format!(
                    "creating the stack would fail: leave the resource out in this region, or \
                     deploy the environment to one of the {} regions that offer it{}",
                    elsewhere.len(),
                    if near.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", near.join(", "))
                    }
                ))
                .note(source_note(REGISTRY)),
            });
        }
    }
}

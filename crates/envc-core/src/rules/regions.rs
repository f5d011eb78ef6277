//! What the environment's region offers: every resource type a template renders must be one
//! the region's CloudFormation registry has. A type AWS offers elsewhere (a newer service,
//! one not yet in a newer region) fails the stack's creation in this one.
//!
//! The data is `data/aws-region-types.json`, written by `scripts/aws-rules.py` from
//! cfn-lint's per-region provider lists: every type known in any region, and a bitmap of
//! those each region offers.

use super::place::Placer;
use super::template::Rendered;
use super::{source_note, Finding};
use crate::diagnostic::{Code, Diagnostic};

const REGISTRY: &str =
    "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schemas.html";

// `TYPES` and `OFFERED`, written by `build.rs` from `data/aws-region-types.json`.
include!(concat!(env!("OUT_DIR"), "/region_types.rs"));

/// The data as compiled in: the types in byte order, and each region's bitmap over them as
/// hex (a lookup reads the one byte it needs).
struct Offerings {
    types: &'static [&'static str],
    /// Regions in byte order, each with its hex bitmap over `types`, lowest bit first in
    /// each byte.
    offered: &'static [(&'static str, &'static str)],
}

static OFFERINGS: Offerings = Offerings {
    types: TYPES,
    offered: OFFERED,
};

impl Offerings {
    /// Whether `region` offers `kind`; `None` where either is unknown to the data (a
    /// `Custom::` resource, a third-party type, a region newer than the data).
    fn offers(&self, region: &str, kind: &str) -> Option<bool> {
        let at = self
            .offered
            .binary_search_by_key(&region, |(r, _)| r)
            .ok()?;
        let hex = self.offered[at].1.as_bytes();
        let i = self.types.binary_search(&kind).ok()?;
        let digit = |at: usize| hex.get(at).and_then(|c| (*c as char).to_digit(16));
        let byte = (digit(i / 8 * 2).unwrap_or(0) << 4) | digit(i / 8 * 2 + 1).unwrap_or(0);
        Some(byte & (1 << (i % 8)) != 0)
    }

    /// The regions that offer `kind`.
    fn regions_offering(&self, kind: &str) -> Vec<&str> {
        self.offered
            .iter()
            .map(|(region, _)| *region)
            .filter(|r| self.offers(r, kind) == Some(true))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A lookup searches the types and regions by halves, so they must be in byte order.
    #[test]
    fn the_types_are_in_the_order_a_lookup_searches() {
        assert!(OFFERINGS.types.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(OFFERINGS
            .offered
            .windows(2)
            .all(|pair| pair[0].0 < pair[1].0));
        assert!(OFFERINGS.types.len() > 1000 && OFFERINGS.offered.len() > 30);
    }

    #[test]
    fn a_lookup_reads_the_bit_of_the_type_in_the_region() {
        assert_eq!(OFFERINGS.offers("us-east-1", "AWS::S3::Bucket"), Some(true));
        assert_eq!(OFFERINGS.offers("us-east-1", "Custom::Thing"), None);
        assert_eq!(OFFERINGS.offers("xx-nowhere-1", "AWS::S3::Bucket"), None);
        // A type some regions lack: each answer is the bit the data holds for it.
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../../../../data/aws-region-types.json")).unwrap();
        let types = data["types"].as_array().unwrap();
        for (region, hex) in data["offered"].as_object().unwrap() {
            let hex = hex.as_str().unwrap();
            for i in (0..types.len()).step_by(97) {
                let byte = hex
                    .get(i / 8 * 2..i / 8 * 2 + 2)
                    .map_or(0, |pair| u8::from_str_radix(pair, 16).unwrap());
                let kind = types[i].as_str().unwrap();
                assert_eq!(
                    OFFERINGS.offers(region, kind),
                    Some(byte & (1 << (i % 8)) != 0),
                    "{region} {kind}"
                );
            }
        }
    }
}

//! IPv4 CIDR blocks: parsing, overlap, and the subnet plan of a new VPC.

use std::net::Ipv4Addr;

/// An IPv4 network, like `10.1.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| "a CIDR block needs a prefix length, like `/16`".to_string())?;
        let address: Ipv4Addr = address
            .parse()
            .map_err(|_| format!("`{address}` is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("`/{prefix}` is not a prefix length (0–32)"))?;
        let base = u32::from(address);
        let cidr = Cidr { base, prefix };
        if base & !cidr.mask() != 0 {
            let network = Ipv4Addr::from(base & cidr.mask());
            return Err(format!(
                "host bits are set: the network of `{text}` is `{network}/{prefix}`"
            ));
        }
        Ok(cidr)
    }

    pub fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    /// The first block of this size in the same private range (10/8, 172.16/12 or
    /// 192.168/16, else the block's own /8) that overlaps none of `taken`.
    pub fn first_free(&self, taken: &[Cidr]) -> Option<Cidr> {
        let range = [(0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16)]
            .into_iter()
            .map(|(base, prefix)| Cidr { base, prefix })
            .find(|range| range.prefix <= self.prefix && range.overlaps(self))
            .unwrap_or(Cidr {
                base: self.base & 0xFF00_0000,
                prefix: 8.min(self.prefix),
            });
        let step = 1u64 << (32 - u32::from(self.prefix));
        let end = u64::from(range.base) + (1u64 << (32 - u32::from(range.prefix)));
        (u64::from(range.base)..end)
            .step_by(usize::try_from(step).ok()?)
            .map(|base| Cidr {
                base: base as u32,
                prefix: self.prefix,
            })
            .find(|candidate| !taken.iter().any(|t| t.overlaps(candidate)))
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        let shorter = self.prefix.min(other.prefix);
        let mask = Cidr {
            base: 0,
            prefix: shorter,
        }
        .mask();
        self.base & mask == other.base & mask
    }
}

/// Which route a subnet has: public (internet gateway), private (NAT or endpoints), isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Public,
    Private,
    Isolated,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subnet {
    pub tier: Tier,
    pub az_index: u8,
    pub cidr: String,
}

impl Cidr {
    /// Subnets of a new VPC, computed here so templates (and golden files) show literal CIDRs:
    /// one per tier per AZ, at least /24 wide when the VPC has room, in tier order. `azs`
    /// zones are laid out first, then the zones up to `subnet_azs` (the second zone of an
    /// `azs 1` network), so their addresses come after and the first zones' stay where they
    /// were.
    pub fn subnet_plan(&self, azs: u8, subnet_azs: u8, isolated: bool) -> Vec<Subnet> {
        let tiers: &[Tier] = if isolated {
            &[Tier::Public, Tier::Private, Tier::Isolated]
        } else {
            &[Tier::Public, Tier::Private]
        };
        let subnet_azs = subnet_azs.max(azs);
        let count = tiers.len() as u32 * u32::from(subnet_azs);
        let bits = (32 - count.saturating_sub(1).leading_zeros()) as u8;
        let prefix = (self.prefix + bits).clamp(24, 28);
        let size = 1u32 << (32 - prefix);
        let mut subnets = Vec::with_capacity(count as usize);
        let first = tiers.len() as u32 * u32::from(azs);
        let extra = u32::from(subnet_azs - azs);
        for (t, tier) in tiers.iter().enumerate() {
            for az in 0..subnet_azs {
                let index = if az < azs {
                    t as u32 * u32::from(azs) + u32::from(az)
                } else {
                    first + t as u32 * extra + u32::from(az - azs)
                };
                let base = Ipv4Addr::from(self.base + index * size);
                subnets.push(Subnet {
                    tier: *tier,
                    az_index: az,
                    cidr: format!("{base}/{prefix}"),
                });
            }
        }
        subnets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cidrs_and_rejects_host_bits() {
        assert_eq!(Cidr::parse("10.1.0.0/16").unwrap().prefix, 16);
        assert!(Cidr::parse("10.1.0.1/16")
            .unwrap_err()
            .contains("10.1.0.0/16"));
        assert!(Cidr::parse("10.1.0.0").is_err());
        assert!(Cidr::parse("10.1.0.0/33").is_err());
        assert!(Cidr::parse("300.1.0.0/16").is_err());
    }

    #[test]
    fn overlap_is_containment_either_way() {
        let a = Cidr::parse("10.0.0.0/16").unwrap();
        let b = Cidr::parse("10.0.128.0/20").unwrap();
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
    }

    #[test]
    fn subnet_plan_is_literal_and_disjoint() {
        let vpc = Cidr::parse("10.1.0.0/16").unwrap();
        let plan = vpc.subnet_plan(2, 2, true);
        let cidrs: Vec<&str> = plan.iter().map(|s| s.cidr.as_str()).collect();
        assert_eq!(
            cidrs,
            [
                "10.1.0.0/24",
                "10.1.1.0/24",
                "10.1.2.0/24",
                "10.1.3.0/24",
                "10.1.4.0/24",
                "10.1.5.0/24"
            ]
        );
        assert_eq!(plan[2].tier, Tier::Private);
        let small = Cidr::parse("10.1.0.0/24").unwrap().subnet_plan(2, 2, false);
        assert_eq!(small[3].cidr, "10.1.0.192/26");
        for (i, a) in small.iter().enumerate() {
            for b in &small[i + 1..] {
                assert!(!Cidr::parse(&a.cidr)
                    .unwrap()
                    .overlaps(&Cidr::parse(&b.cidr).unwrap()));
            }
        }
    }

    #[test]
    fn a_one_zone_network_gets_a_second_zone_after_its_own_addresses() {
        let vpc = Cidr::parse("10.0.0.0/16").unwrap();
        let one = vpc.subnet_plan(1, 1, false);
        let two = vpc.subnet_plan(1, 2, false);
        let shown = |plan: &[Subnet]| -> Vec<(Tier, u8, String)> {
            plan.iter()
                .map(|s| (s.tier, s.az_index, s.cidr.clone()))
                .collect()
        };
        // The first zone's subnets keep their addresses; the second's come after.
        assert_eq!(shown(&one), shown(&[two[0].clone(), two[2].clone()]));
        assert_eq!(
            (shown(&two)[1].clone(), shown(&two)[3].clone()),
            (
                (Tier::Public, 1, "10.0.2.0/24".to_string()),
                (Tier::Private, 1, "10.0.3.0/24".to_string())
            )
        );
    }
}

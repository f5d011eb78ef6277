//! Cost: the monthly cost of an environment, estimated offline from its rendered templates
//! and the price snapshot in `data/`. Each resource is priced from what its template says
//! (tasks × CPU and memory, instance classes and Multi-AZ, Aurora capacity as a range, load
//! balancers and the public addresses they hold, endpoints × zones, …); what is billed by use
//! (requests, gigabytes) is listed with its unit price; types the snapshot does not know are
//! listed as not priced, never guessed.
//!
//! It reads templates and prices only: the same estimate comes from the golden files at any
//! commit, which is how a change's cost is measured.

mod prices;
mod resources;

use std::collections::BTreeMap;

pub use prices::{Price, Prices};

use crate::render::yaml::Yaml;

/// Hours in a month, as AWS's pricing pages count them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A monthly amount in USD that may be a range (capacity that scales, pause-to-zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Money {
    pub low: f64,
    pub high: f64,
}

impl Money {
    pub fn exactly(usd: f64) -> Money {
        Money {
            low: usd,
            high: usd,
        }
    }

    pub fn range(low: f64, high: f64) -> Money {
        Money {
            low: low.min(high),
            high: low.max(high),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.high == 0.0
    }

    /// `12.34`, or `12.34–56.78` for a range.
    pub fn shown(&self) -> String {
        if (self.high - self.low).abs() < 0.005 {
            format!("{:.2}", self.low)
        } else {
            format!("{:.2}–{:.2}", self.low, self.high)
        }
    }
}

impl Money {
    /// This amount as a change: `+12.00`, `-3.40`, or, where the ends of a range move
    /// differently, `+72.08 at the low end, +0.00 at the high end`.
    pub fn shown_as_change(&self) -> String {
        let one = |v: f64| format!("{}{:.2}", if v >= -0.005 { "+" } else { "-" }, v.abs());
        if (self.high - self.low).abs() < 0.005 {
            one(self.low)
        } else {
            format!(
                "{} at the low end, {} at the high end",
                one(self.low),
                one(self.high)
            )
        }
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money {
            low: self.low + other.low,
            high: self.high + other.high,
        }
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    /// The change from `other` to `self`: low to low, high to high.
    fn sub(self, other: Money) -> Money {
        Money {
            low: self.low - other.low,
            high: self.high - other.high,
        }
    }
}

/// How a resource is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pricing {
    /// Billed by the hour or month, priced here.
    Priced,
    /// Billed only by use: see its usage prices.
    Usage,
    /// AWS charges nothing for it.
    Free,
    /// The snapshot has no price for it (in this region).
    NotPriced,
}

/// A price billed by use: per request, per gigabyte.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UsagePrice {
    pub what: String,
    pub usd: f64,
    pub unit: String,
}

/// One resource's monthly cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Line {
    pub stack: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub pricing: Pricing,
    /// What was priced, like `2 tasks × 0.25 vCPU, 0.5 GB (Linux/x86), 730 h`.
    pub what: String,
    pub monthly: Money,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<UsagePrice>,
    /// Whether a price it used has not been confirmed by a source yet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
}

/// The monthly cost of one environment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Estimate {
    pub env: String,
    pub region: String,
    pub total: Money,
    pub lines: Vec<Line>,
    /// The snapshot's date.
    pub prices_date: String,
}

impl Estimate {
    /// The total of each stack, in the order of its lines.
    pub fn by_stack(&self) -> Vec<(&str, Money)> {
        let mut totals: Vec<(&str, Money)> = Vec::new();
        for line in &self.lines {
            match totals.iter_mut().find(|(s, _)| *s == line.stack) {
                Some((_, total)) => *total = *total + line.monthly,
                None => totals.push((&line.stack, line.monthly)),
            }
        }
        totals
    }

    /// Every usage price of the environment, once each.
    pub fn usage(&self) -> Vec<&UsagePrice> {
        let mut seen: Vec<&UsagePrice> = Vec::new();
        for price in self.lines.iter().flat_map(|l| &l.usage) {
            if !seen.contains(&price) {
                seen.push(price);
            }
        }
        seen
    }

    pub fn not_priced(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.pricing == Pricing::NotPriced)
    }

    pub fn unverified(&self) -> usize {
        self.lines.iter().filter(|l| l.unverified).count()
    }
}

/// Estimates the monthly cost of environment `env` in `region` from its stacks' templates
/// (stack name and template, read), with `prices`.
pub fn estimate(env: &str, region: &str, stacks: &[(&str, &Yaml)], prices: &Prices) -> Estimate {
    let pricer = resources::Pricer {
        region,
        prices,
        stacks,
    };
    let mut lines = Vec::new();
    for (stack, tree) in stacks {
        let Some(resources) = tree.get("Resources").and_then(Yaml::as_mapping) else {
            continue;
        };
        for (id, node) in resources.iter() {
            let (Some(id), Some(kind)) = (id.as_str(), node.get("Type").and_then(Yaml::as_str))
            else {
                continue;
            };
            lines.push(pricer.line(stack, id, kind, node, tree));
        }
    }
    let total = lines
        .iter()
        .fold(Money::default(), |sum, l| sum + l.monthly);
    Estimate {
        env: env.to_string(),
        region: region.to_string(),
        total,
        lines,
        prices_date: prices.date.clone(),
    }
}

/// Estimates every environment of `texts` (environment → stack → template text), each in
/// the region `region_of` gives it.
pub fn estimate_texts(
    texts: &crate::change::Texts,
    region_of: &dyn Fn(&str) -> String,
    prices: &Prices,
) -> BTreeMap<String, Estimate> {
    texts
        .iter()
        .map(|(env, stacks)| {
            let trees: Vec<(&str, Yaml)> = stacks
                .iter()
                .filter_map(|(s, t)| Some((*s, crate::render::yaml::parse_again(t).ok()?)))
                .collect();
            let read: Vec<(&str, &Yaml)> = trees.iter().map(|(s, t)| (*s, t)).collect();
            (
                env.to_string(),
                estimate(env, &region_of(env), &read, prices),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn changes_show_their_direction_and_each_end_of_a_range() {
        assert_eq!(Money::exactly(12.0).shown_as_change(), "+12.00");
        assert_eq!(Money::exactly(-3.4).shown_as_change(), "-3.40");
        assert_eq!(
            Money::range(0.0, 72.08).shown_as_change(),
            "+0.00 at the low end, +72.08 at the high end"
        );
    }
}

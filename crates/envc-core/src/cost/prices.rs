//! The price snapshot compiled in from `data/aws-prices.json`: public on-demand unit prices
//! per region, each row with its source and date.

use std::collections::HashMap;
use std::sync::LazyLock;

/// One unit price.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Price {
    pub usd: f64,
    pub unit: String,
    pub source: String,
    pub date: String,
    /// False for a row no source confirmed yet (the best known figure).
    #[serde(default = "yes")]
    pub verified: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, serde::Deserialize)]
pub struct Prices {
    pub date: String,
    pub currency: String,
    regions: HashMap<String, HashMap<String, Price>>,
}

static SNAPSHOT: LazyLock<Prices> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../../data/aws-prices.json"))
        .expect("data/aws-prices.json is valid")
});

impl Prices {
    /// The snapshot shipped with envc.
    pub fn shipped() -> &'static Prices {
        &SNAPSHOT
    }

    /// The price of `key` (like `ec2.nat-gateway.hour`) in `region`.
    pub fn get(&self, region: &str, key: &str) -> Option<&Price> {
        self.regions.get(region)?.get(key)
    }

    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.keys().map(String::as_str)
    }
}

//! The render cache: for each environment, the stacks that last rendered cleanly, keyed by a
//! hash of everything their render read — this envc binary, every template's text, and the
//! template context. A stack whose key matches is not rendered again; anything else (a
//! changed value, template, or envc) renders afresh. See [`crate::cache`] for where it lives.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cfn::CfnTemplate;
use crate::cache::{Cache, HashWriter, Xxh3};

/// The render cache of one project.
#[derive(Clone)]
pub struct RenderCache {
    cache: Cache,
    /// The cache's seed and every template's name and text.
    templates: Xxh3,
}

/// The stacks of one environment that last rendered cleanly, by stack name.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct EnvEntries {
    pub stacks: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Hex of the key the stack rendered under.
    pub key: String,
    pub template: CfnTemplate,
    /// The canonical text.
    pub body: String,
}

impl RenderCache {
    /// The render cache of the project in `root` (`None` when caching is off). `templates`
    /// is every template's (name, text), in a fixed order.
    pub fn for_project(root: &Path, templates: &[(&str, &str)]) -> Option<RenderCache> {
        let cache = Cache::open(root, "render")?;
        let mut hasher = cache.hasher();
        for (name, text) in templates {
            hasher.write(name.as_bytes());
            hasher.write_u8(0);
            hasher.write(text.as_bytes());
            hasher.write_u8(0);
        }
        Some(RenderCache {
            cache,
            templates: hasher,
        })
    }

    /// A hasher for one environment's keys, fed with what all its stacks see.
    pub fn env_hasher(&self, environment: &serde_json::Value) -> Xxh3 {
        let mut hasher = self.templates.clone();
        let _ = serde_json::to_writer(HashWriter(&mut hasher), environment);
        hasher
    }

    /// The key of one stack: the environment's hasher, the template and the stack's context.
    pub fn key(env: &Xxh3, template: &str, stack: &serde_json::Value) -> String {
        let mut hasher = env.clone();
        hasher.write_u8(0);
        hasher.write(template.as_bytes());
        hasher.write_u8(0);
        let _ = serde_json::to_writer(HashWriter(&mut hasher), stack);
        crate::cache::key_name(hasher.digest128())
    }

    /// The entries of `env`; none when there are none or they cannot be read.
    pub fn load(&self, env: &str) -> EnvEntries {
        self.cache
            .read(&format!("{env}.json"))
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Replaces the entries of `env`.
    pub fn store(&self, env: &str, entries: &EnvEntries) {
        if let Ok(bytes) = serde_json::to_vec(entries) {
            self.cache.write(&format!("{env}.json"), &bytes);
        }
    }
}

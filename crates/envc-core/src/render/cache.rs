//! The render cache: for each environment, the stacks that last rendered cleanly, keyed by a
//! hash of everything their render read — this envc binary, every template's text, what the
//! environment's template context is made from (the project's stacks; the environment's
//! name, model, settings blocks and the stacks it has), and the stack's own context. A stack
//! whose key matches is not rendered again, and its environment's context is not built;
//! anything else (a changed value, template, or envc) renders afresh. See [`crate::cache`] for where it lives.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::cfn::CfnTemplate;
use crate::cache::{Cache, Xxh3};
use crate::model::StacksConfig;
use crate::validate::ValidEnv;

/// The render cache of one project.
#[derive(Clone)]
pub struct RenderCache {
    cache: Cache,
    /// The cache's seed and every template's name and text.
    templates: Xxh3,
    /// `templates` and the project's stacks (one project's, for the run).
    project: OnceLock<Xxh3>,
}

/// The stacks of one environment that last rendered cleanly, by stack name.
#[derive(Debug, Default)]
pub struct EnvEntries {
    pub stacks: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone)]
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
            project: OnceLock::new(),
        })
    }

    /// A hasher for one environment's keys, fed with everything the context all its stacks
    /// see is made from (by [`super::context::StackContext::environment`], with this binary's
    /// shapes): the project's `stacks`, and `env`'s name, model and settings blocks, and the
    /// stacks it has (`present`). Hashing these costs less than building that context, which
    /// only a stack rendered afresh needs.
    pub fn env_hasher(&self, stacks: &StacksConfig, env: &ValidEnv, present: &[&str]) -> Xxh3 {
        let mut hasher = self
            .project
            .get_or_init(|| {
                let mut hasher = self.templates.clone();
                crate::cache::hash_json(&mut hasher, stacks);
                hasher
            })
            .clone();
        hasher.write_u8(0);
        hasher.write(env.name.as_bytes());
        hasher.write_u8(0);
        crate::cache::hash_json(&mut hasher, &env.model);
        crate::cache::hash_json(&mut hasher, &env.settings);
        for stack in present {
            hasher.write_u8(0);
            hasher.write(stack.as_bytes());
        }
        hasher
    }

    /// The key of one stack: the environment's hasher, the template and the stack's context.
    pub fn key(env: &Xxh3, template: &str, stack: &serde_json::Value) -> String {
        let mut hasher = env.clone();
        hasher.write_u8(0);
        hasher.write(template.as_bytes());
        hasher.write_u8(0);
        crate::cache::hash_json(&mut hasher, stack);
        crate::cache::key_name(hasher.digest128())
    }

    /// The entries of `env`; none when there are none or they cannot be read.
    pub fn load(&self, env: &str) -> EnvEntries {
        self.cache
            .read(&entry_name(env))
            .and_then(|bytes| EnvEntries::from_bytes(&bytes))
            .unwrap_or_default()
    }

    /// Replaces the entries of `env`.
    pub fn store(&self, env: &str, entries: &EnvEntries) {
        if let Some(bytes) = entries.to_bytes() {
            self.cache.write(&entry_name(env), &bytes);
        }
    }
}

fn entry_name(env: &str) -> String {
    format!("{env}.entries")
}

/// An entry as stored: all but its text, which follows the header raw. Canonical texts read
/// as JSON strings cost a warm run of 1,000 environments a fifth of its instructions.
#[derive(Serialize, Deserialize)]
struct StoredEntry {
    key: String,
    template: CfnTemplate,
    /// The length in bytes of its text.
    body: usize,
}

impl EnvEntries {
    /// A header of one JSON line (each stack's key, template and text length, in stack
    /// order), then the texts one after the other.
    fn to_bytes(&self) -> Option<Vec<u8>> {
        let header: BTreeMap<&str, StoredEntry> = self
            .stacks
            .iter()
            .map(|(stack, entry)| {
                let stored = StoredEntry {
                    key: entry.key.clone(),
                    template: entry.template.clone(),
                    body: entry.body.len(),
                };
                (stack.as_str(), stored)
            })
            .collect();
        let mut bytes = serde_json::to_vec(&header).ok()?;
        bytes.push(b'\n');
        for entry in self.stacks.values() {
            bytes.extend_from_slice(entry.body.as_bytes());
        }
        Some(bytes)
    }

    /// What [`Self::to_bytes`] wrote; `None` for anything else.
    fn from_bytes(bytes: &[u8]) -> Option<EnvEntries> {
        let end = bytes.iter().position(|&b| b == b'\n')?;
        let header: BTreeMap<String, StoredEntry> = serde_json::from_slice(&bytes[..end]).ok()?;
        let mut texts = &bytes[end + 1..];
        let mut stacks = BTreeMap::new();
        for (stack, stored) in header {
            let (text, rest) = texts.split_at_checked(stored.body)?;
            texts = rest;
            let entry = Entry {
                key: stored.key,
                template: stored.template,
                body: String::from_utf8(text.to_vec()).ok()?,
            };
            stacks.insert(stack, entry);
        }
        texts.is_empty().then_some(EnvEntries { stacks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> EnvEntries {
        let template = |id: &str| CfnTemplate {
            resources: vec![(id.to_string(), "AWS::SQS::Queue".to_string())],
            parameters: Vec::new(),
            outputs: vec!["QueueUrl".to_string()],
            exports: vec!["wallet-dev-queues-QueueUrl".to_string()],
            imports: Vec::new(),
            places: Default::default(),
        };
        let entry = |id: &str, body: &str| Entry {
            key: format!("key-{id}"),
            template: template(id),
            body: body.to_string(),
        };
        EnvEntries {
            stacks: BTreeMap::from([
                (
                    "queues".to_string(),
                    entry("Jobs", "Resources:\n  Jobs: {}\n"),
                ),
                ("empty".to_string(), entry("None", "")),
                (
                    "wide".to_string(),
                    entry("Wide", "Description: \"é\\n{}\"\n"),
                ),
            ]),
        }
    }

    #[test]
    fn entries_read_back_as_written() {
        let written = entries();
        let read = EnvEntries::from_bytes(&written.to_bytes().unwrap()).unwrap();
        assert_eq!(format!("{read:?}"), format!("{written:?}"));
    }

    #[test]
    fn a_cut_or_lengthened_entry_is_a_miss() {
        let bytes = entries().to_bytes().unwrap();
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                EnvEntries::from_bytes(&bytes[..cut]).is_none(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(b'x');
        assert!(EnvEntries::from_bytes(&longer).is_none());
        // A text that is no longer UTF-8.
        let at = bytes.iter().rposition(|&b| b == 0xc3).unwrap();
        let mut broken = bytes.clone();
        broken[at + 1] = b'e';
        assert!(EnvEntries::from_bytes(&broken).is_none());
    }
}

//! The rules' cache: for each environment in which the rules of one environment found
//! nothing, what the rules across environments compare (its named resources, the concurrency
//! its functions reserve), keyed by a hash of everything the rules read of it: this envc
//! binary, the environment's model and the text of each of its rendered stacks. A warm run
//! reads no template of such an environment back into a tree.
//!
//! An environment with a finding, or with golden files at the base commit that differ from
//! its render (which the replacement rule reads), is checked afresh on every run.

use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use super::names::Named;
use super::place::{Spot, StackAt};
use super::quotas::Reserving;
use crate::cache::Cache;
use crate::render::RenderedEnv;
use crate::validate::ValidEnv;

/// The facts of one environment, as stored.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct EnvFacts {
    /// Hex of the key they were found under.
    key: String,
    named: Vec<NamedFact>,
    reserving: Vec<ReservingFact>,
}

#[derive(Serialize, Deserialize)]
struct NamedFact {
    stack: String,
    id: String,
    kind: String,
    name: String,
    written: (Option<usize>, usize),
}

#[derive(Serialize, Deserialize)]
struct ReservingFact {
    stack: String,
    id: String,
    at: (Option<usize>, usize),
    reserved: u64,
}

/// The key of `env`'s facts: the cache's seed (this build of envc), its model, and each
/// rendered stack's name, stack name and text.
pub(super) fn key(cache: &Cache, valid: &ValidEnv, env: &RenderedEnv) -> String {
    let mut hasher = cache.hasher();
    hasher.write(valid.name.as_bytes());
    hasher.write_u8(0);
    crate::cache::hash_json(&mut hasher, &valid.model);
    for stack in &env.stacks {
        for part in [&stack.stack, &stack.stack_name, &stack.body] {
            hasher.write_u8(0);
            hasher.write(part.as_bytes());
        }
    }
    crate::cache::key_name(hasher.digest128())
}

/// The facts stored for `env` under `key`; `None` when there are none, or they do not fit
/// its stacks.
pub(super) fn load(cache: &Cache, key: &str, env: &RenderedEnv) -> Option<EnvFacts> {
    let bytes = cache.read(&entry_name(&env.name))?;
    let mut facts: EnvFacts = serde_json::from_slice(&bytes).ok()?;
    if facts.key != key || !facts.fit(env) {
        return None;
    }
    // Held until every environment is read: without the room their reading grew them by.
    facts.key = String::new();
    facts.named.shrink_to_fit();
    facts.reserving.shrink_to_fit();
    Some(facts)
}

/// Stores the facts of an environment in which the rules found nothing.
pub(super) fn store(cache: &Cache, env: &str, key: String, facts: &mut EnvFacts) {
    facts.key = key;
    if let Ok(bytes) = serde_json::to_vec(&facts) {
        cache.write(&entry_name(env), &bytes);
    }
}

impl EnvFacts {
    /// The facts, apart from the rendered stacks they were read from (which may be gone
    /// before the rules across environments run).
    pub(super) fn detach(named: &[Named], reserving: &[Reserving]) -> EnvFacts {
        EnvFacts {
            key: String::new(),
            named: named
                .iter()
                .map(|n| {
                    let (stack, id, kind, name, written) = n.parts();
                    NamedFact {
                        stack: stack.stack.stack.clone(),
                        id: id.to_string(),
                        kind: kind.to_string(),
                        name: name.to_string(),
                        written: (written.start, written.len),
                    }
                })
                .collect(),
            reserving: reserving
                .iter()
                .map(|r| {
                    let (stack, id, at, reserved) = r.parts();
                    ReservingFact {
                        stack: stack.stack.stack.clone(),
                        id: id.to_string(),
                        at: (at.start, at.len),
                        reserved,
                    }
                })
                .collect(),
        }
    }

    /// Whether every stack they name is one of `env`'s, and every type one a rule knows.
    fn fit(&self, env: &RenderedEnv) -> bool {
        let has = |stack: &str| env.stacks.iter().any(|s| s.stack == stack);
        self.named
            .iter()
            .all(|f| has(&f.stack) && Named::knows(&f.kind))
            && self.reserving.iter().all(|f| has(&f.stack))
    }

    /// The type and name of each named resource, in order.
    pub(super) fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.named
            .iter()
            .map(|f| (f.kind.as_str(), f.name.as_str()))
    }

    /// The facts made into the rules' own again, with `env` (rendered as `rendered`), for
    /// the rules across environments: the named resources whose place in [`Self::names`]
    /// `wanted` takes, and every reservation.
    pub(super) fn attach<'a>(
        self,
        valid: &'a ValidEnv,
        rendered: &'a RenderedEnv,
        wanted: impl Fn(usize) -> bool,
    ) -> (Vec<Named<'a>>, Vec<Reserving<'a>>) {
        let at = |stack: &str| {
            let stack = rendered.stacks.iter().find(|s| s.stack == stack)?;
            Some(StackAt { env: valid, stack })
        };
        let spot = |(start, len): (Option<usize>, usize)| Spot { start, len };
        let named = self
            .named
            .into_iter()
            .enumerate()
            .filter(|(i, _)| wanted(*i))
            .filter_map(|(_, f)| {
                Named::restore(at(&f.stack)?, f.id, &f.kind, f.name, spot(f.written))
            })
            .collect();
        let reserving = self
            .reserving
            .into_iter()
            .filter_map(|f| {
                Some(Reserving::restore(
                    at(&f.stack)?,
                    f.id,
                    spot(f.at),
                    f.reserved,
                ))
            })
            .collect();
        (named, reserving)
    }
}

fn entry_name(env: &str) -> String {
    format!("{env}.json")
}

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
use crate::cache::{Cache, HashWriter};
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
    let _ = serde_json::to_writer(HashWriter(&mut hasher), &valid.model);
    for stack in &env.stacks {
        for part in [&stack.stack, &stack.stack_name, &stack.body] {
            hasher.write_u8(0);
            hasher.write(part.as_bytes());
        }
    }
    crate::cache::key_name(hasher.digest128())
}

/// The facts stored for `env` under `key`, made into the rules' own again; `None` when there
/// are none, or they do not fit its stacks.
pub(super) fn load<'a>(
    cache: &Cache,
    key: &str,
    valid: &'a ValidEnv,
    env: &'a RenderedEnv,
) -> Option<(Vec<Named<'a>>, Vec<Reserving<'a>>)> {
    let bytes = cache.read(&entry_name(&env.name))?;
    let facts: EnvFacts = serde_json::from_slice(&bytes).ok()?;
    if facts.key != key {
        return None;
    }
    let at = |stack: &str| {
        let stack = env.stacks.iter().find(|s| s.stack == stack)?;
        Some(StackAt { env: valid, stack })
    };
    let spot = |(start, len): (Option<usize>, usize)| Spot { start, len };
    let named = facts
        .named
        .into_iter()
        .map(|f| Named::restore(at(&f.stack)?, f.id, &f.kind, f.name, spot(f.written)))
        .collect::<Option<Vec<_>>>()?;
    let reserving = facts
        .reserving
        .into_iter()
        .map(|f| {
            Some(Reserving::restore(
                at(&f.stack)?,
                f.id,
                spot(f.at),
                f.reserved,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((named, reserving))
}

/// Stores the facts of an environment in which the rules found nothing.
pub(super) fn store(
    cache: &Cache,
    env: &str,
    key: String,
    named: &[Named],
    reserving: &[Reserving],
) {
    let facts = EnvFacts {
        key,
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
    };
    if let Ok(bytes) = serde_json::to_vec(&facts) {
        cache.write(&entry_name(env), &bytes);
    }
}

fn entry_name(env: &str) -> String {
    format!("{env}.json")
}

//! The on-disk cache stages share: `.envc/cache/<stage>/` beside the project, keyed by 128-bit
//! hashes that start from this build of envc (a hash of everything compiled into it, made by
//! `build.rs`), so an envc built from other sources never reads what another wrote. Each
//! stage keeps at most [`MAX_ENTRIES`] entries; writing past that removes the oldest.
//!
//! A cache is only ever an optimisation: a missing, unreadable or corrupt entry is a miss,
//! a failed write is ignored, entries are written through a temporary file and a rename,
//! and `ENVC_NO_CACHE=1` (or `envc --no-cache`) turns every cache off.

use std::hash::Hasher;
use std::path::{Path, PathBuf};

pub use xxhash_rust::xxh3::Xxh3;

/// Bump when what any stage stores, or what its keys cover, changes.
const FORMAT: &str = "envc cache 2";

/// Entries one stage keeps: validation's are one small marker per environment document
/// that validated (each edit makes a new one), render's one file per environment.
pub const MAX_ENTRIES: usize = 256;

/// One stage's cache directory and the hash every key of it starts from.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    seed: u128,
}

impl Cache {
    /// The cache of `stage` for the project in `root`; `None` when caching is off.
    pub fn open(root: &Path, stage: &str) -> Option<Cache> {
        if let Some(value) = std::env::var_os("ENVC_NO_CACHE") {
            let value = value.to_string_lossy().to_ascii_lowercase();
            if !matches!(value.as_str(), "" | "0" | "false" | "no" | "off") {
                return None;
            }
        }
        let mut hasher = Xxh3::new();
        hasher.write(FORMAT.as_bytes());
        hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.write(env!("ENVC_BUILD_ID").as_bytes());
        hasher.write(stage.as_bytes());
        Some(Cache {
            dir: root.join(".envc").join("cache").join(stage),
            seed: hasher.digest128(),
        })
    }

    /// A hasher that already holds this cache's seed.
    pub fn hasher(&self) -> Xxh3 {
        let mut hasher = Xxh3::new();
        hasher.write_u128(self.seed);
        hasher
    }

    /// Whether nothing is stored yet (the first run in a checkout, or after `.envc/` was
    /// deleted).
    pub fn is_empty(&self) -> bool {
        std::fs::read_dir(&self.dir).map_or(true, |mut entries| entries.next().is_none())
    }

    /// The bytes stored under `name`, if any.
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join(name)).ok()
    }

    /// Stores `bytes` under `name`, atomically; failures are ignored.
    pub fn write(&self, name: &str, bytes: &[u8]) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        if let Some(top) = self.dir.parent().and_then(Path::parent) {
            let ignore = top.join(".gitignore");
            if !ignore.exists() {
                let _ = std::fs::write(&ignore, "# envc's caches; safe to delete\n*\n");
            }
        }
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let is_new = !path.exists();
        if std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
        if is_new {
            self.trim(MAX_ENTRIES);
        }
    }

    /// Removes the oldest entries (by modification time) beyond `keep`.
    fn trim(&self, keep: usize) {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = self
            .entries()
            .into_iter()
            .filter_map(|path| Some((std::fs::metadata(&path).ok()?.modified().ok()?, path)))
            .collect();
        if files.len() <= keep {
            return;
        }
        files.sort();
        for (_, path) in &files[..files.len() - keep] {
            let _ = std::fs::remove_file(path);
        }
    }

    /// The stage's entries (not its temporary files).
    pub fn entries(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.dir).map_or(Vec::new(), |entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect()
        })
    }
}

/// Hex of a 128-bit key, as a file name.
pub fn key_name(key: u128) -> String {
    format!("{key:032x}")
}

/// Feeds serialized JSON straight into a hasher.
pub struct HashWriter<'a>(pub &'a mut Xxh3);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_keeps_at_most_its_bound_of_entries() {
        let root = tempfile::tempdir().unwrap();
        // Caching may be off in the environment running the tests; the bound is the cache's.
        let cache = Cache {
            dir: root.path().join(".envc/cache/validate"),
            seed: 0,
        };
        for i in 0..MAX_ENTRIES + 40 {
            cache.write(&key_name(i as u128), b"");
        }
        assert_eq!(cache.entries().len(), MAX_ENTRIES);
        assert!(
            cache.read(&key_name((MAX_ENTRIES + 39) as u128)).is_some(),
            "the newest stays"
        );
        // Rewriting an entry adds none.
        cache.write(&key_name((MAX_ENTRIES + 39) as u128), b"again");
        assert_eq!(cache.entries().len(), MAX_ENTRIES);
    }
}

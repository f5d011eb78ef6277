//! The on-disk cache stages share: `.envc/cache/<stage>/` beside the project, keyed by 128-bit
//! hashes that start from this envc binary, so a rebuilt or upgraded envc never reads what
//! another wrote.
//!
//! A cache is only ever an optimisation: a missing, unreadable or corrupt entry is a miss,
//! a failed write is ignored, entries are written through a temporary file and a rename,
//! and `ENVC_NO_CACHE=1` (or `envc --no-cache`) turns every cache off.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use xxhash_rust::xxh3::Xxh3;

/// Bump when what any stage stores, or what its keys cover, changes.
const FORMAT: &str = "envc cache 1";

/// One stage's cache directory and the hash every key of it starts from.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    seed: u128,
}

impl Cache {
    /// The cache of `stage` for the project in `root`; `None` when caching is off or this
    /// binary cannot be identified.
    pub fn open(root: &Path, stage: &str) -> Option<Cache> {
        if let Some(value) = std::env::var_os("ENVC_NO_CACHE") {
            let value = value.to_string_lossy().to_ascii_lowercase();
            if !matches!(value.as_str(), "" | "0" | "false" | "no" | "off") {
                return None;
            }
        }
        let binary = binary_fingerprint()?;
        let mut hasher = Xxh3::new();
        hasher.write(FORMAT.as_bytes());
        hasher.write_u128(binary);
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
        if std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Hex of a 128-bit key, as a file name.
pub fn key_name(key: u128) -> String {
    format!("{key:032x}")
}

/// This build of envc: its version and the size and modification time of its binary.
fn binary_fingerprint() -> Option<u128> {
    static FINGERPRINT: OnceLock<Option<u128>> = OnceLock::new();
    *FINGERPRINT.get_or_init(|| {
        let binary = std::env::current_exe().and_then(std::fs::metadata).ok()?;
        let modified = binary
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        let mut hasher = Xxh3::new();
        hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.write_u64(binary.len());
        hasher.write_u128(modified.as_nanos());
        Some(hasher.digest128())
    })
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

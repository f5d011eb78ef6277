//! The on-disk cache stages share: `.envc/cache/<stage>/` beside the project, keyed by 128-bit
//! hashes that start from this build of envc (a hash of everything compiled into it, made by
//! `build.rs`), so an envc built from other sources never reads what another wrote. Each
//! stage keeps at most [`MAX_ENTRIES`] entries; writing past that removes the oldest.
//!
//! A cache is only ever an optimisation: a missing, unreadable, oversized or corrupt entry is
//! a miss, a failed write is ignored, and `ENVC_NO_CACHE=1` (or `envc --no-cache`) turns
//! every cache off.
//!
//! The cache is a guest in the project: `.envc/` and the folders in it must be plain folders
//! ([`refusal`] says why not, and no cache is used then); entries are read only when they are
//! regular files within [`MAX_ENTRY_BYTES`]; every write and every eviction goes through the
//! project's [`Gate`], so none follows a link.

use std::hash::Hasher;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic};
use crate::files::Gate;

pub use xxhash_rust::xxh3::Xxh3;

/// Bump when what any stage stores, or what its keys cover, changes.
const FORMAT: &str = "envc cache 2";

/// Entries one stage keeps: validation's are one small marker per environment document
/// that validated (each edit makes a new one), render's one file per environment.
pub const MAX_ENTRIES: usize = 256;

/// The largest entry read: a render entry holds one environment's templates, which
/// CloudFormation limits to 1 MB each.
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// The folders a stage's cache lives in, outermost first (`.envc/cache/<stage>` after them).
const FOLDERS: [&str; 2] = [".envc", ".envc/cache"];

/// Why the project's `.envc/` cannot hold caches (it, or a folder in it, is a link or not a
/// folder), as a warning; `None` when it can, or does not exist yet.
pub fn refusal(root: &Path) -> Option<Diagnostic> {
    let bad = FOLDERS.iter().find(|folder| {
        std::fs::symlink_metadata(root.join(folder)).is_ok_and(|meta| !meta.file_type().is_dir())
    })?;
    Some(
        Diagnostic::warning(
            Code::CacheRefused,
            format!("`{}` is not a plain folder; envc caches nothing this run", crate::files::display_path(root, Path::new(bad)).display()),
        )
        .help("`.envc/` is envc's own cache folder: delete what is there (a link, or a file) and envc makes the folder itself"),
    )
}

/// One stage's cache directory and the hash every key of it starts from.
#[derive(Debug, Clone)]
pub struct Cache {
    /// The stage's folder, relative to the project root.
    dir: PathBuf,
    seed: u128,
    gate: Arc<Gate>,
    root: PathBuf,
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
        if refusal(root).is_some() {
            return None;
        }
        let dir = Path::new(".envc").join("cache").join(stage);
        if std::fs::symlink_metadata(root.join(&dir)).is_ok_and(|meta| !meta.is_dir()) {
            return None;
        }
        Some(Cache {
            dir,
            seed: hasher.digest128(),
            gate: Arc::new(Gate::new(root).ok()?),
            root: root.to_path_buf(),
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
        self.entries().is_empty()
    }

    /// The bytes stored under `name`, if any: a regular file within [`MAX_ENTRY_BYTES`].
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        let path = self.root.join(&self.dir).join(name);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
            return None;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        std::fs::File::open(&path)
            .ok()?
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        (bytes.len() as u64 <= MAX_ENTRY_BYTES).then_some(bytes)
    }

    /// Stores `bytes` under `name`, whole; failures are ignored.
    pub fn write(&self, name: &str, bytes: &[u8]) {
        let ignore = Path::new(".envc/.gitignore");
        if std::fs::symlink_metadata(self.root.join(ignore)).is_err() {
            let _ = self
                .gate
                .write(ignore, b"# envc's caches; safe to delete\n*\n");
        }
        let relative = self.dir.join(name);
        let is_new = std::fs::symlink_metadata(self.root.join(&relative)).is_err();
        if self.gate.write(&relative, bytes).is_ok() && is_new {
            self.trim(MAX_ENTRIES);
        }
    }

    /// Removes the oldest entries (by modification time) beyond `keep`.
    fn trim(&self, keep: usize) {
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = self
            .entries()
            .into_iter()
            .filter_map(|name| {
                let meta = std::fs::symlink_metadata(self.root.join(&self.dir).join(&name));
                Some((meta.ok()?.modified().ok()?, name))
            })
            .collect();
        if entries.len() <= keep {
            return;
        }
        entries.sort();
        for (_, name) in &entries[..entries.len() - keep] {
            let _ = self.gate.remove_file(&self.dir.join(name));
        }
    }

    /// The names of the stage's entries: its regular files, not its temporary ones.
    pub fn entries(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.root.join(&self.dir)).map_or(Vec::new(), |entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|kind| kind.is_file()))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| PathBuf::from(e.file_name()))
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
            dir: PathBuf::from(".envc/cache/validate"),
            seed: 0,
            gate: Arc::new(Gate::new(root.path()).unwrap()),
            root: root.path().to_path_buf(),
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

    #[test]
    fn a_cache_folder_that_is_a_link_is_refused_and_an_entry_that_is_a_link_is_a_miss() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.path().join(".envc")).unwrap();
        let warning = refusal(root.path()).expect("refused");
        assert_eq!(warning.code, Code::CacheRefused);
        assert!(warning.message.contains("`") && warning.message.contains(".envc"));
        std::fs::remove_file(root.path().join(".envc")).unwrap();
        assert!(refusal(root.path()).is_none());
        let cache = Cache {
            dir: PathBuf::from(".envc/cache/render"),
            seed: 0,
            gate: Arc::new(Gate::new(root.path()).unwrap()),
            root: root.path().to_path_buf(),
        };
        cache.write("a", b"x");
        assert_eq!(cache.read("a").as_deref(), Some(&b"x"[..]));
        let zero = root.path().join(".envc/cache/render/zero");
        std::os::unix::fs::symlink("/dev/zero", zero).unwrap();
        assert_eq!(cache.read("zero"), None);
        assert_eq!(cache.entries(), [PathBuf::from("a")]);
    }
}

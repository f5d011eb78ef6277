//! The on-disk cache stages share: `.envc/cache/<stage>/` beside the project, keyed by 128-bit
//! hashes that start from this build of envc (a hash of everything compiled into it, made by
//! `build.rs`), so an envc built from other sources never reads what another wrote.
//!
//! A stage's entries are bounded by their bytes on disk ([`MAX_STAGE_BYTES`]), not their
//! count: a project of 5,000 environments keeps its 5,000 entries. Once a run that wrote new
//! entries ends with the stage over its bound, the entries that run did not use go, the oldest
//! first; what the run read or wrote stays, so a warm run never misses because of its own
//! size. The folder is listed once per such run, never per write.
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
const FORMAT: &str = "envc cache 3";

/// The bytes on disk one stage keeps beyond what the run used: validation's entries are one
/// empty marker per environment document that validated (each edit makes a new one, a block
/// on disk each), render's one file per environment (about 60 KB for 14 stacks).
pub const MAX_STAGE_BYTES: u64 = 1024 * 1024 * 1024;

/// The least a file takes on disk: one block.
const BLOCK: u64 = 4096;

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
    /// What this run used, shared by its clones; the stage is trimmed when the last goes.
    run: Arc<RunUse>,
}

/// The entries one run read or wrote, and whether it added any.
#[derive(Debug, Default)]
struct RunUse {
    used: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    added: std::sync::atomic::AtomicBool,
    /// (root, stage folder, gate), to trim with when the run ends.
    trim: std::sync::OnceLock<(PathBuf, PathBuf, Arc<Gate>)>,
}

impl RunUse {
    fn note(&self, name: &str) {
        if let Ok(mut used) = self.used.lock() {
            used.insert(PathBuf::from(name));
        }
    }
}

impl Drop for RunUse {
    fn drop(&mut self) {
        if !*self.added.get_mut() {
            return;
        }
        if let Some((root, dir, gate)) = self.trim.get() {
            let used = std::mem::take(self.used.get_mut().unwrap_or_else(|p| p.into_inner()));
            trim(root, dir, gate, &used, MAX_STAGE_BYTES);
        }
    }
}

/// Removes the entries of `dir` not in `used`, oldest first, until the stage takes at most
/// `bound` bytes on disk (or only used entries are left).
fn trim(
    root: &Path,
    dir: &Path,
    gate: &Gate,
    used: &std::collections::HashSet<PathBuf>,
    bound: u64,
) {
    let mut total = 0;
    let mut unused: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
    for name in entries_of(&root.join(dir)) {
        let Ok(meta) = std::fs::symlink_metadata(root.join(dir).join(&name)) else {
            continue;
        };
        let size = meta.len().max(1).div_ceil(BLOCK) * BLOCK;
        total += size;
        if !used.contains(&name) {
            unused.push((meta.modified().unwrap_or(std::time::UNIX_EPOCH), size, name));
        }
    }
    unused.sort();
    for (_, size, name) in unused {
        if total <= bound {
            break;
        }
        if gate.remove_file(&dir.join(&name)).is_ok() {
            total -= size;
        }
    }
}

/// The names of the regular, not hidden, files in `dir`.
fn entries_of(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map_or(Vec::new(), |entries| {
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|kind| kind.is_file()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| PathBuf::from(e.file_name()))
            .collect()
    })
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
        Some(Cache::at(
            root,
            dir,
            hasher.digest128(),
            Arc::new(Gate::new(root).ok()?),
        ))
    }

    fn at(root: &Path, dir: PathBuf, seed: u128, gate: Arc<Gate>) -> Cache {
        let run = RunUse::default();
        let _ = run
            .trim
            .set((root.to_path_buf(), dir.clone(), gate.clone()));
        Cache {
            dir,
            seed,
            gate,
            root: root.to_path_buf(),
            run: Arc::new(run),
        }
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
        self.run.note(name);
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
        self.run.note(name);
        if self.gate.write(&self.dir.join(name), bytes).is_ok() {
            self.run
                .added
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The names of the stage's entries: its regular files, not its temporary ones.
    pub fn entries(&self) -> Vec<PathBuf> {
        entries_of(&self.root.join(&self.dir))
    }
}

/// Hex of a 128-bit key, as a file name.
pub fn key_name(key: u128) -> String {
    format!("{key:032x}")
}

/// Feeds serialized JSON straight into a hasher.
/// Feeds the JSON of `value` to `hasher` through a buffer (serde writes JSON a few bytes at
/// a time, and each write to the hasher has a cost of its own): the same bytes, fewer writes.
pub fn hash_json<T: serde::Serialize + ?Sized>(hasher: &mut Xxh3, value: &T) {
    use std::io::Write;
    let mut buffered = std::io::BufWriter::with_capacity(4096, HashWriter(hasher));
    let _ = serde_json::to_writer(&mut buffered, value);
    let _ = buffered.flush();
}

struct HashWriter<'a>(&'a mut Xxh3);

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

    fn cache_in(root: &Path, stage: &str) -> Cache {
        // Caching may be off in the environment running the tests; the bound is the cache's.
        Cache::at(
            root,
            Path::new(".envc/cache").join(stage),
            0,
            Arc::new(Gate::new(root).unwrap()),
        )
    }

    #[test]
    fn a_stage_over_its_bytes_loses_what_the_run_did_not_use_oldest_first() {
        let root = tempfile::tempdir().unwrap();
        let cache = cache_in(root.path(), "render");
        for i in 0..6u128 {
            cache.write(&key_name(i), &[b'x'; 5000]);
        }
        drop(cache);
        assert_eq!(
            cache_in(root.path(), "render").entries().len(),
            6,
            "under the bound, all stay"
        );
        // A later run uses entries 4 and 5 and adds 6; at a bound of 4 entries' bytes (two
        // blocks each), the oldest unused go, and what the run used stays.
        let (dir, gate) = (
            PathBuf::from(".envc/cache/render"),
            Gate::new(root.path()).unwrap(),
        );
        let cache = cache_in(root.path(), "render");
        assert!(cache.read(&key_name(4)).is_some() && cache.read(&key_name(5)).is_some());
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.write(&key_name(6), &[b'x'; 5000]);
        let used = cache.run.used.lock().unwrap().clone();
        trim(root.path(), &dir, &gate, &used, 4 * 2 * BLOCK);
        let mut left: Vec<String> = cache
            .entries()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        left.sort();
        assert_eq!(left.len(), 4, "{left:?}");
        for kept in [4u128, 5, 6] {
            assert!(left.contains(&key_name(kept)), "{kept} was used: {left:?}");
        }
        // Over the bound with only used entries left, they stay.
        trim(root.path(), &dir, &gate, &used, 0);
        assert_eq!(cache.entries().len(), 3);
    }

    #[test]
    fn a_run_that_writes_lists_the_folder_once_when_it_ends_not_per_write() {
        let root = tempfile::tempdir().unwrap();
        let cache = cache_in(root.path(), "validate");
        for i in 0..2000u128 {
            cache.write(&key_name(i), b"");
        }
        assert_eq!(
            cache.entries().len(),
            2000,
            "nothing is trimmed while the run goes on"
        );
        drop(cache);
        assert_eq!(
            cache_in(root.path(), "validate").entries().len(),
            2000,
            "2000 blocks are under the bound"
        );
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
        let cache = cache_in(root.path(), "render");
        cache.write("a", b"x");
        assert_eq!(cache.read("a").as_deref(), Some(&b"x"[..]));
        let zero = root.path().join(".envc/cache/render/zero");
        std::os::unix::fs::symlink("/dev/zero", zero).unwrap();
        assert_eq!(cache.read("zero"), None);
        assert_eq!(cache.entries(), [PathBuf::from("a")]);
    }
}

//! Sets `ENVC_BUILD_ID`, a hash of everything compiled into the core (its sources, the
//! built-in templates (`builtin/`), schemas and data, and the locked dependencies), which the
//! on-disk caches key on: a build from other sources never reads their entries, and the same
//! sources built again do.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut hasher = DefaultHasher::new();
    for dir in ["src", "../../builtin", "../../schema", "../../data"] {
        println!("cargo:rerun-if-changed={dir}");
        hash_dir(Path::new(dir), &mut hasher);
    }
    println!("cargo:rerun-if-changed=../../Cargo.lock");
    std::fs::read("../../Cargo.lock")
        .unwrap_or_default()
        .hash(&mut hasher);
    println!("cargo:rustc-env=ENVC_BUILD_ID={:016x}", hasher.finish());
}

/// Every file under `dir`, in name order: its path and its bytes.
fn hash_dir(dir: &Path, hasher: &mut DefaultHasher) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else {
            path.to_string_lossy().hash(hasher);
            std::fs::read(&path).unwrap_or_default().hash(hasher);
        }
    }
}

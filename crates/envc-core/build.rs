//! Sets `ENVC_BUILD_ID`, a hash of everything compiled into the core (its sources, the
//! built-in templates (`builtin/`), schemas and data, and the locked dependencies), which the
//! on-disk caches key on: a build from other sources never reads their entries, and the same
//! sources built again do.
//!
//! Also turns `data/aws-region-types.json` into Rust (`region_types.rs` in `OUT_DIR`), so a
//! run looks types up in it without reading 77 KB of JSON first (0.6 M instructions of a
//! fresh `check`).

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
    write_region_types();
}

/// `data/aws-region-types.json` as sorted static slices: `TYPES` and `OFFERED` (each region
/// with its hex bitmap over `TYPES`) in `region_types.rs`, for the rules; `ZONES` (each
/// region's number of zones) in `region_zones.rs`, for validation.
fn write_region_types() {
    let path = "../../data/aws-region-types.json";
    let text = std::fs::read_to_string(path).expect("data/aws-region-types.json is readable");
    let data: serde_json::Value =
        serde_json::from_str(&text).expect("data/aws-region-types.json is JSON");
    let strings = |value: &serde_json::Value| -> Vec<String> {
        let items = value.as_array().expect("`types` is a list");
        items
            .iter()
            .map(|t| t.as_str().expect("a type is text").to_owned())
            .collect()
    };
    let types = strings(&data["types"]);
    let offered = data["offered"].as_object().expect("`offered` is a map");
    let mut regions: Vec<(&String, &str)> = offered
        .iter()
        .map(|(region, hex)| (region, hex.as_str().expect("a bitmap is text")))
        .collect();
    regions.sort();
    let mut out = String::from("/// The resource types of any region, in byte order.\n");
    out.push_str("static TYPES: &[&str] = &[\n");
    for kind in &types {
        out.push_str(&format!("    {kind:?},\n"));
    }
    out.push_str("];\n/// Each region, in byte order, with its hex bitmap over `TYPES`.\n");
    out.push_str("static OFFERED: &[(&str, &str)] = &[\n");
    for (region, hex) in regions {
        out.push_str(&format!("    ({region:?}, {hex:?}),\n"));
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("region_types.rs"), out).expect("OUT_DIR is writable");
    let mut out = String::from(
        "/// Each region, in byte order, with the number of its availability zones.\n",
    );
    out.push_str("static ZONES: &[(&str, u8)] = &[\n");
    let zones = data["zones"].as_object().expect("`zones` is a map");
    let mut zones: Vec<(&String, u64)> = zones
        .iter()
        .map(|(region, n)| (region, n.as_u64().expect("a count of zones")))
        .collect();
    zones.sort();
    for (region, count) in zones {
        out.push_str(&format!("    ({region:?}, {count}),\n"));
    }
    out.push_str("];\n");
    std::fs::write(Path::new(&out_dir).join("region_zones.rs"), out).expect("OUT_DIR is writable");
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

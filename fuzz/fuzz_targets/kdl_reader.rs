//! Arbitrary text through envc's direct KDL reader and the kdl crate: where the direct
//! reader answers, the kdl crate must accept the text and lead to the same nodes and spans.
//! Seeds: `fuzz/seeds` (the example's files).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = envc_core::source::SourceMap::default();
    let file = sources.add("fuzz.kdl", text.to_string());
    envc_core::parse::parse_fast_checked(text, file);
});

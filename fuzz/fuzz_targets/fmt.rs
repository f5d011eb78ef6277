//! `envc fmt` on arbitrary text: whatever it formats, formatting again gives the same text
//! (a fixpoint) and the kdl crate reads the same document from both.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = envc_core::source::SourceMap::default();
    let file = sources.add("fuzz.kdl", text.to_string());
    let Ok(formatted) = envc_core::format::format_file(file, &sources) else { return };
    let again = sources.add("again.kdl", formatted.clone());
    let twice = envc_core::format::format_file(again, &sources).expect("formatted text formats");
    assert_eq!(formatted, twice, "fmt is not a fixpoint on {text:?}");
});

//! libFuzzer entry point of the `label_selector` target; the body is shared with
//! the stable smoke runner (`src/bin/smoke/main.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ironclad_fuzz::selectors::label_selector(data);
});

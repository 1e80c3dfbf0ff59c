//! libFuzzer entry point of the `field_selector` target; the body is shared with
//! the stable smoke runner (`src/bin/smoke/main.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ironclad_fuzz::selectors::field_selector(data);
});

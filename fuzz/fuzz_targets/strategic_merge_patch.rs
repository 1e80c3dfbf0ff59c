//! libFuzzer entry point of the `strategic_merge_patch` target; the body is shared with
//! the stable smoke runner (`src/bin/smoke/main.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ironclad_fuzz::patches::strategic_merge_patch(data);
});

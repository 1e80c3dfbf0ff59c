//! libFuzzer entry point of the `abac_policy` target; the body is shared with
//! the stable smoke runner (`src/bin/smoke/main.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ironclad_fuzz::abac::abac_policy(data);
});

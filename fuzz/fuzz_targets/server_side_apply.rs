//! libFuzzer entry point of the `server_side_apply` target; the body is shared with
//! the stable smoke runner (`src/bin/smoke/main.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ironclad_fuzz::patches::server_side_apply(data);
});

//! The bodies of ironclad's fuzz targets, shared by the libFuzzer binaries
//! in `fuzz_targets/` (run with `cargo +nightly fuzz run <target>`) and by
//! the stable smoke runner `src/bin/smoke/main.rs` that CI runs (`make
//! fuzz-smoke`).
//!
//! Every target takes arbitrary bytes and panics only when the code under
//! test misbehaves: a panic inside a parser, or a broken invariant checked
//! here (a printed selector that does not parse back to itself, a merge
//! patch that is not idempotent, a decoded body that is not an object). A
//! target returns whether the parser accepted the input, which the smoke
//! runner uses to keep structured inputs for further mutation.
#![forbid(unsafe_code)]

pub mod abac;
pub mod bodies;
mod fixtures;
pub mod mutate;
pub mod patches;
pub mod selectors;
pub mod tokens;

/// A fuzz target: arbitrary bytes in, whether the input was accepted out.
pub type Target = fn(&[u8]) -> bool;

/// Every target by the name of its libFuzzer binary (and of its directory
/// under `seeds/`, `corpus/` and `artifacts/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("label_selector", selectors::label_selector),
    ("field_selector", selectors::field_selector),
    ("json_patch", patches::json_patch),
    ("merge_patch", patches::merge_patch),
    ("strategic_merge_patch", patches::strategic_merge_patch),
    ("server_side_apply", patches::server_side_apply),
    ("body_json", bodies::body_json),
    ("body_yaml", bodies::body_yaml),
    ("body_protobuf", bodies::body_protobuf),
    ("abac_policy", abac::abac_policy),
    ("token", tokens::token),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_libfuzzer_binary_and_seeds() {
        let root = env!("CARGO_MANIFEST_DIR");
        for (name, _) in TARGETS {
            let bin = std::path::Path::new(root).join(format!("fuzz_targets/{name}.rs"));
            assert!(bin.is_file(), "no {}", bin.display());
            let seeds = std::path::Path::new(root).join(format!("seeds/{name}"));
            let count = std::fs::read_dir(&seeds).map(|d| d.count()).unwrap_or(0);
            assert!(count > 0, "no seeds in {}", seeds.display());
        }
        assert!(target("label_selector").is_some());
        assert!(target("nope").is_none());
    }
}

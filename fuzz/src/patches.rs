//! The four PATCH types, with arbitrary patch bodies against a fixed
//! Deployment, ConfigMap and Service. Each body is decoded as the API server decodes
//! it: JSON and merge patches take the raw bytes, a strategic merge patch
//! is parsed as JSON first (the server answers 400 to anything else), an
//! apply configuration is decoded as YAML (JSON being YAML too).

use ironclad_patch::ApplyError;
use ironclad_wire::BodyFormat;
use serde_json::Value;

use crate::fixtures::{self, NOW};

/// An RFC 6902 JSON patch against each object.
pub fn json_patch(data: &[u8]) -> bool {
    let mut accepted = false;
    for (doc, _) in fixtures::patch_subjects() {
        accepted |= ironclad_patch::json_patch(doc, data).is_ok();
    }
    accepted
}

/// An RFC 7386 merge patch against each object. Merge patches are
/// idempotent, so applying the patch again to the result must change
/// nothing.
pub fn merge_patch(data: &[u8]) -> bool {
    let mut accepted = false;
    for (doc, _) in fixtures::patch_subjects() {
        let Ok(once) = ironclad_patch::merge_patch(doc, data) else {
            continue;
        };
        accepted = true;
        match ironclad_patch::merge_patch(&once, data) {
            Ok(twice) => assert_eq!(
                twice,
                once,
                "merge patch {:?} is not idempotent",
                String::from_utf8_lossy(data)
            ),
            Err(err) => panic!(
                "merge patch {:?} applied once but not twice: {err}",
                String::from_utf8_lossy(data)
            ),
        }
    }
    accepted
}

/// A strategic merge patch against each object, with its schema's
/// merge metadata. An accepted patch must leave an object.
pub fn strategic_merge_patch(data: &[u8]) -> bool {
    let Ok(patch) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    let mut accepted = false;
    for (doc, type_name) in fixtures::patch_subjects() {
        if let Ok(out) = ironclad_patch::strategic_merge_patch(doc, &patch, type_name) {
            assert!(out.is_object(), "strategic merge patch {patch} left {out}");
            accepted = true;
        }
    }
    accepted
}

/// A server-side apply by manager `fuzz`: creating the object, and
/// updating it where another manager owns its fields. Forcing must resolve
/// every conflict, and the applier re-applying the same configuration to
/// the result must not conflict with itself. The configuration goes to the
/// object of its `kind` (as the URL would route it), or to each object when
/// its kind is none of theirs.
pub fn server_side_apply(data: &[u8]) -> bool {
    let Ok(applied) = ironclad_wire::decode(BodyFormat::Yaml, data) else {
        return false;
    };
    let kind = applied.get("kind").and_then(Value::as_str);
    let subjects = fixtures::live_subjects();
    let of_kind = |(live, _): &&(Option<Value>, &str)| {
        live.as_ref()
            .and_then(|l| l.get("kind"))
            .and_then(Value::as_str)
            == kind
    };
    let routed = subjects.iter().any(|s| of_kind(&s));
    let mut accepted = false;
    for (live, type_name) in subjects.iter().filter(|s| !routed || of_kind(s)) {
        let Some(live) = live else {
            panic!("the {type_name} fixture cannot be applied by its first manager");
        };
        for existing in [None, Some(live)] {
            accepted |= apply_twice(existing, &applied, type_name);
        }
    }
    accepted
}

/// Applies `applied` over `live` (unforced, then forced if that conflicts),
/// then once more over the result.
fn apply_twice(live: Option<&Value>, applied: &Value, type_name: &str) -> bool {
    let apply = |live: Option<&Value>, force: bool| {
        ironclad_patch::server_side_apply(live, applied, "fuzz", force, type_name, NOW)
    };
    let result = match apply(live, false) {
        Err(ApplyError::Conflicts(_)) => match apply(live, true) {
            Err(ApplyError::Conflicts(conflicts)) => {
                panic!("forced apply of {applied} still conflicts: {conflicts:?}")
            }
            other => other,
        },
        other => other,
    };
    let Ok(result) = result else {
        return false;
    };
    assert!(result.is_object(), "apply of {applied} left {result}");
    if let Err(ApplyError::Conflicts(conflicts)) = apply(Some(&result), false) {
        panic!("re-applying {applied} conflicts with its own result {result}: {conflicts:?}");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_patches_are_accepted() {
        assert!(json_patch(
            br#"[{"op":"replace","path":"/spec/replicas","value":3}]"#
        ));
        assert!(merge_patch(br#"{"metadata":{"labels":{"tier":null}}}"#));
        assert!(strategic_merge_patch(
            br#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:2","name":"nginx"}]}}}}"#
        ));
        assert!(server_side_apply(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\ndata:\n  shared: \"2\"\n"
        ));
        assert!(!strategic_merge_patch(b"not json"));
    }

    #[test]
    fn the_live_fixtures_carry_managed_fields() {
        for (live, _) in fixtures::live_subjects() {
            let live = live.as_ref().unwrap();
            assert!(live["metadata"]["managedFields"].is_array(), "{live}");
        }
    }
}

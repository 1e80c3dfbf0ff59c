//! Request bodies in the three encodings a create or update may use,
//! decoded as the API server decodes them. A decoded body must be an
//! object whatever the encoding.

use ironclad_wire::{BodyFormat, decode, duplicate_fields};

/// Decodes a JSON body, and scans it for duplicate keys as strict field
/// validation does (on every input: a body that does not parse still gets
/// scanned up to its error).
pub fn body_json(data: &[u8]) -> bool {
    let dups = duplicate_fields(data);
    let mut unique = dups.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        dups.len(),
        "a duplicate reported twice: {dups:?}"
    );
    decoded(BodyFormat::Json, data)
}

/// Decodes a YAML body (exactly one document, an object at the top).
pub fn body_yaml(data: &[u8]) -> bool {
    decoded(BodyFormat::Yaml, data)
}

/// Decodes a Kubernetes protobuf body (the `k8s\0` envelope).
pub fn body_protobuf(data: &[u8]) -> bool {
    decoded(BodyFormat::Protobuf, data)
}

fn decoded(format: BodyFormat, data: &[u8]) -> bool {
    match decode(format, data) {
        Ok(value) => {
            assert!(value.is_object(), "{format:?} body decoded to {value}");
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_accepted_and_other_values_are_not() {
        assert!(body_json(br#"{"a":1,"a":2}"#));
        assert!(!body_json(b"[1]"));
        assert!(body_yaml(b"kind: Pod\n"));
        assert!(!body_yaml(b"- a\n"));
        assert!(!body_protobuf(b"k8s\0\xff"));
    }
}

//! The pod-template-hash: names a Deployment's ReplicaSet after its
//! template, so that the same template always maps to the same
//! ReplicaSet. Upstream hashes the Go structure with FNV-32a (plus the
//! collision count) and spells the decimal number in a safe alphabet; we
//! hash the template's canonical JSON the same way.

use k8s_openapi::api::core::v1::PodTemplateSpec;

/// Upstream's `rand.SafeEncodeString` alphabet: no vowels, no
/// look-alikes, so a hash never spells a word.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn fnv32a(h: &mut u32, bytes: &[u8]) {
    for b in bytes {
        *h ^= u32::from(*b);
        *h = h.wrapping_mul(0x0100_0193);
    }
}

/// The hash of `template` with `collision_count` (bumped when a
/// different ReplicaSet already has the name).
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    // k8s-openapi serializes fields in a fixed order and maps sorted, so
    // equal templates give equal bytes.
    let json = serde_json::to_vec(template).unwrap_or_default();
    fnv32a(&mut h, &json);
    if let Some(c) = collision_count {
        // Upstream writes the count into 8 little-endian bytes.
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&c.to_le_bytes());
        fnv32a(&mut h, &buf);
    }
    safe_encode(&h.to_string())
}

/// Each character to one of the safe alphabet.
fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_safe_and_collision_aware() {
        let t: PodTemplateSpec = serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}
        }))
        .unwrap();
        let a = compute_hash(&t, None);
        assert_eq!(a, compute_hash(&t.clone(), None));
        assert!(a.bytes().all(|b| ALPHANUMS.contains(&b)), "{a}");
        assert!(!a.is_empty() && a.len() <= 10);
        assert_ne!(a, compute_hash(&t, Some(1)));
        // Upstream's encoding of a known number: '0' is 48, 48 % 27 = 21, the 22nd letter.
        assert_eq!(safe_encode("0"), "4");
    }
}

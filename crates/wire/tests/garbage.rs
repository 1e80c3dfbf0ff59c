//! Hostile and broken bodies: every decoder must answer with an error, never panic or
//! overflow the stack (a fuzz target calls `decode` on arbitrary bytes).
#![allow(clippy::unwrap_used)]

use ironclad_wire::{BodyFormat, decode, duplicate_fields};
use k8s_pb::api::{apps, core};
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use prost::Message;

const FORMATS: [BodyFormat; 3] = [BodyFormat::Json, BodyFormat::Yaml, BodyFormat::Protobuf];

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let mut body = b"k8s\0".to_vec();
    Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: None,
        content_type: None,
    }
    .encode(&mut body)
    .unwrap();
    body
}

/// Valid bodies of a few shapes, to truncate and mutate.
fn valid_bodies() -> Vec<Vec<u8>> {
    let pod_spec = core::v1::PodSpec {
        containers: vec![core::v1::Container {
            name: Some("c".into()),
            image: Some("nginx".into()),
            command: vec!["sleep".into(), "3600".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let deployment = apps::v1::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: Some("d".into()),
            labels: [("app".to_owned(), "d".to_owned())].into(),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        spec: Some(apps::v1::DeploymentSpec {
            replicas: Some(2),
            template: Some(core::v1::PodTemplateSpec {
                metadata: None,
                spec: Some(pod_spec),
            }),
            ..Default::default()
        }),
        status: None,
    };
    let secret = core::v1::Secret {
        metadata: Some(meta::ObjectMeta {
            name: Some("s".into()),
            ..Default::default()
        }),
        data: [("a".to_owned(), b"b".to_vec())].into(),
        ..Default::default()
    };
    vec![
        envelope("apps/v1", "Deployment", deployment.encode_to_vec()),
        envelope("v1", "Secret", secret.encode_to_vec()),
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"v"}}"#
            .to_vec(),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n".to_vec(),
    ]
}

fn decode_everything(body: &[u8]) {
    for format in FORMATS {
        let _ = decode(format, body);
    }
    let _ = duplicate_fields(body);
}

#[test]
fn valid_bodies_decode() {
    let bodies = valid_bodies();
    assert!(decode(BodyFormat::Protobuf, &bodies[0]).is_ok());
    assert!(decode(BodyFormat::Protobuf, &bodies[1]).is_ok());
    assert!(decode(BodyFormat::Json, &bodies[2]).is_ok());
    assert!(decode(BodyFormat::Yaml, &bodies[3]).is_ok());
}

#[test]
fn every_truncation_is_survived() {
    for body in valid_bodies() {
        for len in 0..body.len() {
            decode_everything(&body[..len]);
        }
    }
}

#[test]
fn every_byte_flip_is_survived() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for body in valid_bodies() {
        for i in 0..body.len() {
            for bit in 0..8 {
                let mut mutated = body.clone();
                mutated[i] ^= 1 << bit;
                decode_everything(&mutated);
            }
            let mut mutated = body.clone();
            mutated[i] = rng.next() as u8;
            decode_everything(&mutated);
        }
    }
}

#[test]
fn random_bodies_are_survived() {
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    for round in 0..20_000 {
        let len = rng.below(256);
        let mut body = rng.bytes(len);
        if round % 2 == 0 {
            body.splice(0..0, b"k8s\0".iter().copied());
        }
        decode_everything(&body);
    }
    // Random splices of valid bodies.
    let bodies = valid_bodies();
    for _ in 0..5_000 {
        let a = &bodies[rng.below(bodies.len())];
        let b = &bodies[rng.below(bodies.len())];
        let mut body = a[..rng.below(a.len())].to_vec();
        body.extend_from_slice(&b[rng.below(b.len())..]);
        decode_everything(&body);
    }
}

#[test]
fn hostile_lengths_and_nesting() {
    // A length prefix far beyond the body.
    decode_everything(b"k8s\0\x12\xff\xff\xff\xff\xff\xff\xff\xff\x7f");
    decode_everything(b"k8s\0\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01");
    // Deeply nested groups (wire type 3) and messages.
    let mut body = b"k8s\0".to_vec();
    body.extend(std::iter::repeat_n(0x0b, 100_000));
    decode_everything(&body);
    decode_everything(&b"[".repeat(200_000));
    decode_everything(&b"{\"a\":".repeat(200_000));
    decode_everything(&b"- ".repeat(100_000));
    decode_everything(&b"a: &a [*a, *a, *a]\n".repeat(10));
    let mut yaml = String::from("a: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    assert!(decode(BodyFormat::Yaml, yaml.as_bytes()).is_err());
}

#[test]
fn nested_protobuf_objects_are_bounded() {
    // A ControllerRevision's data may embed another protobuf object; each level costs
    // stack, so nesting is bounded.
    let mut raw = envelope(
        "v1",
        "ConfigMap",
        core::v1::ConfigMap::default().encode_to_vec(),
    );
    let mut depth_ok = 0;
    for depth in 1..=32 {
        let revision = apps::v1::ControllerRevision {
            metadata: None,
            data: Some(RawExtension { raw: Some(raw) }),
            revision: Some(depth),
        };
        raw = envelope("apps/v1", "ControllerRevision", revision.encode_to_vec());
        match decode(BodyFormat::Protobuf, &raw) {
            Ok(v) => {
                depth_ok = depth;
                assert_eq!(v["revision"], depth);
            }
            Err(e) => assert!(e.to_string().contains("nested too deeply"), "{e}"),
        }
    }
    assert!((2..32).contains(&depth_ok), "{depth_ok}");
}

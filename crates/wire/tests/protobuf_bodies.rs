//! Sub-resource and option bodies (DeleteOptions, Eviction, TokenRequest), the
//! supported kinds, and the errors a broken envelope gives.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod objects;

use ironclad_wire::{BodyFormat, WireError, decode, protobuf};
use k8s_pb::api::{authentication, coordination, core, policy};
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use objects::*;
use prost::Message;
use serde_json::json;

#[test]
fn subresource_and_option_bodies() {
    let options = meta::DeleteOptions {
        grace_period_seconds: Some(0),
        propagation_policy: s("Background"),
        dry_run: vec!["All".into()],
        preconditions: Some(meta::Preconditions {
            uid: s("u-1"),
            resource_version: None,
        }),
        ..Default::default()
    };
    let expected = |api_version: &str| {
        json!({"apiVersion":api_version,"kind":"DeleteOptions","gracePeriodSeconds":0,
            "preconditions":{"uid":"u-1"},"propagationPolicy":"Background","dryRun":["All"]})
    };
    // DeleteOptions is registered in every group version upstream.
    for api_version in ["meta.k8s.io/v1", "v1", "apps/v1"] {
        assert_eq!(
            decoded(api_version, "DeleteOptions", &options),
            expected(api_version)
        );
    }

    let eviction = policy::v1::Eviction {
        metadata: meta("web-0", &[]),
        delete_options: Some(meta::DeleteOptions {
            grace_period_seconds: Some(30),
            ..Default::default()
        }),
    };
    assert_eq!(
        decoded("policy/v1", "Eviction", &eviction),
        json!({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-0"},
            "deleteOptions":{"gracePeriodSeconds":30}})
    );

    // kubectl create token default --duration=1h
    let token = authentication::v1::TokenRequest {
        metadata: meta("", &[]),
        spec: Some(authentication::v1::TokenRequestSpec {
            audiences: vec![],
            expiration_seconds: Some(3600),
            bound_object_ref: None,
        }),
        status: Some(authentication::v1::TokenRequestStatus {
            token: s(""),
            expiration_timestamp: Some(meta::Time::default()),
        }),
    };
    assert_eq!(
        decoded("authentication.k8s.io/v1", "TokenRequest", &token),
        json!({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","metadata":{},
            "spec":{"expirationSeconds":3600},"status":{"token":""}})
    );

    let lease = coordination::v1::Lease {
        metadata: meta("ironclad-controller", &[]),
        spec: Some(coordination::v1::LeaseSpec {
            holder_identity: s("node-1"),
            lease_duration_seconds: Some(15),
            renew_time: Some(meta::MicroTime {
                seconds: Some(1_700_000_000),
                nanos: Some(123_456_789),
            }),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    assert_eq!(
        decoded("coordination.k8s.io/v1", "Lease", &lease),
        json!({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"ironclad-controller"},
            "spec":{"holderIdentity":"node-1","leaseDurationSeconds":15,
                "renewTime":"2023-11-14T22:13:20.123456Z","leaseTransitions":0}})
    );
}

#[test]
fn the_brief_s_kinds_are_supported() {
    let kinds = protobuf::supported_kinds();
    for (api_version, kind) in [
        ("v1", "Secret"),
        ("v1", "ServiceAccount"),
        ("v1", "Namespace"),
        ("v1", "ConfigMap"),
        ("v1", "Pod"),
        ("v1", "Service"),
        ("v1", "ReplicationController"),
        ("v1", "Endpoints"),
        ("v1", "Event"),
        ("v1", "Node"),
        ("v1", "PodTemplate"),
        ("v1", "LimitRange"),
        ("v1", "ResourceQuota"),
        ("v1", "Binding"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("coordination.k8s.io/v1", "Lease"),
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
        ("authentication.k8s.io/v1", "SelfSubjectReview"),
        ("authentication.k8s.io/v1", "TokenRequest"),
        ("policy/v1", "Eviction"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "Ingress"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("meta.k8s.io/v1", "DeleteOptions"),
    ] {
        assert!(
            kinds.contains(&(api_version, kind)),
            "{api_version} {kind} missing"
        );
    }
}

#[test]
fn envelope_errors_are_bad_requests() {
    let garbage_object = envelope("apps/v1", "Deployment", vec![0x0a, 0xff, 0x01]);
    for (body, message) in [
        (b"{}".to_vec(), "protobuf body: missing k8s\\0 magic"),
        (
            envelope("example.com/v1", "Widget", vec![]),
            "protobuf body: unsupported kind example.com/v1 Widget",
        ),
        (
            envelope("v1", "", vec![]),
            "protobuf body: the envelope names no kind",
        ),
    ] {
        assert_eq!(
            decode(BodyFormat::Protobuf, &body).unwrap_err().to_string(),
            message
        );
    }
    let e = decode(BodyFormat::Protobuf, &garbage_object).unwrap_err();
    assert!(
        matches!(&e, WireError::Protobuf { what, .. } if what == "apps/v1 Deployment"),
        "{e}"
    );
    let e = decode(BodyFormat::Protobuf, b"k8s\0\x0a\x05\x0a").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("protobuf body: cannot decode the runtime.Unknown envelope: "),
        "{e}"
    );

    let mut gzipped = b"k8s\0".to_vec();
    Unknown {
        type_meta: Some(TypeMeta {
            api_version: s("v1"),
            kind: s("Pod"),
        }),
        raw: Some(vec![]),
        content_encoding: s("gzip"),
        content_type: None,
    }
    .encode(&mut gzipped)
    .unwrap();
    assert_eq!(
        decode(BodyFormat::Protobuf, &gzipped)
            .unwrap_err()
            .to_string(),
        "protobuf body: unsupported content encoding \"gzip\""
    );

    let bad_fields = core::v1::ConfigMap {
        metadata: Some(meta::ObjectMeta {
            managed_fields: vec![meta::ManagedFieldsEntry {
                fields_v1: Some(meta::FieldsV1 {
                    raw: Some(b"{oops".to_vec()),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let e = decode(
        BodyFormat::Protobuf,
        &envelope("v1", "ConfigMap", bad_fields.encode_to_vec()),
    )
    .unwrap_err();
    assert!(
        matches!(&e, WireError::InvalidValue { path, .. } if path == "metadata.managedFields[0].fieldsV1"),
        "{e}"
    );
}

//! Test-only: every field of every supported kind, filled in, converted, and read back
//! through k8s-openapi's typed structs. k8s-openapi drops keys it does not know, so a
//! misspelt JSON name or a wrongly (un)inlined struct shows up as a difference.

use serde_json::Value;

use super::kinds::{KINDS, NAMES, SAMPLES};

/// Path suffixes of fields newer than the Kubernetes 1.33 model k8s-openapi is built
/// with (k8s-pb follows 1.35); they cannot be checked this way.
const NEWER_THAN_1_33: &[&str] = &[
    "spec.hostnameOverride",
    "spec.workloadRef",
    "].restartPolicyRules",
    "valueFrom.fileKeyRef",
    "].podCertificate",
    "Pod.status.allocatedResources",
    "Pod.status.resources",
    "Pod.status.extendedResourceClaimStatus",
    "Node.status.declaredFeatures",
    "CSIDriver.spec.serviceAccountTokenInSecrets",
];

/// The typed round trip of one converted object, if k8s-openapi has its kind.
fn typed_round_trip(api_version: &str, kind: &str, value: Value) -> Option<Value> {
    macro_rules! typed {
        ($($t:ty),* $(,)?) => {
            $(
                if api_version == <$t as k8s_openapi::Resource>::API_VERSION
                    && kind == <$t as k8s_openapi::Resource>::KIND
                {
                    let typed: $t = serde_json::from_value(value).unwrap();
                    return Some(serde_json::to_value(typed).unwrap());
                }
            )*
        };
    }
    use k8s_openapi::api::*;
    typed!(
        core::v1::Binding,
        core::v1::ComponentStatus,
        core::v1::ConfigMap,
        core::v1::Endpoints,
        core::v1::Event,
        core::v1::LimitRange,
        core::v1::Namespace,
        core::v1::Node,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
        core::v1::Pod,
        core::v1::PodTemplate,
        core::v1::ReplicationController,
        core::v1::ResourceQuota,
        core::v1::Secret,
        core::v1::Service,
        core::v1::ServiceAccount,
        apps::v1::ControllerRevision,
        apps::v1::DaemonSet,
        apps::v1::Deployment,
        apps::v1::ReplicaSet,
        apps::v1::StatefulSet,
        batch::v1::CronJob,
        batch::v1::Job,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        authorization::v1::LocalSubjectAccessReview,
        authorization::v1::SelfSubjectAccessReview,
        authorization::v1::SelfSubjectRulesReview,
        authorization::v1::SubjectAccessReview,
        authentication::v1::SelfSubjectReview,
        authentication::v1::TokenReview,
        authentication::v1::TokenRequest,
        coordination::v1::Lease,
        policy::v1::PodDisruptionBudget,
        policy::v1::Eviction,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v1::Scale,
        autoscaling::v2::HorizontalPodAutoscaler,
        networking::v1::IPAddress,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::NetworkPolicy,
        networking::v1::ServiceCIDR,
        scheduling::v1::PriorityClass,
        certificates::v1::CertificateSigningRequest,
        events::v1::Event,
        discovery::v1::EndpointSlice,
        storage::v1::CSIDriver,
        storage::v1::CSINode,
        storage::v1::CSIStorageCapacity,
        storage::v1::StorageClass,
        storage::v1::VolumeAttachment,
        node::v1::RuntimeClass,
    );
    if kind == "DeleteOptions" {
        let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions =
            serde_json::from_value(value).unwrap();
        return Some(serde_json::to_value(typed).unwrap());
    }
    None
}

/// Paths where `ours` has something `typed` does not.
fn lost(path: &str, ours: &Value, typed: Option<&Value>, out: &mut Vec<String>) {
    match (ours, typed) {
        (Value::Object(ours), Some(Value::Object(typed))) => {
            for (k, v) in ours {
                let path = format!("{path}.{k}");
                if typed.get(k).is_none() && NEWER_THAN_1_33.iter().any(|s| path.ends_with(s)) {
                    continue;
                }
                lost(&path, v, typed.get(k), out);
            }
        }
        (Value::Array(ours), Some(Value::Array(typed))) => {
            for (i, v) in ours.iter().enumerate() {
                lost(&format!("{path}[{i}]"), v, typed.get(i), out);
            }
        }
        (ours, Some(typed)) if ours == typed => {}
        (ours, typed) => out.push(format!("{path}: {ours} became {typed:?}")),
    }
}

#[test]
fn every_field_of_every_kind_has_its_upstream_json_name() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for ((entry, (api_version, kind)), sample) in KINDS.iter().zip(NAMES).zip(SAMPLES) {
        assert_eq!((entry.api_version, entry.kind), (*api_version, *kind));
        let mut body = super::MAGIC.to_vec();
        prost::Message::encode(
            &k8s_pb::apimachinery::pkg::runtime::Unknown {
                type_meta: Some(k8s_pb::apimachinery::pkg::runtime::TypeMeta {
                    api_version: Some(api_version.to_string()),
                    kind: Some(kind.to_string()),
                }),
                raw: Some(sample()),
                content_encoding: Some(String::new()),
                content_type: Some(String::new()),
            },
            &mut body,
        )
        .unwrap();
        let ours = super::decode(&body).unwrap();
        assert!(
            ours["metadata"].is_object() || *kind == "DeleteOptions",
            "{kind}: {ours}"
        );
        let Some(typed) = typed_round_trip(api_version, kind, ours.clone()) else {
            continue;
        };
        checked += 1;
        lost(
            &format!("{api_version} {kind}"),
            &ours,
            Some(&typed),
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 55, "only {checked} kinds checked");
}

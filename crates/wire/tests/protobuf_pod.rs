//! A pod using every common part of the PodSpec tree (volumes, probes, security
//! contexts, affinity, tolerations, topology spread), decoded and compared exactly.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod objects;

use k8s_pb::api::core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use objects::*;
use serde_json::json;

#[test]
fn a_pod_spec_with_every_common_part() {
    let pod = core::v1::Pod {
        metadata: Some(meta::ObjectMeta {
            name: s("p"),
            namespace: s("ns"),
            annotations: map(&[("a", "")]),
            deletion_grace_period_seconds: Some(0),
            owner_references: vec![meta::OwnerReference {
                api_version: s("apps/v1"),
                kind: s("ReplicaSet"),
                name: s("rs"),
                uid: s("u-1"),
                controller: Some(true),
                block_owner_deletion: Some(false),
            }],
            finalizers: vec!["f".into()],
            managed_fields: vec![meta::ManagedFieldsEntry {
                manager: s("kubectl"),
                operation: s("Update"),
                api_version: s("v1"),
                time: Some(meta::Time {
                    seconds: Some(1_700_000_000),
                    nanos: Some(0),
                }),
                fields_type: s("FieldsV1"),
                fields_v1: Some(meta::FieldsV1 {
                    raw: Some(br#"{"f:spec":{}}"#.to_vec()),
                }),
                subresource: s(""),
            }],
            ..Default::default()
        }),
        spec: Some(core::v1::PodSpec {
            volumes: vec![
                core::v1::Volume {
                    name: s("scratch"),
                    volume_source: Some(core::v1::VolumeSource {
                        empty_dir: Some(core::v1::EmptyDirVolumeSource {
                            medium: s(""),
                            size_limit: None,
                        }),
                        ..Default::default()
                    }),
                },
                core::v1::Volume {
                    name: s("cfg"),
                    volume_source: Some(core::v1::VolumeSource {
                        config_map: Some(core::v1::ConfigMapVolumeSource {
                            local_object_reference: Some(core::v1::LocalObjectReference {
                                name: s("cm"),
                            }),
                            items: vec![core::v1::KeyToPath {
                                key: s("k"),
                                path: s("p"),
                                mode: Some(0o400),
                            }],
                            default_mode: Some(0o644),
                            optional: Some(false),
                        }),
                        ..Default::default()
                    }),
                },
                core::v1::Volume {
                    name: s("token"),
                    volume_source: Some(core::v1::VolumeSource {
                        projected: Some(core::v1::ProjectedVolumeSource {
                            sources: vec![core::v1::VolumeProjection {
                                service_account_token: Some(
                                    core::v1::ServiceAccountTokenProjection {
                                        audience: s(""),
                                        expiration_seconds: Some(3607),
                                        path: s("token"),
                                    },
                                ),
                                ..Default::default()
                            }],
                            default_mode: None,
                        }),
                        ..Default::default()
                    }),
                },
                core::v1::Volume {
                    name: s("data"),
                    volume_source: Some(core::v1::VolumeSource {
                        persistent_volume_claim: Some(
                            core::v1::PersistentVolumeClaimVolumeSource {
                                claim_name: s("pvc"),
                                read_only: Some(false),
                            },
                        ),
                        ..Default::default()
                    }),
                },
            ],
            containers: vec![core::v1::Container {
                name: s("app"),
                image: s("nginx"),
                ports: vec![core::v1::ContainerPort {
                    name: s("http"),
                    host_port: Some(0),
                    container_port: Some(80),
                    protocol: s("TCP"),
                    host_ip: s(""),
                }],
                env: vec![core::v1::EnvVar {
                    name: s("PASSWORD"),
                    value: s(""),
                    value_from: Some(core::v1::EnvVarSource {
                        secret_key_ref: Some(core::v1::SecretKeySelector {
                            local_object_reference: Some(core::v1::LocalObjectReference {
                                name: s("db"),
                            }),
                            key: s("pw"),
                            optional: None,
                        }),
                        ..Default::default()
                    }),
                }],
                resources: Some(core::v1::ResourceRequirements {
                    limits: quantities(&[("cpu", "500m"), ("memory", "128Mi")]),
                    requests: quantities(&[("cpu", "100m")]),
                    claims: vec![],
                }),
                liveness_probe: Some(core::v1::Probe {
                    handler: Some(core::v1::ProbeHandler {
                        http_get: Some(core::v1::HttpGetAction {
                            path: s("/healthz"),
                            port: int_or_string_str("http"),
                            host: s(""),
                            scheme: s("HTTP"),
                            http_headers: vec![],
                        }),
                        ..Default::default()
                    }),
                    initial_delay_seconds: Some(3),
                    timeout_seconds: Some(0),
                    period_seconds: Some(10),
                    success_threshold: Some(0),
                    failure_threshold: Some(0),
                    termination_grace_period_seconds: None,
                }),
                readiness_probe: Some(core::v1::Probe {
                    handler: Some(core::v1::ProbeHandler {
                        tcp_socket: Some(core::v1::TcpSocketAction {
                            port: int_or_string_int(80),
                            host: s(""),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                security_context: Some(core::v1::SecurityContext {
                    capabilities: Some(core::v1::Capabilities {
                        add: vec![],
                        drop: vec!["ALL".into()],
                    }),
                    privileged: Some(false),
                    run_as_non_root: Some(true),
                    run_as_user: Some(0),
                    allow_privilege_escalation: Some(false),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            affinity: Some(core::v1::Affinity {
                node_affinity: Some(core::v1::NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(
                        core::v1::NodeSelector {
                            node_selector_terms: vec![core::v1::NodeSelectorTerm {
                                match_expressions: vec![core::v1::NodeSelectorRequirement {
                                    key: s("zone"),
                                    operator: s("In"),
                                    values: vec!["a".into()],
                                }],
                                match_fields: vec![],
                            }],
                        },
                    ),
                    preferred_during_scheduling_ignored_during_execution: vec![],
                }),
                ..Default::default()
            }),
            tolerations: vec![core::v1::Toleration {
                key: s("node.kubernetes.io/not-ready"),
                operator: s("Exists"),
                value: s(""),
                effect: s("NoExecute"),
                toleration_seconds: Some(300),
            }],
            topology_spread_constraints: vec![core::v1::TopologySpreadConstraint {
                max_skew: Some(1),
                topology_key: s("zone"),
                when_unsatisfiable: s("DoNotSchedule"),
                label_selector: Some(meta::LabelSelector {
                    match_labels: map(&[("app", "p")]),
                    match_expressions: vec![],
                }),
                ..Default::default()
            }],
            host_pid: Some(false),
            host_ipc: Some(true),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        decoded("v1", "Pod", &pod),
        json!({"apiVersion":"v1","kind":"Pod",
            "metadata":{"name":"p","namespace":"ns","annotations":{"a":""},
                "deletionGracePeriodSeconds":0,
                "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u-1",
                    "controller":true,"blockOwnerDeletion":false}],
                "finalizers":["f"],
                "managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1",
                    "time":"2023-11-14T22:13:20Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{}}}]},
            "spec":{
                "volumes":[
                    {"name":"scratch","emptyDir":{}},
                    {"name":"cfg","configMap":{"name":"cm","items":[{"key":"k","path":"p","mode":256}],
                        "defaultMode":420,"optional":false}},
                    {"name":"token","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}]}},
                    {"name":"data","persistentVolumeClaim":{"claimName":"pvc"}}],
                "containers":[{"name":"app","image":"nginx",
                    "ports":[{"name":"http","containerPort":80,"protocol":"TCP"}],
                    "env":[{"name":"PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"pw"}}}],
                    "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"100m"}},
                    "livenessProbe":{"httpGet":{"path":"/healthz","port":"http","scheme":"HTTP"},
                        "initialDelaySeconds":3,"periodSeconds":10},
                    "readinessProbe":{"tcpSocket":{"port":80}},
                    "securityContext":{"capabilities":{"drop":["ALL"]},"privileged":false,
                        "runAsUser":0,"runAsNonRoot":true,"allowPrivilegeEscalation":false}}],
                "hostIPC":true,
                "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]}}},
                "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists",
                    "effect":"NoExecute","tolerationSeconds":300}],
                "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone",
                    "whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"p"}}}]}})
    );
}

//! Objects built with k8s-pb's prost types, wrapped in the `k8s\0` envelope, decoded,
//! and compared with the JSON upstream would hold for them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use ironclad_wire::{BodyFormat, WireError, decode, protobuf};
use k8s_pb::api::{apps, authentication, batch, coordination, core, policy, rbac};
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{Value, json};

fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let mut body = b"k8s\0".to_vec();
    Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    }
    .encode(&mut body)
    .unwrap();
    body
}

fn decoded(api_version: &str, kind: &str, object: &impl Message) -> Value {
    decode(
        BodyFormat::Protobuf,
        &envelope(api_version, kind, object.encode_to_vec()),
    )
    .unwrap()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// ObjectMeta the way gogo writes kubectl's objects: zero strings present.
fn meta(name: &str, labels: &[(&str, &str)]) -> Option<meta::ObjectMeta> {
    Some(meta::ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(""),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(meta::Time::default()),
        labels: map(labels),
        ..Default::default()
    })
}

fn int_or_string_int(v: i32) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(0),
        int_val: Some(v),
        str_val: s(""),
    })
}

fn int_or_string_str(v: &str) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: s(v),
    })
}

fn quantities(entries: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity { string: s(v) }))
        .collect()
}

/// A container with gogo's zero fields, as `kubectl create deployment` builds it.
fn container(name: &str, image: &str, command: &[&str]) -> core::v1::Container {
    core::v1::Container {
        name: s(name),
        image: s(image),
        command: command.iter().map(|c| (*c).to_owned()).collect(),
        working_dir: s(""),
        resources: Some(Default::default()),
        termination_message_path: s(""),
        termination_message_policy: s(""),
        image_pull_policy: s(""),
        stdin: Some(false),
        stdin_once: Some(false),
        tty: Some(false),
        ..Default::default()
    }
}

#[test]
fn kubectl_create_deployment_with_replicas_and_command() {
    // kubectl create deployment api --image=busybox:1.35 --replicas=2 -- sleep 3600
    let labels = [("app", "api")];
    let deployment = apps::v1::Deployment {
        metadata: meta("api", &labels),
        spec: Some(apps::v1::DeploymentSpec {
            replicas: Some(2),
            selector: Some(meta::LabelSelector {
                match_labels: map(&labels),
                ..Default::default()
            }),
            template: Some(core::v1::PodTemplateSpec {
                metadata: meta("", &labels),
                spec: Some(core::v1::PodSpec {
                    containers: vec![container("busybox", "busybox:1.35", &["sleep", "3600"])],
                    restart_policy: s(""),
                    dns_policy: s(""),
                    service_account_name: s(""),
                    host_network: Some(false),
                    scheduler_name: s(""),
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::v1::DeploymentStrategy {
                r#type: s(""),
                rolling_update: None,
            }),
            min_ready_seconds: Some(0),
            paused: Some(false),
            ..Default::default()
        }),
        status: Some(apps::v1::DeploymentStatus {
            replicas: Some(0),
            ..Default::default()
        }),
    };
    assert_eq!(
        decoded("apps/v1", "Deployment", &deployment),
        json!({"apiVersion":"apps/v1","kind":"Deployment",
            "metadata":{"name":"api","labels":{"app":"api"}},
            "spec":{"replicas":2,"selector":{"matchLabels":{"app":"api"}},
                "template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[
                    {"name":"busybox","image":"busybox:1.35","command":["sleep","3600"],"resources":{}}]}},
                "strategy":{}},
            "status":{}})
    );
}

#[test]
fn zeros_of_pointer_fields_are_kept() {
    let deployment = apps::v1::Deployment {
        metadata: meta("d", &[]),
        spec: Some(apps::v1::DeploymentSpec {
            replicas: Some(0),
            revision_history_limit: Some(0),
            strategy: Some(apps::v1::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::v1::RollingUpdateDeployment {
                    max_unavailable: int_or_string_int(0),
                    max_surge: int_or_string_str("25%"),
                }),
            }),
            template: Some(core::v1::PodTemplateSpec {
                metadata: None,
                spec: Some(core::v1::PodSpec {
                    automount_service_account_token: Some(false),
                    termination_grace_period_seconds: Some(0),
                    enable_service_links: Some(false),
                    host_network: Some(false),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        decoded("apps/v1", "Deployment", &deployment)["spec"],
        json!({"replicas":0,"revisionHistoryLimit":0,
            "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"25%"}},
            "template":{"spec":{"automountServiceAccountToken":false,
                "terminationGracePeriodSeconds":0,"enableServiceLinks":false}}})
    );
}

#[test]
fn kubectl_create_service_clusterip() {
    // kubectl create service clusterip my --tcp=5678:8080
    let service = core::v1::Service {
        metadata: meta("my", &[("app", "my")]),
        spec: Some(core::v1::ServiceSpec {
            ports: vec![core::v1::ServicePort {
                name: s("5678-8080"),
                protocol: s("TCP"),
                port: Some(5678),
                target_port: int_or_string_int(8080),
                node_port: Some(0),
                app_protocol: None,
            }],
            selector: map(&[("app", "my")]),
            cluster_ip: s(""),
            r#type: s("ClusterIP"),
            session_affinity: s(""),
            load_balancer_ip: s(""),
            external_name: s(""),
            external_traffic_policy: s(""),
            health_check_node_port: Some(0),
            publish_not_ready_addresses: Some(false),
            ..Default::default()
        }),
        status: Some(core::v1::ServiceStatus {
            load_balancer: Some(Default::default()),
            conditions: vec![],
        }),
    };
    // kubectl 1.31's JSON for the same command, without `"creationTimestamp": null`.
    assert_eq!(
        decoded("v1", "Service", &service),
        json!({"kind":"Service","apiVersion":"v1","metadata":{"name":"my","labels":{"app":"my"}},
            "spec":{"ports":[{"name":"5678-8080","protocol":"TCP","port":5678,"targetPort":8080}],
                "selector":{"app":"my"},"type":"ClusterIP"},
            "status":{"loadBalancer":{}}})
    );
}

#[test]
fn secrets_of_every_kubectl_generator() {
    for (kind_of_secret, data) in [
        (
            "kubernetes.io/dockerconfigjson",
            vec![(".dockerconfigjson", br#"{"auths":{}}"#.to_vec())],
        ),
        (
            "kubernetes.io/tls",
            vec![("tls.crt", b"CERT".to_vec()), ("tls.key", b"KEY".to_vec())],
        ),
    ] {
        let secret = core::v1::Secret {
            metadata: meta("s", &[]),
            data: data
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            r#type: s(kind_of_secret),
            ..Default::default()
        };
        let v = decoded("v1", "Secret", &secret);
        assert_eq!(v["type"], json!(kind_of_secret));
        let expected: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| {
                use base64::Engine as _;
                (
                    (*k).to_owned(),
                    json!(base64::engine::general_purpose::STANDARD.encode(v)),
                )
            })
            .collect();
        assert_eq!(v["data"], Value::Object(expected));
    }
}

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

#[test]
fn cronjob_role_and_binding() {
    let cronjob = batch::v1::CronJob {
        metadata: meta("nightly", &[]),
        spec: Some(batch::v1::CronJobSpec {
            schedule: s("0 3 * * *"),
            time_zone: None,
            starting_deadline_seconds: None,
            concurrency_policy: s(""),
            suspend: None,
            job_template: Some(batch::v1::JobTemplateSpec {
                metadata: meta("nightly", &[]),
                spec: Some(batch::v1::JobSpec {
                    template: Some(core::v1::PodTemplateSpec {
                        metadata: meta("", &[]),
                        spec: Some(core::v1::PodSpec {
                            containers: vec![container("nightly", "busybox", &[])],
                            restart_policy: s("OnFailure"),
                            ..Default::default()
                        }),
                    }),
                    ..Default::default()
                }),
            }),
            successful_jobs_history_limit: None,
            failed_jobs_history_limit: None,
        }),
        status: Some(Default::default()),
    };
    assert_eq!(
        decoded("batch/v1", "CronJob", &cronjob),
        json!({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"nightly"},
            "spec":{"schedule":"0 3 * * *","jobTemplate":{"metadata":{"name":"nightly"},
                "spec":{"template":{"metadata":{},"spec":{
                    "containers":[{"name":"nightly","image":"busybox","resources":{}}],
                    "restartPolicy":"OnFailure"}}}}},
            "status":{}})
    );

    let role = rbac::v1::Role {
        metadata: meta("pod-reader", &[]),
        rules: vec![rbac::v1::PolicyRule {
            verbs: vec!["get".into(), "list".into()],
            api_groups: vec![String::new()],
            resources: vec!["pods".into()],
            resource_names: vec![],
            non_resource_ur_ls: vec![],
        }],
    };
    assert_eq!(
        decoded("rbac.authorization.k8s.io/v1", "Role", &role),
        json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"pod-reader"},
            "rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]}]})
    );

    let binding = rbac::v1::ClusterRoleBinding {
        metadata: meta("admins", &[]),
        subjects: vec![rbac::v1::Subject {
            kind: s("User"),
            api_group: s("rbac.authorization.k8s.io"),
            name: s("alice"),
            namespace: s(""),
        }],
        role_ref: Some(rbac::v1::RoleRef {
            api_group: s("rbac.authorization.k8s.io"),
            kind: s("ClusterRole"),
            name: s("admin"),
        }),
    };
    assert_eq!(
        decoded(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            &binding
        ),
        json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"admins"},
            "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}],
            "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"admin"}})
    );
}

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

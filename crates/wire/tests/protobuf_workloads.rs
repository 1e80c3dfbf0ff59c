//! Workload, service, secret and RBAC objects built with k8s-pb's prost types the way
//! kubectl's generators fill them, decoded and compared with upstream's JSON.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod objects;

use k8s_pb::api::{apps, batch, core, rbac};
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use objects::*;
use serde_json::{Value, json};

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

//! The fixed objects the targets run their inputs against, built once per
//! process: a Deployment and a ConfigMap as kubectl creates them (from the
//! kubectl 1.32 wire capture), and the Deployment as it is stored after a
//! server-side apply by another manager, so that applies can conflict.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ironclad_api::ResourceInfo;
use ironclad_api::registry;
use serde_json::{Value, json};

/// The schema definition of [`deployment`].
pub(crate) const DEPLOYMENT_TYPE: &str = "io.k8s.api.apps.v1.Deployment";
/// The schema definition of [`config_map`].
pub(crate) const CONFIG_MAP_TYPE: &str = "io.k8s.api.core.v1.ConfigMap";
/// The schema definition of [`service`].
pub(crate) const SERVICE_TYPE: &str = "io.k8s.api.core.v1.Service";
/// The timestamp every apply is stamped with: the targets must be
/// deterministic, so no clock.
pub(crate) const NOW: &str = "2025-01-01T00:00:00Z";

/// `kubectl apply` of the capture's Deployment `web`.
pub(crate) fn deployment() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    CELL.get_or_init(|| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"labels": {"app": "web-d"}, "name": "web", "namespace": "default",
                         "finalizers": ["example.com/keep"]},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web-d"}},
                     "template": {"metadata": {"labels": {"app": "web-d"}},
                                  "spec": {"containers": [{"env": [{"name": "A", "value": "1"}],
                                                           "image": "nginx:1.25", "name": "nginx",
                                                           "args": ["-g", "daemon off;"],
                                                           "ports": [{"containerPort": 80}]}],
                                           "tolerations": [{"key": "k", "operator": "Exists"}]}}}
        })
    })
}

/// The capture's ConfigMap `c1`.
pub(crate) fn config_map() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    CELL.get_or_init(|| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c1", "namespace": "default", "labels": {"app": "web"}},
               "data": {"k": "v", "shared": "1"}})
    })
}

/// The capture's Service `web-svc`, with two ports: a list merged by
/// port and protocol.
pub(crate) fn service() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    CELL.get_or_init(|| {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web-svc", "namespace": "default"},
               "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80},
                                  {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}],
                        "selector": {"app": "web-d"}, "type": "ClusterIP"}})
    })
}

/// The objects the patch targets patch, with their schema definitions.
pub(crate) fn patch_subjects() -> [(&'static Value, &'static str); 3] {
    [
        (deployment(), DEPLOYMENT_TYPE),
        (config_map(), CONFIG_MAP_TYPE),
        (service(), SERVICE_TYPE),
    ]
}

/// `subject` as stored after `before` applied it: it carries managedFields,
/// so a fuzzed apply by another manager meets real ownership. `None` if
/// that first apply fails, which would be a bug the target reports.
pub(crate) fn applied_by_other(subject: &Value, type_name: &str) -> Option<Value> {
    ironclad_patch::server_side_apply(None, subject, "before", false, type_name, NOW).ok()
}

/// [`applied_by_other`] for every patch subject, computed once.
pub(crate) fn live_subjects() -> &'static [(Option<Value>, &'static str); 3] {
    static CELL: OnceLock<[(Option<Value>, &'static str); 3]> = OnceLock::new();
    CELL.get_or_init(|| patch_subjects().map(|(subject, ty)| (applied_by_other(subject, ty), ty)))
}

/// A label set with keys of every shape a selector can name.
pub(crate) fn labels() -> &'static BTreeMap<String, String> {
    static CELL: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        [
            ("app", "web"),
            ("tier", "fe"),
            ("env", "prod"),
            ("app.kubernetes.io/name", "web"),
            ("n", "5"),
            ("empty", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    })
}

/// A Pod as the capture creates it, scheduled and running.
pub(crate) fn pod() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    CELL.get_or_init(|| {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"labels": {"app": "web", "n": "5"}, "name": "web-pod", "namespace": "default"},
               "spec": {"containers": [{"image": "nginx:1.25", "name": "nginx"}],
                        "nodeName": "node-1", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                        "serviceAccountName": "default", "hostNetwork": false},
               "status": {"phase": "Running", "podIP": "10.1.1.1", "nominatedNodeName": ""}})
    })
}

/// An Event about the capture's Deployment, in the core API's shape.
fn event() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    CELL.get_or_init(|| {
        json!({"apiVersion": "v1", "kind": "Event",
               "metadata": {"name": "web.1", "namespace": "default"},
               "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "default",
                                  "uid": "605938b3-0000-4000-8000-1afa25682657", "apiVersion": "apps/v1"},
               "reason": "ScalingReplicaSet", "type": "Normal", "source": {"component": "deployment-controller"},
               "reportingComponent": "deployment-controller", "count": 1})
    })
}

/// Resources with different field sets (and different rejection texts),
/// each with an object of its kind.
pub(crate) fn field_subjects() -> &'static [(&'static ResourceInfo, &'static Value)] {
    static CELL: OnceLock<Vec<(&'static ResourceInfo, &'static Value)>> = OnceLock::new();
    CELL.get_or_init(|| {
        let candidates: [(&str, &str, &str, &'static Value); 7] = [
            ("", "v1", "pods", pod()),
            ("", "v1", "events", event()),
            ("events.k8s.io", "v1", "events", event()),
            ("apps", "v1", "deployments", deployment()),
            ("", "v1", "configmaps", config_map()),
            ("", "v1", "services", service()),
            ("batch", "v1", "jobs", pod()),
        ];
        candidates
            .into_iter()
            .filter_map(|(group, version, plural, obj)| {
                registry::lookup(group, version, plural).map(|info| (info, obj))
            })
            .collect()
    })
}

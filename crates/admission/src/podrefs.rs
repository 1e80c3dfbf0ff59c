//! The API objects a pod refers to by name: upstream's
//! `VisitPodSecretNames` and `VisitPodConfigmapNames` over all containers
//! (init, regular and ephemeral), empty names skipped.

use serde_json::Value;

use crate::json::{arr_at, str_at};

/// The container lists of a pod spec (init, regular, ephemeral).
pub(crate) fn all_containers(pod: &Value) -> impl Iterator<Item = &Value> {
    arr_at(pod, &["spec", "initContainers"])
        .iter()
        .chain(arr_at(pod, &["spec", "containers"]))
        .chain(arr_at(pod, &["spec", "ephemeralContainers"]))
}

/// Every secret name the pod refers to, in upstream's visiting order.
pub fn secret_names(pod: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |n: Option<&str>| {
        if let Some(n) = n.filter(|n| !n.is_empty()) {
            out.push(n.to_string());
        }
    };
    for r in arr_at(pod, &["spec", "imagePullSecrets"]) {
        push(str_at(r, &["name"]));
    }
    for c in all_containers(pod) {
        for e in arr_at(c, &["envFrom"]) {
            push(str_at(e, &["secretRef", "name"]));
        }
        for e in arr_at(c, &["env"]) {
            push(str_at(e, &["valueFrom", "secretKeyRef", "name"]));
        }
    }
    for v in arr_at(pod, &["spec", "volumes"]) {
        push(str_at(v, &["azureFile", "secretName"]));
        for source in [
            "cephfs",
            "cinder",
            "flexVolume",
            "rbd",
            "scaleIO",
            "iscsi",
            "storageos",
        ] {
            push(str_at(v, &[source, "secretRef", "name"]));
        }
        for p in arr_at(v, &["projected", "sources"]) {
            push(str_at(p, &["secret", "name"]));
        }
        push(str_at(v, &["secret", "secretName"]));
        push(str_at(v, &["csi", "nodePublishSecretRef", "name"]));
    }
    out
}

/// Every config map name the pod refers to.
pub fn configmap_names(pod: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |n: Option<&str>| {
        if let Some(n) = n.filter(|n| !n.is_empty()) {
            out.push(n.to_string());
        }
    };
    for c in all_containers(pod) {
        for e in arr_at(c, &["envFrom"]) {
            push(str_at(e, &["configMapRef", "name"]));
        }
        for e in arr_at(c, &["env"]) {
            push(str_at(e, &["valueFrom", "configMapKeyRef", "name"]));
        }
    }
    for v in arr_at(pod, &["spec", "volumes"]) {
        for p in arr_at(v, &["projected", "sources"]) {
            push(str_at(p, &["configMap", "name"]));
        }
        push(str_at(v, &["configMap", "name"]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_every_reference() {
        let pod = json!({"spec": {
            "imagePullSecrets": [{"name": "pull"}, {"name": ""}],
            "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "init-env"}}]}],
            "containers": [{"name": "c",
                "env": [
                    {"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}},
                    {"name": "C", "value": "plain"}
                ],
                "envFrom": [{"configMapRef": {"name": "from-cm"}}]}],
            "ephemeralContainers": [{"name": "e", "env": [{"name": "D", "valueFrom": {"secretKeyRef": {"name": "eph"}}}]}],
            "volumes": [
                {"name": "s", "secret": {"secretName": "vol-secret"}},
                {"name": "cm", "configMap": {"name": "vol-cm"}},
                {"name": "p", "projected": {"sources": [
                    {"secret": {"name": "proj-secret"}},
                    {"configMap": {"name": "proj-cm"}},
                    {"serviceAccountToken": {"path": "t"}}
                ]}},
                {"name": "csi", "csi": {"driver": "d", "nodePublishSecretRef": {"name": "csi-secret"}}},
                {"name": "rbd", "rbd": {"secretRef": {"name": "rbd-secret"}}},
                {"name": "az", "azureFile": {"secretName": "az-secret"}},
                {"name": "empty", "emptyDir": {}}
            ]
        }});
        let mut got = secret_names(&pod);
        got.sort();
        let mut want = [
            "pull",
            "init-env",
            "env-secret",
            "eph",
            "vol-secret",
            "proj-secret",
            "csi-secret",
            "rbd-secret",
            "az-secret",
        ]
        .map(String::from)
        .to_vec();
        want.sort();
        assert_eq!(got, want);
        let mut cms = configmap_names(&pod);
        cms.sort();
        assert_eq!(cms, ["env-cm", "from-cm", "proj-cm", "vol-cm"]);
    }

    #[test]
    fn bad_input_has_no_references() {
        for v in [
            json!(null),
            json!("x"),
            json!({"spec": []}),
            json!({"spec": {"volumes": "no"}}),
        ] {
            assert!(secret_names(&v).is_empty());
            assert!(configmap_names(&v).is_empty());
        }
    }
}

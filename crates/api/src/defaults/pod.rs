//! Pod, pod spec, container, probe and volume defaults.

use serde_json::{Map, Value, json};

use super::{child, child_or_insert, each, set, set_nonzero, set_str, str_of};

type Obj = Map<String, Value>;

/// The pull policy upstream picks when none is given: `Always` for
/// `:latest` or an untagged, undigested image, else `IfNotPresent`.
pub(crate) fn pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    // The first component is a registry when it looks like a host.
    let path = match name.split_once('/') {
        Some((host, rest)) if host.contains(['.', ':']) || host == "localhost" => rest,
        _ => name,
    };
    let last = path.rsplit('/').next().unwrap_or(path);
    let (repo_last, tag) = match last.split_once(':') {
        Some((r, t)) => (r, Some(t)),
        None => (last, None),
    };
    // Upstream ignores parse errors, which leave the tag empty.
    let invalid = image.is_empty()
        || image.chars().any(char::is_whitespace)
        || path.chars().any(|c| c.is_ascii_uppercase())
        || repo_last.is_empty();
    if invalid {
        return "IfNotPresent";
    }
    match (tag, digest) {
        (Some("latest"), _) | (None, None) => "Always",
        _ => "IfNotPresent",
    }
}

fn http_get(h: &mut Obj) {
    set_str(h, "path", "/");
    set_str(h, "scheme", "HTTP");
}

fn probe(p: &mut Obj) {
    set_nonzero(p, "timeoutSeconds", 1);
    set_nonzero(p, "periodSeconds", 10);
    set_nonzero(p, "successThreshold", 1);
    set_nonzero(p, "failureThreshold", 3);
    if let Some(h) = child(p, "httpGet") {
        http_get(h);
    }
}

fn container(c: &mut Obj) {
    if c.get("imagePullPolicy")
        .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
    {
        let policy = pull_policy(str_of(c, "image"));
        c.insert("imagePullPolicy".into(), json!(policy));
    }
    set_str(c, "terminationMessagePath", "/dev/termination-log");
    set_str(c, "terminationMessagePolicy", "File");
    set(c, "resources", json!({}));
    for p in each(c, "ports") {
        set_str(p, "protocol", "TCP");
    }
    for name in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = child(c, name) {
            probe(p);
        }
    }
    if let Some(l) = child(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = child(l, hook).and_then(|h| child(h, "httpGet")) {
                http_get(h);
            }
        }
    }
    for e in each(c, "env") {
        if let Some(f) = child(e, "valueFrom").and_then(|v| child(v, "fieldRef")) {
            set_str(f, "apiVersion", "v1");
        }
    }
}

/// Every volume source field a Volume may carry (any one makes it typed).
const VOLUME_SOURCES: &[&str] = &[
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "secret",
    "storageos",
    "vsphereVolume",
];

fn volume(v: &mut Obj) {
    if !VOLUME_SOURCES
        .iter()
        .any(|s| v.get(*s).is_some_and(|x| !x.is_null()))
    {
        v.insert("emptyDir".into(), json!({}));
    }
    for src in ["configMap", "secret", "projected", "downwardAPI"] {
        if let Some(s) = child(v, src) {
            set(s, "defaultMode", json!(420));
        }
    }
    if let Some(h) = child(v, "hostPath") {
        set(h, "type", json!(""));
    }
    if let Some(d) = child(v, "downwardAPI") {
        for item in each(d, "items") {
            if let Some(f) = child(item, "fieldRef") {
                set_str(f, "apiVersion", "v1");
            }
        }
    }
    if let Some(p) = child(v, "projected") {
        for src in each(p, "sources") {
            if let Some(t) = child(src, "serviceAccountToken") {
                set(t, "expirationSeconds", json!(3600));
            }
            if let Some(d) = child(src, "downwardAPI") {
                for item in each(d, "items") {
                    if let Some(f) = child(item, "fieldRef") {
                        set_str(f, "apiVersion", "v1");
                    }
                }
            }
        }
    }
    if let Some(spec) = child(v, "ephemeral")
        .and_then(|e| child(e, "volumeClaimTemplate"))
        .and_then(|t| child(t, "spec"))
    {
        set_str(spec, "volumeMode", "Filesystem");
    }
}

/// The defaults of every pod spec, in pods and in templates.
pub(crate) fn pod_spec(spec: &mut Obj) {
    set_str(spec, "dnsPolicy", "ClusterFirst");
    set_str(spec, "restartPolicy", "Always");
    set(spec, "securityContext", json!({}));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set_str(spec, "schedulerName", "default-scheduler");
    for v in each(spec, "volumes") {
        volume(v);
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in each(spec, list) {
            container(c);
        }
    }
}

/// A pod template (`template` of workloads): its spec's defaults.
pub(crate) fn template(t: &mut Obj) {
    if let Some(spec) = child_or_insert(t, "spec") {
        pod_spec(spec);
    }
}

/// Requests default to limits for resources given only a limit.
fn requests_from_limits(c: &mut Obj) {
    let Some(r) = child(c, "resources") else {
        return;
    };
    let Some(limits) = r.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    let Some(requests) = child_or_insert(r, "requests") else {
        return;
    };
    for (k, v) in limits {
        requests.entry(k).or_insert(v);
    }
}

/// Resizing cpu or memory in place needs no restart unless asked.
fn resize_policy(c: &mut Obj) {
    let requested: Vec<&str> = ["cpu", "memory"]
        .into_iter()
        .filter(|r| {
            c.get("resources")
                .and_then(|r| r.get("requests"))
                .and_then(|q| q.get(*r))
                .is_some()
        })
        .collect();
    if requested.is_empty() {
        return;
    }
    let slot = c.entry("resizePolicy").or_insert(Value::Null);
    if slot.is_null() {
        *slot = json!([]);
    }
    let Some(list) = slot.as_array_mut() else {
        return;
    };
    for r in requested {
        if !list
            .iter()
            .any(|p| p.get("resourceName").and_then(Value::as_str) == Some(r))
        {
            list.push(json!({"resourceName": r, "restartPolicy": "NotRequired"}));
        }
    }
}

/// Upstream's admission gives every pod a priority and the two
/// not-ready/unreachable tolerations; there is no admission chain here, so
/// pods get them with their defaults.
fn admission_defaults(spec: &mut Obj) {
    let priority = match str_of(spec, "priorityClassName") {
        "" => Some(0),
        "system-cluster-critical" => Some(2_000_000_000),
        "system-node-critical" => Some(2_000_001_000),
        _ => None,
    };
    if let Some(p) = priority {
        set(spec, "priority", json!(p));
    }
    set_str(spec, "preemptionPolicy", "PreemptLowerPriority");
    let slot = spec.entry("tolerations").or_insert(Value::Null);
    if slot.is_null() {
        *slot = json!([]);
    }
    let Some(list) = slot.as_array_mut() else {
        return;
    };
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = list.iter().any(|t| {
            let k = t.get("key").and_then(Value::as_str).unwrap_or("");
            let op = t.get("operator").and_then(Value::as_str).unwrap_or("");
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            (k == key || (k.is_empty() && op == "Exists"))
                && (effect.is_empty() || effect == "NoExecute")
        });
        if !tolerated {
            list.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300
            }));
        }
    }
}

/// A Pod's defaults: the spec's, plus those upstream gives pods only.
pub(crate) fn pod(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    for list in ["containers", "initContainers"] {
        for c in each(spec, list) {
            requests_from_limits(c);
            let restartable = str_of(c, "restartPolicy") == "Always";
            if list == "containers" || restartable {
                resize_policy(c);
            }
        }
    }
    set(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            for c in each(spec, list) {
                for p in each(c, "ports") {
                    if p.get("hostPort")
                        .is_none_or(|h| h.is_null() || h.as_i64() == Some(0))
                        && let Some(cp) = p.get("containerPort").cloned()
                    {
                        p.insert("hostPort".into(), cp);
                    }
                }
            }
        }
    }
    pod_spec(spec);
    admission_defaults(spec);
}

//! Table tests of create validation: a valid object of every kind, and
//! invalid variants with the exact field paths and kinds upstream reports.

use serde_json::{Value, json};

use super::*;
use crate::defaults;
use crate::registry::{RESOURCES, ResourceInfo, lookup};

/// Expected errors: (field, kind) pairs.
pub(super) type Want = Vec<(&'static str, ErrorKind)>;
/// One table row: what it checks, the object, the expected errors.
pub(super) type Case = (&'static str, Value, Want);

pub(super) fn info(group: &str, plural: &str) -> &'static ResourceInfo {
    lookup(group, "v1", plural).unwrap_or_else(|| panic!("no {group}/{plural}"))
}

/// Sets the value at a JSON pointer, creating objects on the way.
pub(super) fn with(mut v: Value, pointer: &str, x: Value) -> Value {
    let mut cur = &mut v;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        let p = p.replace("~1", "/");
        let last = i == parts.len() - 1;
        if let Ok(idx) = p.parse::<usize>()
            && cur.is_array()
        {
            let a = cur.as_array_mut().unwrap();
            if idx >= a.len() {
                a.push(Value::Null);
            }
            let idx = idx.min(a.len() - 1);
            if last {
                a[idx] = x;
                return v;
            }
            cur = &mut a[idx];
            continue;
        }
        if cur.is_null() {
            *cur = json!({});
        }
        let o = cur.as_object_mut().unwrap();
        if last {
            o.insert(p, x);
            return v;
        }
        cur = o.entry(p).or_insert(Value::Null);
    }
    v
}

/// Removes the value at a JSON pointer.
pub(super) fn without(mut v: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/");
    if let Some(p) = v.pointer_mut(parent) {
        if let Some(o) = p.as_object_mut() {
            o.remove(&key);
        } else if let (Some(a), Ok(i)) = (p.as_array_mut(), key.parse::<usize>()) {
            a.remove(i);
        }
    }
    v
}

fn meta(name: &str, ns: Option<&str>) -> Value {
    match ns {
        Some(ns) => json!({"name": name, "namespace": ns}),
        None => json!({"name": name}),
    }
}

fn pod_spec() -> Value {
    json!({"containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]})
}

fn template(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": pod_spec()})
}

/// A valid object of each kind, as a client would send it.
pub(super) fn valid(group: &str, plural: &str) -> Value {
    let ns = Some("default");
    let app = json!({"app": "web"});
    match (group, plural) {
        ("", "pods") => json!({"metadata": meta("p", ns), "spec": pod_spec()}),
        ("", "podtemplates") => json!({"metadata": meta("pt", ns), "template": template(app)}),
        ("", "replicationcontrollers") => {
            json!({"metadata": meta("rc", ns), "spec": {"template": template(app)}})
        }
        ("apps", "deployments") => json!({"metadata": meta("d", ns), "spec": {
            "selector": {"matchLabels": app}, "template": template(app)}}),
        ("apps", "replicasets") => json!({"metadata": meta("rs", ns), "spec": {
            "selector": {"matchLabels": app}, "template": template(app)}}),
        ("apps", "controllerrevisions") => {
            json!({"metadata": meta("cr", ns), "data": {"x": 1}, "revision": 1})
        }
        ("batch", "jobs") => {
            let mut j = json!({"metadata": {"name": "j", "namespace": "default", "uid": "u-1"},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox"}]}}}});
            defaults::apply(info("batch", "jobs"), &mut j);
            defaults::generate_job_selector(&mut j, "u-1");
            j
        }
        ("batch", "cronjobs") => {
            json!({"metadata": meta("cj", ns), "spec": {"schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
            "containers": [{"name": "c", "image": "busybox"}]}}}}}})
        }
        ("", "services") => json!({"metadata": meta("svc", ns), "spec": {"selector": app,
            "ports": [{"port": 80, "targetPort": 8080}]}}),
        ("", "endpoints") => json!({"metadata": meta("svc", ns), "subsets": [
            {"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]}),
        ("discovery.k8s.io", "endpointslices") => {
            json!({"metadata": meta("svc-abc", ns), "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.1.2.3"]}], "ports": [{"port": 80, "name": "http"}]})
        }
        ("", "configmaps") => {
            json!({"metadata": meta("cm", ns), "data": {"a.conf": "x", "KEY_1": "y"}})
        }
        ("", "secrets") => {
            json!({"metadata": meta("s", ns), "data": {"pw": "aGVsbG8="}, "stringData": {"user": "bob"}})
        }
        ("", "serviceaccounts") => json!({"metadata": meta("sa", ns)}),
        ("", "namespaces") => json!({"metadata": meta("team-a", None)}),
        ("", "nodes") => {
            json!({"metadata": meta("node-1.example", None), "spec": {"podCIDRs": ["10.244.1.0/24"],
            "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
        }
        ("", "limitranges") => {
            json!({"metadata": meta("lr", ns), "spec": {"limits": [{"type": "Container",
            "max": {"cpu": "2"}, "min": {"cpu": "100m"}, "default": {"cpu": "500m"}}]}})
        }
        ("", "resourcequotas") => {
            json!({"metadata": meta("rq", ns), "spec": {"hard": {"pods": "10",
            "requests.cpu": "4", "count/deployments.apps": "5"}}})
        }
        ("coordination.k8s.io", "leases") => {
            json!({"metadata": meta("l", ns), "spec": {"holderIdentity": "me",
            "leaseDurationSeconds": 15}})
        }
        ("", "events") => {
            json!({"metadata": meta("p.1234", ns), "involvedObject": {"kind": "Pod", "name": "p",
            "namespace": "default"}, "reason": "Started", "message": "ok", "type": "Normal"})
        }
        ("events.k8s.io", "events") => {
            json!({"metadata": meta("p.1234", ns), "regarding": {"kind": "Pod",
            "name": "p", "namespace": "default"}, "reason": "Started", "note": "ok", "type": "Normal",
            "eventTime": "2024-01-01T00:00:00.000000Z", "reportingController": "example.com/ctl",
            "reportingInstance": "ctl-1", "action": "Start"})
        }
        ("networking.k8s.io", "ingresses") => {
            json!({"metadata": meta("ing", ns), "spec": {"rules": [{
            "host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
        }
        ("rbac.authorization.k8s.io", "roles") => {
            json!({"metadata": meta("system:reader", ns), "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]})
        }
        ("rbac.authorization.k8s.io", "clusterroles") => {
            json!({"metadata": meta("admin:view", None), "rules": [
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]})
        }
        ("rbac.authorization.k8s.io", "rolebindings") => json!({"metadata": meta("rb", ns),
            "roleRef": {"kind": "Role", "name": "system:reader"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "sa"}]}),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => {
            json!({"metadata": meta("crb", None),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin:view"},
            "subjects": [{"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]})
        }
        ("authorization.k8s.io", "selfsubjectaccessreviews") => {
            json!({"spec": {"resourceAttributes":
            {"verb": "get", "resource": "pods"}}})
        }
        ("authorization.k8s.io", "subjectaccessreviews") => json!({"spec": {"user": "alice",
            "nonResourceAttributes": {"path": "/healthz", "verb": "get"}}}),
        ("authorization.k8s.io", "localsubjectaccessreviews") => {
            json!({"metadata": {"namespace": "default"},
            "spec": {"user": "alice", "resourceAttributes": {"namespace": "default", "verb": "get"}}})
        }
        ("authorization.k8s.io", "selfsubjectrulesreviews") => {
            json!({"spec": {"namespace": "default"}})
        }
        ("authentication.k8s.io", "selfsubjectreviews") => json!({}),
        ("", "bindings") => {
            json!({"metadata": meta("p", ns), "target": {"kind": "Node", "name": "n1"}})
        }
        _ => panic!("no valid object for {group}/{plural}"),
    }
}

/// Defaults, then validates a create.
pub(super) fn create(group: &str, plural: &str, mut obj: Value) -> Vec<FieldError> {
    let i = info(group, plural);
    defaults::apply(i, &mut obj);
    validate_create(i, &obj)
}

fn summary(errs: &[FieldError]) -> Vec<(String, ErrorKind)> {
    let mut v: Vec<(String, ErrorKind)> = errs.iter().map(|e| (e.field.clone(), e.kind)).collect();
    v.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(format!("{:?}", a.1).cmp(&format!("{:?}", b.1)))
    });
    v
}

pub(super) fn expect(errs: &[FieldError], want: &[(&str, ErrorKind)], what: &str) {
    let got = summary(errs);
    let mut want: Vec<(String, ErrorKind)> =
        want.iter().map(|(f, k)| (f.to_string(), *k)).collect();
    want.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(format!("{:?}", a.1).cmp(&format!("{:?}", b.1)))
    });
    let printed: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(got, want, "{what}: {printed:#?}");
}

#[test]
fn every_valid_object_passes() {
    for r in RESOURCES {
        let obj = valid(r.group, r.plural);
        let errs = create(r.group, r.plural, obj.clone());
        assert!(errs.is_empty(), "{}/{}: {errs:#?}", r.group, r.plural);
        let mut new = obj.clone();
        defaults::apply(r, &mut new);
        let errs = validate_update(r, &new, &new);
        assert!(
            errs.is_empty(),
            "update {}/{}: {errs:#?}",
            r.group,
            r.plural
        );
    }
}

use ErrorKind::{
    Duplicate, Forbidden, Invalid, NotFound, NotSupported, Required, TooLong, TypeInvalid,
};

#[test]
fn metadata_rules() {
    let pod = valid("", "pods");
    let cases: Vec<Case> = vec![
        (
            "no name",
            without(pod.clone(), "/metadata/name"),
            vec![("metadata.name", Required)],
        ),
        (
            "bad name",
            with(pod.clone(), "/metadata/name", json!("Bad_Name")),
            vec![("metadata.name", Invalid)],
        ),
        (
            "no namespace",
            without(pod.clone(), "/metadata/namespace"),
            vec![("metadata.namespace", Required)],
        ),
        (
            "bad namespace",
            with(pod.clone(), "/metadata/namespace", json!("a.b")),
            vec![("metadata.namespace", Invalid)],
        ),
        (
            "bad generateName",
            with(pod.clone(), "/metadata/generateName", json!("Web-")),
            vec![("metadata.generateName", Invalid)],
        ),
        (
            "generateName prefix",
            with(pod.clone(), "/metadata/generateName", json!("web-")),
            vec![],
        ),
        (
            "label key and value",
            with(
                pod.clone(),
                "/metadata/labels",
                json!({"-bad": "ok", "good": "no good", "x/y/z": "v"}),
            ),
            vec![
                ("metadata.labels", Invalid),
                ("metadata.labels", Invalid),
                ("metadata.labels", Invalid),
            ],
        ),
        (
            "label value too long",
            with(
                pod.clone(),
                "/metadata/labels",
                json!({"a": "x".repeat(64)}),
            ),
            vec![("metadata.labels", Invalid)],
        ),
        (
            "annotation key",
            with(
                pod.clone(),
                "/metadata/annotations",
                json!({"Example.com/Key": "v", "a b": "v"}),
            ),
            vec![("metadata.annotations", Invalid)],
        ),
        (
            "annotations too big",
            with(
                pod.clone(),
                "/metadata/annotations",
                json!({"big": "x".repeat(256 * 1024)}),
            ),
            vec![("metadata.annotations", TooLong)],
        ),
        (
            "owner reference fields",
            with(
                pod.clone(),
                "/metadata/ownerReferences",
                json!([{"apiVersion": "", "kind": "", "name": "", "uid": ""}]),
            ),
            vec![
                ("metadata.ownerReferences.apiVersion", Invalid),
                ("metadata.ownerReferences.kind", Invalid),
                ("metadata.ownerReferences.name", Invalid),
                ("metadata.ownerReferences.uid", Invalid),
            ],
        ),
        (
            "two controllers",
            with(
                pod.clone(),
                "/metadata/ownerReferences",
                json!([
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": true},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": true}]),
            ),
            vec![("metadata.ownerReferences", Invalid)],
        ),
        (
            "finalizers",
            with(
                pod.clone(),
                "/metadata/finalizers",
                json!(["example.com/ok", "bare", "a/b/c"]),
            ),
            vec![
                ("metadata.finalizers", Invalid),
                ("metadata.finalizers[1]", Invalid),
            ],
        ),
        (
            "negative generation",
            with(pod.clone(), "/metadata/generation", json!(-1)),
            vec![("metadata.generation", Invalid)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "pods", obj), &want, what);
    }
    // Cluster-scoped kinds refuse a namespace.
    let ns = with(
        valid("", "namespaces"),
        "/metadata/namespace",
        json!("default"),
    );
    expect(
        &create("", "namespaces", ns),
        &[("metadata.namespace", Forbidden)],
        "namespace on a namespace",
    );
}

#[test]
fn name_rules_per_kind() {
    let cases = [
        ("", "namespaces", "a.b", true),
        ("", "namespaces", "team-a", false),
        ("", "services", "1web", true),
        ("", "services", "web.x", true),
        ("", "configmaps", "a.b-c", false),
        ("", "configmaps", "A", true),
        (
            "rbac.authorization.k8s.io",
            "roles",
            "system:Admin_role",
            false,
        ),
        ("rbac.authorization.k8s.io", "roles", "a/b", true),
        ("rbac.authorization.k8s.io", "clusterroles", "..", true),
        ("", "nodes", "ip-10-0-0-1.ec2.internal", false),
    ];
    for (group, plural, name, bad) in cases {
        let obj = with(valid(group, plural), "/metadata/name", json!(name));
        let errs = create(group, plural, obj);
        let want: &[(&str, ErrorKind)] = if bad {
            &[("metadata.name", Invalid)]
        } else {
            &[]
        };
        expect(&errs, want, &format!("{plural} named {name}"));
    }
    let long = with(
        valid("batch", "cronjobs"),
        "/metadata/name",
        json!("c".repeat(53)),
    );
    expect(
        &create("batch", "cronjobs", long),
        &[("metadata.name", Invalid)],
        "cronjob name > 52",
    );
}

#[test]
fn messages_are_upstreams() {
    let pod = with(valid("", "pods"), "/metadata/name", json!("Bad_Name"));
    let errs = create("", "pods", pod);
    assert_eq!(
        errs[0].to_string(),
        "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
    assert_eq!(errs[0].reason(), "FieldValueInvalid");
    let pod = with(valid("", "pods"), "/spec/containers", json!([]));
    assert_eq!(
        create("", "pods", pod)[0].to_string(),
        "spec.containers: Required value"
    );
    let d = with(
        valid("apps", "deployments"),
        "/spec/template/metadata/labels",
        json!({"app": "other"}),
    );
    assert_eq!(
        create("apps", "deployments", d)[0].to_string(),
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
    );
    let pod = with(valid("", "pods"), "/spec/restartPolicy", json!("Sometimes"));
    assert_eq!(
        create("", "pods", pod)[0].to_string(),
        "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
    );
}

#[test]
fn type_errors_stop_validation() {
    let cases: Vec<(&str, &str, &str, Value, &str)> = vec![
        (
            "",
            "pods",
            "/spec/containers",
            json!("x"),
            "spec.containers",
        ),
        (
            "",
            "pods",
            "/spec/containers/0/ports/0/containerPort",
            json!("80"),
            "spec.containers[0].ports[0].containerPort",
        ),
        (
            "",
            "pods",
            "/metadata/labels",
            json!({"a": 1}),
            "metadata.labels.a",
        ),
        (
            "",
            "pods",
            "/spec/containers/0/resources",
            json!({"limits": {"cpu": "two"}}),
            "spec.containers[0].resources.limits[cpu]",
        ),
        (
            "apps",
            "deployments",
            "/spec/replicas",
            json!(1.5),
            "spec.replicas",
        ),
        ("", "secrets", "/data/pw", json!("not base64!"), "data.pw"),
        (
            "",
            "services",
            "/spec/ports/0/port",
            json!(70000000000i64),
            "spec.ports[0].port",
        ),
    ];
    for (group, plural, pointer, bad, field) in cases {
        let obj = with(valid(group, plural), pointer, bad);
        let obj = with(obj, "/metadata/name", json!("Also_Bad"));
        let errs = create(group, plural, obj);
        assert_eq!(errs.len(), 1, "{pointer}: {errs:#?}");
        assert_eq!(errs[0].field, field);
        assert_eq!(errs[0].kind, TypeInvalid);
        assert_eq!(errs[0].reason(), "FieldValueTypeInvalid");
    }
    let errs = create("", "pods", json!([1, 2]));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "");
}

#[test]
fn pod_rules() {
    let pod = valid("", "pods");
    let c0 = "/spec/containers/0";
    let cases: Vec<Case> = vec![
        (
            "no containers",
            without(pod.clone(), "/spec/containers"),
            vec![("spec.containers", Required)],
        ),
        (
            "no spec",
            without(pod.clone(), "/spec"),
            vec![("spec.containers", Required)],
        ),
        (
            "container name",
            with(pod.clone(), &format!("{c0}/name"), json!("App_1")),
            vec![("spec.containers[0].name", Invalid)],
        ),
        (
            "no container name",
            with(pod.clone(), &format!("{c0}/name"), json!("")),
            vec![("spec.containers[0].name", Required)],
        ),
        (
            "no image",
            without(pod.clone(), &format!("{c0}/image")),
            vec![("spec.containers[0].image", Required)],
        ),
        (
            "image whitespace",
            with(pod.clone(), &format!("{c0}/image"), json!(" nginx")),
            vec![("spec.containers[0].image", Invalid)],
        ),
        (
            "duplicate container names",
            with(
                pod.clone(),
                "/spec/containers/1",
                json!({"name": "app", "image": "x"}),
            ),
            vec![("spec.containers[1].name", Duplicate)],
        ),
        (
            "init container shares a name",
            with(
                pod.clone(),
                "/spec/initContainers",
                json!([{"name": "app", "image": "x"}]),
            ),
            vec![("spec.initContainers[0].name", Duplicate)],
        ),
        (
            "port out of range",
            with(
                pod.clone(),
                &format!("{c0}/ports/0/containerPort"),
                json!(70000),
            ),
            vec![("spec.containers[0].ports[0].containerPort", Invalid)],
        ),
        (
            "port zero",
            with(
                pod.clone(),
                &format!("{c0}/ports/0/containerPort"),
                json!(0),
            ),
            vec![("spec.containers[0].ports[0].containerPort", Required)],
        ),
        (
            "protocol",
            with(
                pod.clone(),
                &format!("{c0}/ports/0/protocol"),
                json!("HTTP"),
            ),
            vec![("spec.containers[0].ports[0].protocol", NotSupported)],
        ),
        (
            "port names",
            with(
                pod.clone(),
                &format!("{c0}/ports"),
                json!([
                {"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"},
                {"containerPort": 82, "name": "HTTP_X"}]),
            ),
            vec![
                ("spec.containers[0].ports[1].name", Duplicate),
                ("spec.containers[0].ports[2].name", Invalid),
                ("spec.containers[0].ports[2].name", Invalid),
            ],
        ),
        (
            "host ports clash",
            with(
                pod.clone(),
                "/spec/containers/1",
                json!({"name": "b", "image": "x",
                "ports": [{"containerPort": 9000, "hostPort": 8080}, {"containerPort": 9001, "hostPort": 8080}]}),
            ),
            vec![("spec.containers[1].ports[1].hostPort", Duplicate)],
        ),
        (
            "restart policy",
            with(pod.clone(), "/spec/restartPolicy", json!("Sometimes")),
            vec![("spec.restartPolicy", NotSupported)],
        ),
        (
            "dns policy",
            with(pod.clone(), "/spec/dnsPolicy", json!("Custom")),
            vec![("spec.dnsPolicy", NotSupported)],
        ),
        (
            "dns None without config",
            with(pod.clone(), "/spec/dnsPolicy", json!("None")),
            vec![("spec.dnsConfig", Required)],
        ),
        (
            "requests above limits",
            with(
                pod.clone(),
                &format!("{c0}/resources"),
                json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1500m"}}),
            ),
            vec![("spec.containers[0].resources.requests", Invalid)],
        ),
        (
            "negative and unknown resources",
            with(
                pod.clone(),
                &format!("{c0}/resources"),
                json!({"limits": {"memory": "-1", "gpu": "1"}}),
            ),
            vec![
                ("spec.containers[0].resources.limits[memory]", Invalid),
                ("spec.containers[0].resources.limits[gpu]", Invalid),
                ("spec.containers[0].resources.limits[gpu]", Invalid),
                ("spec.containers[0].resources.requests[memory]", Invalid),
                ("spec.containers[0].resources.requests[gpu]", Invalid),
                ("spec.containers[0].resources.requests[gpu]", Invalid),
            ],
        ),
        (
            "extended resource needs a whole limit",
            with(
                pod.clone(),
                &format!("{c0}/resources"),
                json!({"requests": {"example.com/gpu": "500m"}}),
            ),
            vec![
                (
                    "spec.containers[0].resources.requests[example.com/gpu]",
                    Invalid,
                ),
                ("spec.containers[0].resources.limits", Required),
            ],
        ),
        (
            "env names",
            with(
                pod.clone(),
                &format!("{c0}/env"),
                json!([{"name": ""}, {"name": "A=B"}, {"name": "1.ok-name"}]),
            ),
            vec![
                ("spec.containers[0].env[0].name", Required),
                ("spec.containers[0].env[0].name", Invalid),
                ("spec.containers[0].env[1].name", Invalid),
            ],
        ),
        (
            "env valueFrom",
            with(
                pod.clone(),
                &format!("{c0}/env"),
                json!([{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "B", "valueFrom": {}}]),
            ),
            vec![
                ("spec.containers[0].env[0].valueFrom", Invalid),
                ("spec.containers[0].env[1].valueFrom", Invalid),
            ],
        ),
        (
            "volumes",
            with(
                pod.clone(),
                "/spec/volumes",
                json!([{"name": "data"}, {"name": "data", "emptyDir": {}},
                {"name": "Bad", "configMap": {"name": "cm"}, "secret": {"secretName": "s"}}]),
            ),
            vec![
                ("spec.volumes[1].name", Duplicate),
                ("spec.volumes[2].name", Invalid),
                ("spec.volumes[2].secret", Forbidden),
            ],
        ),
        (
            "mount of a missing volume",
            with(
                pod.clone(),
                &format!("{c0}/volumeMounts"),
                json!([{"name": "nope", "mountPath": "/data"}, {"name": "nope", "mountPath": ""}]),
            ),
            vec![
                ("spec.containers[0].volumeMounts[0].name", NotFound),
                ("spec.containers[0].volumeMounts[1].name", NotFound),
                ("spec.containers[0].volumeMounts[1].mountPath", Required),
            ],
        ),
        (
            "probe without handler",
            with(
                pod.clone(),
                &format!("{c0}/livenessProbe"),
                json!({"periodSeconds": 5, "successThreshold": 2}),
            ),
            vec![
                ("spec.containers[0].livenessProbe", Required),
                ("spec.containers[0].livenessProbe.successThreshold", Invalid),
            ],
        ),
        (
            "probe with two handlers",
            with(
                pod.clone(),
                &format!("{c0}/readinessProbe"),
                json!({"tcpSocket": {"port": 80}, "httpGet": {"port": "http-x"}}),
            ),
            vec![("spec.containers[0].readinessProbe.tcpSocket", Forbidden)],
        ),
        (
            "init container probes",
            with(
                pod.clone(),
                "/spec/initContainers",
                json!([{"name": "init", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}}}]),
            ),
            vec![("spec.initContainers[0].readinessProbe", Forbidden)],
        ),
        (
            "sidecar restart policy",
            with(
                pod.clone(),
                "/spec/initContainers",
                json!([{"name": "side", "image": "x", "restartPolicy": "Never"}]),
            ),
            vec![("spec.initContainers[0].restartPolicy", NotSupported)],
        ),
        (
            "tolerations",
            with(
                pod.clone(),
                "/spec/tolerations",
                json!([{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists", "value": "v"},
                {"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}, {"key": "k", "operator": "Maybe"}]),
            ),
            vec![
                ("spec.tolerations[0].operator", Invalid),
                ("spec.tolerations[1].operator", Invalid),
                ("spec.tolerations[2].effect", Invalid),
                ("spec.tolerations[3].operator", NotSupported),
            ],
        ),
        (
            "node name",
            with(pod.clone(), "/spec/nodeName", json!("Node_1")),
            vec![("spec.nodeName", Invalid)],
        ),
        (
            "deadline",
            with(pod.clone(), "/spec/activeDeadlineSeconds", json!(0)),
            vec![("spec.activeDeadlineSeconds", Invalid)],
        ),
        (
            "hostname",
            with(pod.clone(), "/spec/hostname", json!("a.b")),
            vec![("spec.hostname", Invalid)],
        ),
        (
            "ephemeral containers on create",
            with(
                pod.clone(),
                "/spec/ephemeralContainers",
                json!([{"name": "dbg", "image": "busybox"}]),
            ),
            vec![("spec.ephemeralContainers", Forbidden)],
        ),
        (
            "pull policy",
            with(
                pod.clone(),
                &format!("{c0}/imagePullPolicy"),
                json!("Sometimes"),
            ),
            vec![("spec.containers[0].imagePullPolicy", NotSupported)],
        ),
        (
            "node selector",
            with(
                pod.clone(),
                "/spec/nodeSelector",
                json!({"disk": "ssd fast"}),
            ),
            vec![("spec.nodeSelector", Invalid)],
        ),
        (
            "spread constraints",
            with(
                pod.clone(),
                "/spec/topologySpreadConstraints",
                json!([{"maxSkew": 0, "topologyKey": "", "whenUnsatisfiable": "Maybe"}]),
            ),
            vec![
                ("spec.topologySpreadConstraints[0].maxSkew", Invalid),
                ("spec.topologySpreadConstraints[0].topologyKey", Required),
                (
                    "spec.topologySpreadConstraints[0].whenUnsatisfiable",
                    NotSupported,
                ),
            ],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "pods", obj), &want, what);
    }
}

#[test]
fn workload_rules() {
    let d = valid("apps", "deployments");
    let cases: Vec<(&str, &str, &str, Value, Want)> = vec![
        (
            "apps",
            "deployments",
            "no selector",
            without(d.clone(), "/spec/selector"),
            vec![
                ("spec.selector", Required),
                ("spec.template.metadata.labels", Invalid),
            ],
        ),
        (
            "apps",
            "deployments",
            "empty selector",
            with(d.clone(), "/spec/selector", json!({})),
            vec![("spec.selector", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "mismatch",
            with(
                d.clone(),
                "/spec/template/metadata/labels",
                json!({"app": "x"}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "negative replicas",
            with(d.clone(), "/spec/replicas", json!(-1)),
            vec![("spec.replicas", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "strategy type",
            with(d.clone(), "/spec/strategy", json!({"type": "BlueGreen"})),
            vec![("spec.strategy.type", NotSupported)],
        ),
        (
            "apps",
            "deployments",
            "both zero",
            with(
                d.clone(),
                "/spec/strategy",
                json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}),
            ),
            vec![("spec.strategy.rollingUpdate.maxUnavailable", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "bad percent",
            with(
                d.clone(),
                "/spec/strategy",
                json!({"rollingUpdate": {"maxSurge": "x%", "maxUnavailable": "120%"}}),
            ),
            vec![
                ("spec.strategy.rollingUpdate.maxSurge", Invalid),
                ("spec.strategy.rollingUpdate.maxUnavailable", Invalid),
            ],
        ),
        (
            "apps",
            "deployments",
            "recreate with rolling update",
            with(
                d.clone(),
                "/spec/strategy",
                json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
            ),
            vec![("spec.strategy.rollingUpdate", Forbidden)],
        ),
        (
            "apps",
            "deployments",
            "restart policy",
            with(
                d.clone(),
                "/spec/template/spec/restartPolicy",
                json!("Never"),
            ),
            vec![("spec.template.spec.restartPolicy", NotSupported)],
        ),
        (
            "apps",
            "deployments",
            "progress deadline",
            with(d.clone(), "/spec/minReadySeconds", json!(700)),
            vec![("spec.progressDeadlineSeconds", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "template container",
            with(
                d.clone(),
                "/spec/template/spec/containers/0/image",
                json!(""),
            ),
            vec![("spec.template.spec.containers[0].image", Required)],
        ),
        (
            "apps",
            "deployments",
            "template labels",
            with(
                d.clone(),
                "/spec/template/metadata/labels",
                json!({"app": "web", "b": "-"}),
            ),
            vec![("spec.template.labels", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "selector operator",
            with(
                d.clone(),
                "/spec/selector/matchExpressions",
                json!([{"key": "tier", "operator": "Near", "values": ["a"]}]),
            ),
            vec![
                ("spec.selector.matchExpressions[0].operator", Invalid),
                ("spec.selector", Invalid),
            ],
        ),
        (
            "apps",
            "replicasets",
            "rs mismatch",
            with(
                valid("apps", "replicasets"),
                "/spec/selector/matchLabels",
                json!({"app": "x"}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "apps",
            "replicasets",
            "rs deadline",
            with(
                valid("apps", "replicasets"),
                "/spec/template/spec/activeDeadlineSeconds",
                json!(5),
            ),
            vec![("spec.template.spec.activeDeadlineSeconds", Invalid)],
        ),
        (
            "",
            "replicationcontrollers",
            "rc without template",
            without(valid("", "replicationcontrollers"), "/spec/template"),
            vec![("spec.selector", Required), ("spec.template", Required)],
        ),
        (
            "",
            "replicationcontrollers",
            "rc mismatch",
            with(
                valid("", "replicationcontrollers"),
                "/spec/selector",
                json!({"app": "x"}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "",
            "podtemplates",
            "pod template",
            with(
                valid("", "podtemplates"),
                "/template/spec/containers",
                json!([]),
            ),
            vec![("template.spec.containers", Required)],
        ),
        (
            "apps",
            "controllerrevisions",
            "revision",
            with(
                without(valid("apps", "controllerrevisions"), "/data"),
                "/revision",
                json!(-1),
            ),
            vec![("data", Required), ("revision", Invalid)],
        ),
    ];
    for (group, plural, what, obj, want) in cases {
        expect(&create(group, plural, obj), &want, what);
    }
}

#[test]
fn batch_rules() {
    let j = valid("batch", "jobs");
    let t = "/spec/template";
    let cases: Vec<Case> = vec![
        (
            "restart always",
            with(
                j.clone(),
                &format!("{t}/spec/restartPolicy"),
                json!("Always"),
            ),
            vec![("spec.template.spec.restartPolicy", NotSupported)],
        ),
        (
            "negatives",
            with(
                with(j.clone(), "/spec/parallelism", json!(-1)),
                "/spec/backoffLimit",
                json!(-2),
            ),
            vec![
                ("spec.parallelism", Invalid),
                ("spec.backoffLimit", Invalid),
            ],
        ),
        (
            "completion mode",
            with(j.clone(), "/spec/completionMode", json!("Sometimes")),
            vec![("spec.completionMode", NotSupported)],
        ),
        (
            "indexed needs completions",
            with(
                without(j.clone(), "/spec/completions"),
                "/spec/completionMode",
                json!("Indexed"),
            ),
            vec![("spec.completions", Required)],
        ),
        (
            "foreign selector",
            with(j.clone(), "/spec/selector/matchLabels/app", json!("x")),
            vec![
                ("spec.selector", Invalid),
                ("spec.template.metadata.labels", Invalid),
            ],
        ),
        (
            "changed uid label",
            with(
                j.clone(),
                &format!("{t}/metadata/labels/controller-uid"),
                json!("other"),
            ),
            vec![("spec.template.metadata.labels[controller-uid]", Invalid)],
        ),
        (
            "manual selector without labels",
            with(
                with(j.clone(), "/spec/manualSelector", json!(true)),
                "/spec/selector",
                json!({"matchLabels": {"a": "b"}}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "no selector at all",
            with(
                without(j.clone(), "/spec/selector"),
                "/spec/manualSelector",
                json!(true),
            ),
            vec![("spec.selector", Required)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("batch", "jobs", obj), &want, what);
    }
    let cj = valid("batch", "cronjobs");
    let js = "/spec/jobTemplate/spec";
    let cases: Vec<Case> = vec![
        (
            "schedule",
            with(cj.clone(), "/spec/schedule", json!("61 * * * *")),
            vec![("spec.schedule", Invalid)],
        ),
        (
            "no schedule",
            without(cj.clone(), "/spec/schedule"),
            vec![("spec.schedule", Required)],
        ),
        (
            "TZ in schedule",
            with(cj.clone(), "/spec/schedule", json!("TZ=UTC 0 * * * *")),
            vec![("spec.schedule", Invalid)],
        ),
        (
            "concurrency",
            with(cj.clone(), "/spec/concurrencyPolicy", json!("Sometimes")),
            vec![("spec.concurrencyPolicy", NotSupported)],
        ),
        (
            "selector",
            with(
                cj.clone(),
                &format!("{js}/selector"),
                json!({"matchLabels": {"a": "b"}}),
            ),
            vec![("spec.jobTemplate.spec.selector", Invalid)],
        ),
        (
            "manual selector",
            with(cj.clone(), &format!("{js}/manualSelector"), json!(true)),
            vec![("spec.jobTemplate.spec.manualSelector", NotSupported)],
        ),
        (
            "restart",
            with(
                cj.clone(),
                &format!("{js}/template/spec/restartPolicy"),
                json!("Always"),
            ),
            vec![(
                "spec.jobTemplate.spec.template.spec.restartPolicy",
                NotSupported,
            )],
        ),
        (
            "history",
            with(cj.clone(), "/spec/failedJobsHistoryLimit", json!(-1)),
            vec![("spec.failedJobsHistoryLimit", Invalid)],
        ),
        (
            "time zone",
            with(cj.clone(), "/spec/timeZone", json!("Local")),
            vec![("spec.timeZone", Invalid)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("batch", "cronjobs", obj), &want, what);
    }
}

#[test]
fn service_rules() {
    let s = valid("", "services");
    let cases: Vec<Case> = vec![
        (
            "no ports",
            without(s.clone(), "/spec/ports"),
            vec![("spec.ports", Required)],
        ),
        (
            "headless without ports",
            with(
                without(s.clone(), "/spec/ports"),
                "/spec/clusterIP",
                json!("None"),
            ),
            vec![],
        ),
        (
            "external name",
            json!({"metadata": {"name": "ext", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com."}}),
            vec![],
        ),
        (
            "external name required",
            json!({"metadata": {"name": "ext", "namespace": "default"}, "spec": {"type": "ExternalName"}}),
            vec![("spec.externalName", Required)],
        ),
        (
            "port range",
            with(s.clone(), "/spec/ports/0/port", json!(0)),
            vec![("spec.ports[0].port", Invalid)],
        ),
        (
            "target port from port",
            with(
                without(s.clone(), "/spec/ports/0/targetPort"),
                "/spec/ports/0/port",
                json!(70000),
            ),
            vec![
                ("spec.ports[0].port", Invalid),
                ("spec.ports[0].targetPort", Invalid),
            ],
        ),
        (
            "names needed for many ports",
            with(s.clone(), "/spec/ports/1", json!({"port": 443})),
            vec![
                ("spec.ports[0].name", Required),
                ("spec.ports[1].name", Required),
            ],
        ),
        (
            "duplicate names",
            with(
                with(
                    with(
                        s.clone(),
                        "/spec/ports/1",
                        json!({"port": 443, "name": "web"}),
                    ),
                    "/spec/ports/0/name",
                    json!("web"),
                ),
                "/spec/ports/2",
                json!({"port": 443, "name": "Bad"}),
            ),
            vec![
                ("spec.ports[1].name", Duplicate),
                ("spec.ports[2].name", Invalid),
                ("spec.ports[2]", Duplicate),
            ],
        ),
        (
            "type",
            with(s.clone(), "/spec/type", json!("Public")),
            vec![("spec.type", NotSupported)],
        ),
        (
            "cluster IP",
            with(s.clone(), "/spec/clusterIP", json!("10.0.0.300")),
            vec![("spec.clusterIPs[0]", Invalid)],
        ),
        (
            "target port name",
            with(s.clone(), "/spec/ports/0/targetPort", json!("HTTP_PORT")),
            vec![
                ("spec.ports[0].targetPort", Invalid),
                ("spec.ports[0].targetPort", Invalid),
            ],
        ),
        (
            "node port on ClusterIP",
            with(s.clone(), "/spec/ports/0/nodePort", json!(30080)),
            vec![("spec.ports[0].nodePort", Forbidden)],
        ),
        (
            "node port type",
            with(
                with(s.clone(), "/spec/ports/0/nodePort", json!(30080)),
                "/spec/type",
                json!("NodePort"),
            ),
            vec![],
        ),
        (
            "affinity",
            with(s.clone(), "/spec/sessionAffinity", json!("Cookie")),
            vec![("spec.sessionAffinity", NotSupported)],
        ),
        (
            "headless NodePort",
            with(
                with(s.clone(), "/spec/clusterIP", json!("None")),
                "/spec/type",
                json!("NodePort"),
            ),
            vec![("spec.clusterIPs[0]", Invalid)],
        ),
        (
            "selector labels",
            with(s.clone(), "/spec/selector", json!({"app": "a b"})),
            vec![("spec.selector", Invalid)],
        ),
        (
            "external IPs",
            with(
                s.clone(),
                "/spec/externalIPs",
                json!(["1.2.3.4", "127.0.0.1", "nope"]),
            ),
            vec![
                ("spec.externalIPs[1]", Invalid),
                ("spec.externalIPs[2]", Invalid),
            ],
        ),
        (
            "traffic policy on ClusterIP",
            with(s.clone(), "/spec/externalTrafficPolicy", json!("Local")),
            vec![("spec.externalTrafficPolicy", Invalid)],
        ),
        (
            "source ranges",
            with(
                s.clone(),
                "/spec/loadBalancerSourceRanges",
                json!(["10.0.0.0/8"]),
            ),
            vec![("spec.LoadBalancerSourceRanges", Forbidden)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "services", obj), &want, what);
    }
    let ep = valid("", "endpoints");
    let cases: Vec<Case> = vec![
        (
            "bad ip",
            with(ep.clone(), "/subsets/0/addresses/0/ip", json!("10.0.0")),
            vec![("subsets[0].addresses[0].ip", Invalid)],
        ),
        (
            "link-local",
            with(
                ep.clone(),
                "/subsets/0/addresses/0/ip",
                json!("169.254.0.9"),
            ),
            vec![("subsets[0].addresses[0].ip", Invalid)],
        ),
        (
            "loopback is allowed",
            with(ep.clone(), "/subsets/0/addresses/0/ip", json!("127.0.0.1")),
            vec![],
        ),
        (
            "no addresses",
            without(ep.clone(), "/subsets/0/addresses"),
            vec![("subsets[0]", Required)],
        ),
        (
            "port",
            with(ep.clone(), "/subsets/0/ports/0/port", json!(0)),
            vec![("subsets[0].ports[0].port", Invalid)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "endpoints", obj), &want, what);
    }
    let es = valid("discovery.k8s.io", "endpointslices");
    let cases: Vec<Case> = vec![
        (
            "address type",
            with(es.clone(), "/addressType", json!("IPv5")),
            vec![("addressType", NotSupported)],
        ),
        (
            "no address type",
            without(es.clone(), "/addressType"),
            vec![("addressType", Required)],
        ),
        (
            "v6 in v4",
            with(es.clone(), "/endpoints/0/addresses/0", json!("fd00::1")),
            vec![("endpoints[0].addresses", Invalid)],
        ),
        (
            "no addresses",
            with(es.clone(), "/endpoints/0/addresses", json!([])),
            vec![("endpoints[0].addresses", Required)],
        ),
        (
            "port names",
            with(es.clone(), "/ports/1", json!({"name": "http"})),
            vec![("ports[1].name", Duplicate)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(
            &create("discovery.k8s.io", "endpointslices", obj),
            &want,
            what,
        );
    }
}

#[test]
fn config_rules() {
    let cm = valid("", "configmaps");
    let cases: Vec<Case> = vec![
        (
            "key",
            with(cm.clone(), "/data/a~1b", json!("x")),
            vec![("data[a/b]", Invalid)],
        ),
        (
            "dot dot",
            with(cm.clone(), "/data/..x", json!("x")),
            vec![("data[..x]", Invalid)],
        ),
        (
            "duplicate in binaryData",
            with(cm.clone(), "/binaryData", json!({"KEY_1": "eA=="})),
            vec![("data[KEY_1]", Invalid)],
        ),
        (
            "too big",
            with(cm.clone(), "/data/big", json!("x".repeat(1024 * 1024 + 1))),
            vec![("", TooLong)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "configmaps", obj), &want, what);
    }
    let s = json!({"metadata": {"name": "s", "namespace": "default"}});
    let cases: Vec<Case> = vec![
        (
            "dockerconfigjson",
            with(s.clone(), "/type", json!("kubernetes.io/dockerconfigjson")),
            vec![("data[.dockerconfigjson]", Required)],
        ),
        (
            "dockerconfigjson not json",
            with(
                with(s.clone(), "/type", json!("kubernetes.io/dockerconfigjson")),
                "/stringData",
                json!({".dockerconfigjson": "{nope"}),
            ),
            vec![("data[.dockerconfigjson]", Invalid)],
        ),
        (
            "dockerconfigjson ok",
            with(
                with(s.clone(), "/type", json!("kubernetes.io/dockerconfigjson")),
                "/stringData",
                json!({".dockerconfigjson": "{\"auths\":{}}"}),
            ),
            vec![],
        ),
        (
            "tls",
            with(
                with(s.clone(), "/type", json!("kubernetes.io/tls")),
                "/data",
                json!({"tls.crt": ""}),
            ),
            vec![("data[tls.key]", Required)],
        ),
        (
            "basic auth",
            with(s.clone(), "/type", json!("kubernetes.io/basic-auth")),
            vec![("data[username]", Required), ("data[password]", Required)],
        ),
        (
            "basic auth ok",
            with(
                with(s.clone(), "/type", json!("kubernetes.io/basic-auth")),
                "/stringData",
                json!({"password": ""}),
            ),
            vec![],
        ),
        (
            "ssh",
            with(s.clone(), "/type", json!("kubernetes.io/ssh-auth")),
            vec![("data[ssh-privatekey]", Required)],
        ),
        (
            "service account token",
            with(
                s.clone(),
                "/type",
                json!("kubernetes.io/service-account-token"),
            ),
            vec![(
                "metadata.annotations[kubernetes.io/service-account.name]",
                Required,
            )],
        ),
        (
            "custom type",
            with(s.clone(), "/type", json!("example.com/thing")),
            vec![],
        ),
        (
            "key",
            with(s.clone(), "/stringData", json!({"a b": "x"})),
            vec![("data[a b]", Invalid)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "secrets", obj), &want, what);
    }
}

#[test]
fn cluster_rules() {
    let node = valid("", "nodes");
    let cases: Vec<Case> = vec![
        (
            "taint effect",
            with(node.clone(), "/spec/taints/0/effect", json!("Sometimes")),
            vec![("spec.taints[0].effect", NotSupported)],
        ),
        (
            "taint duplicate",
            with(
                node.clone(),
                "/spec/taints/1",
                json!({"key": "dedicated", "effect": "NoSchedule"}),
            ),
            vec![("spec.taints[1]", Duplicate)],
        ),
        (
            "pod cidr",
            with(node.clone(), "/spec/podCIDRs", json!(["10.0.0.0/33"])),
            vec![("spec.podCIDRs[0]", Invalid)],
        ),
        (
            "two v4 cidrs",
            with(
                node.clone(),
                "/spec/podCIDRs",
                json!(["10.0.0.0/24", "10.1.0.0/24"]),
            ),
            vec![("spec.podCIDRs", Invalid)],
        ),
        (
            "capacity",
            with(node.clone(), "/status/capacity/pods", json!("1.5")),
            vec![
                ("status.capacity.pods", Invalid),
                ("status.allocatable.pods", Invalid),
            ],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "nodes", obj), &want, what);
    }
    let ns = valid("", "namespaces");
    expect(
        &create(
            "",
            "namespaces",
            with(ns.clone(), "/metadata/name", json!("a.b")),
        ),
        &[("metadata.name", Invalid)],
        "ns name",
    );
    expect(
        &create(
            "",
            "namespaces",
            with(ns, "/spec/finalizers", json!(["custom"])),
        ),
        &[("spec.finalizers", Invalid)],
        "ns finalizer",
    );
    let lease = valid("coordination.k8s.io", "leases");
    expect(
        &create(
            "coordination.k8s.io",
            "leases",
            with(
                with(lease, "/spec/leaseDurationSeconds", json!(0)),
                "/spec/leaseTransitions",
                json!(-1),
            ),
        ),
        &[
            ("spec.leaseDurationSeconds", Invalid),
            ("spec.leaseTransitions", Invalid),
        ],
        "lease",
    );
    let lr = valid("", "limitranges");
    let cases: Vec<Case> = vec![
        (
            "min above max",
            with(lr.clone(), "/spec/limits/0/min/cpu", json!("3")),
            vec![
                ("spec.limits[0].min[cpu]", Invalid),
                ("spec.limits[0].defaultRequest[cpu]", Invalid),
                ("spec.limits[0].default[cpu]", Invalid),
            ],
        ),
        (
            "type",
            with(lr.clone(), "/spec/limits/0/type", json!("Thing")),
            vec![("spec.limits[0].type", Invalid)],
        ),
        (
            "pod defaults",
            json!({"metadata": {"name": "lr", "namespace": "default"}, "spec": {"limits": [{"type": "Pod", "default": {"cpu": "1"}}]}}),
            vec![("spec.limits[0].default", Forbidden)],
        ),
        (
            "duplicate type",
            with(lr.clone(), "/spec/limits/1", json!({"type": "Container"})),
            vec![("spec.limits[1].type", Duplicate)],
        ),
        (
            "bad quantity",
            with(lr.clone(), "/spec/limits/0/max/cpu", json!("lots")),
            vec![("spec.limits[0].max[cpu]", TypeInvalid)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "limitranges", obj), &want, what);
    }
    let rq = valid("", "resourcequotas");
    let cases: Vec<Case> = vec![
        (
            "resource name",
            with(rq.clone(), "/spec/hard/widgets", json!("1")),
            vec![("spec.hard[widgets]", Invalid)],
        ),
        (
            "negative",
            with(rq.clone(), "/spec/hard/pods", json!("-1")),
            vec![("spec.hard[pods]", Invalid)],
        ),
        (
            "fraction",
            with(rq.clone(), "/spec/hard/pods", json!("1500m")),
            vec![("spec.hard[pods]", Invalid)],
        ),
        (
            "scope",
            with(rq.clone(), "/spec/scopes", json!(["Sometimes"])),
            vec![("spec.scopes", Invalid)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "resourcequotas", obj), &want, what);
    }
}

#[test]
fn event_rules() {
    let ev = valid("", "events");
    expect(
        &create(
            "",
            "events",
            with(ev.clone(), "/involvedObject/namespace", json!("other")),
        ),
        &[("involvedObject.namespace", Invalid)],
        "core event namespace",
    );
    expect(
        &create(
            "",
            "events",
            with(ev, "/eventTime", json!("2024-01-01T00:00:00.000000Z")),
        ),
        &[
            ("reportingComponent", Required),
            ("reportingComponent", Invalid),
            ("reportingComponent", Invalid),
            ("reportingInstance", Required),
            ("action", Required),
        ],
        "core event with eventTime",
    );
    let ev = valid("events.k8s.io", "events");
    expect(
        &create(
            "events.k8s.io",
            "events",
            with(without(ev.clone(), "/eventTime"), "/type", json!("Bad")),
        ),
        &[("eventTime", Required), ("type", Invalid)],
        "events.k8s.io event",
    );
    expect(
        &create(
            "events.k8s.io",
            "events",
            with(ev, "/deprecatedCount", json!(3)),
        ),
        &[("deprecatedCount", Invalid)],
        "deprecated fields",
    );
}

#[test]
fn rbac_and_networking_rules() {
    let g = "rbac.authorization.k8s.io";
    let role = valid(g, "roles");
    let cases: Vec<(&str, &str, Value, Want)> = vec![
        (
            "roles",
            "no verbs",
            with(role.clone(), "/rules/0/verbs", json!([])),
            vec![("rules[0].verbs", Required)],
        ),
        (
            "roles",
            "no groups",
            without(
                without(role.clone(), "/rules/0/apiGroups"),
                "/rules/0/resources",
            ),
            vec![
                ("rules[0].apiGroups", Required),
                ("rules[0].resources", Required),
            ],
        ),
        (
            "roles",
            "urls in a role",
            with(role.clone(), "/rules/0/nonResourceURLs", json!(["/x"])),
            vec![
                ("rules[0].nonResourceURLs", Invalid),
                ("rules[0].nonResourceURLs", Invalid),
            ],
        ),
        (
            "clusterroles",
            "aggregation",
            with(
                valid(g, "clusterroles"),
                "/aggregationRule",
                json!({"clusterRoleSelectors": []}),
            ),
            vec![("aggregationRule.clusterRoleSelectors", Required)],
        ),
        (
            "rolebindings",
            "role ref kind",
            with(valid(g, "rolebindings"), "/roleRef/kind", json!("Group")),
            vec![("roleRef.kind", NotSupported)],
        ),
        (
            "rolebindings",
            "role ref group",
            with(
                valid(g, "rolebindings"),
                "/roleRef/apiGroup",
                json!("example.com"),
            ),
            vec![("roleRef.apiGroup", NotSupported)],
        ),
        (
            "rolebindings",
            "role ref name",
            with(valid(g, "rolebindings"), "/roleRef/name", json!("")),
            vec![("roleRef.name", Required)],
        ),
        (
            "rolebindings",
            "subject kind",
            with(valid(g, "rolebindings"), "/subjects/0/kind", json!("Robot")),
            vec![("subjects[0].kind", NotSupported)],
        ),
        (
            "rolebindings",
            "sa group",
            with(
                valid(g, "rolebindings"),
                "/subjects/1/apiGroup",
                json!("rbac.authorization.k8s.io"),
            ),
            vec![("subjects[1].apiGroup", NotSupported)],
        ),
        (
            "clusterrolebindings",
            "role in crb",
            with(
                valid(g, "clusterrolebindings"),
                "/roleRef/kind",
                json!("Role"),
            ),
            vec![("roleRef.kind", NotSupported)],
        ),
        (
            "clusterrolebindings",
            "sa namespace",
            without(valid(g, "clusterrolebindings"), "/subjects/1/namespace"),
            vec![("subjects[1].namespace", Required)],
        ),
    ];
    for (plural, what, obj, want) in cases {
        expect(&create(g, plural, obj), &want, what);
    }
    let n = "networking.k8s.io";
    let ing = valid(n, "ingresses");
    let p0 = "/spec/rules/0/http/paths/0";
    let cases: Vec<Case> = vec![
        (
            "no rules",
            without(ing.clone(), "/spec/rules"),
            vec![("spec", Invalid)],
        ),
        (
            "path type",
            without(ing.clone(), &format!("{p0}/pathType")),
            vec![("spec.rules[0].http.paths[0].pathType", Required)],
        ),
        (
            "path type value",
            with(ing.clone(), &format!("{p0}/pathType"), json!("Glob")),
            vec![("spec.rules[0].http.paths[0].pathType", NotSupported)],
        ),
        (
            "relative path",
            with(ing.clone(), &format!("{p0}/path"), json!("api//v1")),
            vec![
                ("spec.rules[0].http.paths[0].path", Invalid),
                ("spec.rules[0].http.paths[0].path", Invalid),
            ],
        ),
        (
            "host ip",
            with(ing.clone(), "/spec/rules/0/host", json!("1.2.3.4")),
            vec![("spec.rules[0].host", Invalid)],
        ),
        (
            "wildcard host",
            with(ing.clone(), "/spec/rules/0/host", json!("*.example.com")),
            vec![],
        ),
        (
            "bad wildcard",
            with(ing.clone(), "/spec/rules/0/host", json!("a.*.com")),
            vec![("spec.rules[0].host", Invalid)],
        ),
        (
            "no port",
            without(ing.clone(), &format!("{p0}/backend/service/port")),
            vec![("spec.rules[0].http.paths[0].backend", Required)],
        ),
        (
            "no backend",
            with(ing.clone(), &format!("{p0}/backend"), json!({})),
            vec![("spec.rules[0].http.paths[0].backend", Invalid)],
        ),
        (
            "no paths",
            with(ing.clone(), "/spec/rules/0/http/paths", json!([])),
            vec![("spec.rules[0].http.paths", Required)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create(n, "ingresses", obj), &want, what);
    }
}

#[test]
fn review_rules() {
    let a = "authorization.k8s.io";
    let ssar = valid(a, "selfsubjectaccessreviews");
    expect(
        &create(a, "selfsubjectaccessreviews", json!({"spec": {}})),
        &[("spec.resourceAttributes", Invalid)],
        "neither",
    );
    let both = with(
        ssar.clone(),
        "/spec/nonResourceAttributes",
        json!({"path": "/x", "verb": "get"}),
    );
    expect(
        &create(a, "selfsubjectaccessreviews", both),
        &[("spec.nonResourceAttributes", Invalid)],
        "both",
    );
    let named = with(ssar, "/metadata/name", json!("x"));
    expect(
        &create(a, "selfsubjectaccessreviews", named),
        &[("metadata", Invalid)],
        "metadata",
    );
    let sar = without(valid(a, "subjectaccessreviews"), "/spec/user");
    expect(
        &create(a, "subjectaccessreviews", sar),
        &[("spec.user", Invalid)],
        "no user",
    );
    let lsar = with(
        valid(a, "localsubjectaccessreviews"),
        "/spec/resourceAttributes/namespace",
        json!("other"),
    );
    expect(
        &create(a, "localsubjectaccessreviews", lsar),
        &[("spec.resourceAttributes.namespace", Invalid)],
        "lsar namespace",
    );
    let binding = with(valid("", "bindings"), "/target", json!({"kind": "Pod"}));
    expect(
        &create("", "bindings", binding),
        &[("target.kind", NotSupported), ("target.name", Required)],
        "binding",
    );
}

/// Odd values put in place of every field of every valid object, and odd
/// whole objects: validation and defaulting must never panic.
#[test]
fn never_panics_on_odd_json() {
    let odd = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("x"),
        json!("-1"),
        json!("%%"),
        json!([]),
        json!([null, 1, "x", {}]),
        json!({}),
        json!({"": null, "a": [[]]}),
    ];
    fn leaves(v: &Value, path: String, out: &mut Vec<String>) {
        out.push(path.clone());
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    leaves(x, format!("{path}/{}", k.replace('/', "~1")), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    leaves(x, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut runs = 0;
    for r in RESOURCES {
        let base = valid(r.group, r.plural);
        let mut defaulted = base.clone();
        defaults::apply(r, &mut defaulted);
        for whole in &odd {
            let mut o = whole.clone();
            defaults::apply(r, &mut o);
            let _ = validate_create(r, &o);
            let _ = validate_update(r, &o, &defaulted);
            let _ = validate_update(r, &defaulted, &o);
        }
        let mut paths = Vec::new();
        leaves(&defaulted, String::new(), &mut paths);
        for p in paths.iter().filter(|p| !p.is_empty()) {
            for x in &odd {
                let mut o = with(defaulted.clone(), p, x.clone());
                defaults::apply(r, &mut o);
                let _ = validate_create(r, &o);
                let _ = validate_update(r, &o, &defaulted);
                runs += 1;
            }
        }
    }
    assert!(runs > 1000, "{runs}");
}

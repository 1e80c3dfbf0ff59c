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
        ("apps", "daemonsets") => json!({"metadata": meta("ds", ns), "spec": {
            "selector": {"matchLabels": app}, "template": template(app)}}),
        ("apps", "statefulsets") => json!({"metadata": meta("sts", ns), "spec": {
            "selector": {"matchLabels": app}, "serviceName": "web", "template": template(app),
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
        ("apiregistration.k8s.io", "apiservices") => {
            json!({"metadata": meta("v1beta1.metrics.k8s.io", None), "spec": {
            "group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
            "versionPriority": 100, "insecureSkipTLSVerify": true,
            "service": {"namespace": "kube-system", "name": "metrics-server"}}})
        }
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
        ("certificates.k8s.io", "certificatesigningrequests") => {
            // An ECDSA P-256 request for CN=alice (openssl req).
            json!({"metadata": meta("csr-1", None), "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIS01ISUNBUUF3RURFT01Bd0dBMVVFQXd3RllXeHBZMlV3V1RBVEJnY3Foa2pPUFFJQkJnZ3Foa2pPUFFNQgpCd05DQUFSSlRFdE9iS3A2eHJ2MXQzUmpsRkRYc2ZjUVNjUU12ell2S3NRV3NnS3hPVnZrMkx2OGVaR21Pc21MCmg1Y0pRQnRrL2pkUyt5S1NZcG1GNHdwODVpWlBvQUF3Q2dZSUtvWkl6ajBFQXdJRFNBQXdSUUlnS1BwZTg1VkwKbHg0cHRhS2hmNjk2ckhvczFOQ3NPUjlYLzJ4RHZjUG9IQW9DSVFEK0p6Q1c3Ny9tbnZrVnpoK1JpUUVWRFA0cQoxUGI3eUhHTlFybEkwWVhCT0E9PQotLS0tLUVORCBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
            "signerName": "example.com/signer", "usages": ["digital signature", "client auth"]}})
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
        ("authentication.k8s.io", "tokenreviews") => json!({"spec": {"token": "t"}}),
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

use ErrorKind::{Forbidden, Invalid, Required, TooLong, TypeInvalid};

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

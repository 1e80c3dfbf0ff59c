//! Table tests of services, config, cluster, event, RBAC, ingress and review kinds.

use serde_json::{Value, json};

use super::ErrorKind::{
    Duplicate, Forbidden, Invalid, NotSupported, Required, TooLong, TypeInvalid,
};
use super::tests::{Case, Want, create, expect, valid, with, without};

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
            "external name with a cluster IP",
            json!({"metadata": {"name": "ext", "namespace": "default"},
                "spec": {"type": "ExternalName", "externalName": "db.example.com", "clusterIP": "10.0.0.1"}}),
            vec![("spec.clusterIPs", Forbidden)],
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
fn events_k8s_io_updates_check_what_changed_only() {
    let info = super::tests::info("events.k8s.io", "events");
    // An event written through core/v1, as events.k8s.io reads it: no
    // eventTime, deprecated fields set. Only the series changes.
    let old = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "p.1", "namespace": "default", "uid": "u", "resourceVersion": "3"},
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Pulled", "note": "ok", "type": "Normal",
        "deprecatedSource": {"component": "kubelet"}, "deprecatedCount": 2,
        "deprecatedFirstTimestamp": "2024-01-01T00:00:00Z"});
    let series = json!({"count": 2, "lastObservedTime": "2024-01-01T00:01:00.000000Z"});
    let new = with(old.clone(), "/series", series);
    expect(
        &super::validate_update(info, &new, &old),
        &[],
        "series of a core event",
    );
    let bad = with(
        old.clone(),
        "/series",
        json!({"count": 1, "lastObservedTime": "2024-01-01T00:01:00.000000Z"}),
    );
    expect(
        &super::validate_update(info, &bad, &old),
        &[("series.count", Invalid)],
        "changed series",
    );
    let changed = with(
        with(old.clone(), "/note", json!("other")),
        "/deprecatedCount",
        json!(3),
    );
    expect(
        &super::validate_update(info, &changed, &old),
        &[("note", Invalid), ("deprecatedCount", Invalid)],
        "reported fields stay",
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

//! LimitRanger against realistic LimitRanges, pods and claims.

use super::*;
use serde_json::json;

fn range(limits: Value) -> LimitRange {
    serde_json::from_value(
        json!({"metadata": {"name": "limits", "namespace": "ns"}, "spec": {"limits": limits}}),
    )
    .unwrap()
}

fn req(op: Operation, resource: &str) -> Request {
    let mut r = Request::new(op, "", resource);
    r.namespace = "ns".into();
    r.name = "x".into();
    r
}

fn pod(containers: Value) -> Value {
    json!({"metadata": {"name": "x"}, "spec": {"containers": containers}})
}

#[test]
fn defaults_fill_missing_requests_and_limits() {
    let lr = range(json!([{
        "type": "Container",
        "default": {"cpu": "500m", "memory": "512Mi"},
        "defaultRequest": {"cpu": "100m"}
    }]));
    let mut p = json!({"metadata": {"name": "x"}, "spec": {
        "initContainers": [{"name": "init"}],
        "containers": [
            {"name": "a"},
            {"name": "b", "resources": {"requests": {"cpu": "200m"}, "limits": {"memory": "1Gi"}}}
        ]
    }});
    admit(&req(Operation::Create, "pods"), &mut p, None, &[lr]).unwrap();
    let a = &p["spec"]["containers"][0]["resources"];
    assert_eq!(a["requests"], json!({"cpu": "100m", "memory": "512Mi"}));
    assert_eq!(a["limits"], json!({"cpu": "500m", "memory": "512Mi"}));
    let b = &p["spec"]["containers"][1]["resources"];
    assert_eq!(b["requests"], json!({"cpu": "200m", "memory": "512Mi"}));
    assert_eq!(b["limits"], json!({"cpu": "500m", "memory": "1Gi"}));
    let i = &p["spec"]["initContainers"][0]["resources"];
    assert_eq!(i["requests"]["cpu"], "100m");
    assert_eq!(
        p["metadata"]["annotations"][LIMIT_RANGER_ANNOTATION],
        "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; \
memory request for container b; cpu limit for container b; cpu, memory request for init container init; \
cpu, memory limit for init container init"
    );
}

#[test]
fn default_request_falls_back_to_default_then_min() {
    // No defaultRequest: the request defaults to the default limit; a
    // max alone becomes the default.
    let lr = range(json!([{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]));
    let mut p = pod(json!([{"name": "a"}]));
    admit(&req(Operation::Create, "pods"), &mut p, None, &[lr]).unwrap();
    let r = &p["spec"]["containers"][0]["resources"];
    assert_eq!(r["limits"], json!({"cpu": "2"}));
    assert_eq!(r["requests"], json!({"cpu": "2", "memory": "64Mi"}));
}

#[test]
fn container_min_max_ratio() {
    let lr = range(json!([{
        "type": "Container",
        "min": {"cpu": "100m"},
        "max": {"memory": "1Gi"},
        "maxLimitRequestRatio": {"cpu": "4"},
        "default": {"memory": "256Mi"},
        "defaultRequest": {"memory": "256Mi"}
    }]));
    let cases: Vec<(Value, Option<&str>)> = vec![
        (
            json!([{"name": "a", "resources": {"requests": {"cpu": "200m"}, "limits": {"cpu": "400m"}}}]),
            None,
        ),
        (
            json!([{"name": "a", "resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "100m"}}}]),
            Some("minimum cpu usage per Container is 100m, but request is 50m"),
        ),
        (
            json!([{"name": "a", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}}]),
            Some(
                "cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000",
            ),
        ),
        (
            json!([{"name": "a", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "400m", "memory": "2Gi"}}}]),
            Some("maximum memory usage per Container is 1Gi, but limit is 2Gi"),
        ),
        // The request defaults to the min (LimitRange defaulting), the
        // ratio is then too high.
        (
            json!([{"name": "a", "resources": {"requests": {"memory": "100Mi"}, "limits": {"cpu": "1"}}}]),
            Some(
                "cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000",
            ),
        ),
        (
            json!([
                {"name": "a", "resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "50m"}}},
                {"name": "b", "resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "50m"}}}
            ]),
            Some("minimum cpu usage per Container is 100m, but request is 50m"),
        ),
    ];
    for (containers, want) in cases {
        let mut p = pod(containers.clone());
        let got = admit(
            &req(Operation::Create, "pods"),
            &mut p,
            None,
            std::slice::from_ref(&lr),
        )
        .err()
        .map(|e| {
            assert_eq!(e.code, 403);
            e.message
        });
        assert_eq!(
            got,
            want.map(|w| format!(r#"pods "x" is forbidden: {w}"#)),
            "{containers}"
        );
    }
}

#[test]
fn validation_alone_reports_everything_missing() {
    let lr = range(json!([{
        "type": "Container",
        "min": {"cpu": "100m"},
        "max": {"memory": "1Gi"},
        "maxLimitRequestRatio": {"cpu": "4"}
    }]));
    let p = pod(json!([{"name": "a", "resources": {"limits": {"cpu": "1"}}}]));
    let e = validate(&req(Operation::Create, "pods"), &p, None, &[lr]).unwrap_err();
    assert_eq!(
        e.message,
        "pods \"x\" is forbidden: [minimum cpu usage per Container is 100m.  No request is specified, \
maximum memory usage per Container is 1Gi.  No limit is specified, \
cpu max limit to request ratio per Container is 4, but no request is specified or request is 0]"
    );
}

#[test]
fn pod_limits_use_the_pod_totals() {
    let lr = range(
        json!([{"type": "Pod", "max": {"memory": "1Gi", "cpu": "2"}, "min": {"cpu": "200m"}}]),
    );
    let ok = pod(json!([
        {"name": "a", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1", "memory": "512Mi"}}},
        {"name": "b", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1", "memory": "512Mi"}}}
    ]));
    validate(
        &req(Operation::Create, "pods"),
        &ok,
        None,
        std::slice::from_ref(&lr),
    )
    .unwrap();
    let big = pod(json!([
        {"name": "a", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1", "memory": "1Gi"}}},
        {"name": "b", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1", "memory": "1Gi"}}}
    ]));
    let e = validate(&req(Operation::Create, "pods"), &big, None, &[lr]).unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "x" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 2Gi"#
    );
}

#[test]
fn claims_storage() {
    let lr = range(
        json!([{"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}}]),
    );
    let claim = |size: &str| json!({"metadata": {"name": "x"}, "spec": {"resources": {"requests": {"storage": size}}}});
    let r = req(Operation::Create, "persistentvolumeclaims");
    validate(&r, &claim("5Gi"), None, std::slice::from_ref(&lr)).unwrap();
    let e = validate(&r, &claim("500Mi"), None, std::slice::from_ref(&lr)).unwrap_err();
    assert_eq!(
        e.message,
        r#"persistentvolumeclaims "x" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"#
    );
    let e = validate(&r, &claim("20Gi"), None, std::slice::from_ref(&lr)).unwrap_err();
    assert_eq!(
        e.message,
        r#"persistentvolumeclaims "x" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"#
    );
    // Resizes (updates) are checked too.
    let e = validate(
        &req(Operation::Update, "persistentvolumeclaims"),
        &claim("20Gi"),
        Some(&claim("5Gi")),
        std::slice::from_ref(&lr),
    );
    assert!(e.is_err());
    let e = validate(
        &r,
        &json!({"metadata": {"name": "x"}, "spec": {}}),
        None,
        &[lr],
    )
    .unwrap_err();
    assert!(e.message.contains("[minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified, maximum storage usage per PersistentVolumeClaim is 10Gi.  No request is specified]"));
}

#[test]
fn skipped_requests() {
    let lr = range(json!([{"type": "Container", "min": {"cpu": "1"}, "default": {"cpu": "2"}}]));
    let bare = pod(json!([{"name": "a"}]));
    let deleting = json!({"metadata": {"name": "x", "deletionTimestamp": "2025-01-01T00:00:00Z"}});
    let mut status = req(Operation::Update, "pods");
    status.subresource = "status".into();
    for (r, old) in [
        (req(Operation::Update, "pods"), None),
        (req(Operation::Delete, "pods"), None),
        (status, None),
        (req(Operation::Create, "services"), None),
        (
            req(Operation::Update, "persistentvolumeclaims"),
            Some(&deleting),
        ),
    ] {
        let mut p = bare.clone();
        admit(&r, &mut p, old, std::slice::from_ref(&lr)).unwrap();
        assert_eq!(p, bare, "{:?} {}", r.operation, r.resource);
    }
    // Resizes are mutated and validated.
    let mut resize = req(Operation::Update, "pods");
    resize.subresource = "resize".into();
    let mut p = pod(json!([{"name": "a", "resources": {"requests": {"cpu": "500m"}}}]));
    let e = admit(&resize, &mut p, Some(&bare), &[lr]).unwrap_err();
    assert!(
        e.message
            .contains("minimum cpu usage per Container is 1, but request is 500m")
    );
}

#[test]
fn bad_input_never_panics() {
    let lr = range(
        json!([{"type": "Container", "min": {"cpu": "bad"}, "default": {"cpu": "nope", "memory": "1Gi"}}]),
    );
    for mut v in [
        json!(null),
        json!("pod"),
        json!({"spec": {"containers": "x"}}),
        json!({"spec": {"containers": [1, {"name": "a", "resources": "x"}]}}),
    ] {
        let _ = admit(
            &req(Operation::Create, "pods"),
            &mut v,
            None,
            std::slice::from_ref(&lr),
        );
    }
    // An empty LimitRange changes nothing.
    let mut p = pod(json!([{"name": "a"}]));
    admit(
        &req(Operation::Create, "pods"),
        &mut p,
        None,
        &[range(json!([]))],
    )
    .unwrap();
    assert_eq!(p, pod(json!([{"name": "a"}])));
    assert_eq!(aggregate(&["a".into(), "a".into()]), "a");
    assert_eq!(aggregate(&["a".into(), "b".into(), "a".into()]), "[a, b]");
}

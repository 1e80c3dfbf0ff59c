//! The quota admission check on realistic quotas and objects.

use super::*;
use serde_json::json;

fn quota(name: &str, hard: Value, used: Value) -> ResourceQuota {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"hard": hard},
        "status": {"hard": hard, "used": used}
    }))
    .unwrap()
}

fn req(op: Operation, group: &str, resource: &str, name: &str) -> Request {
    let mut r = Request::new(op, group, resource);
    r.namespace = "ns".into();
    r.name = name.into();
    r
}

fn pod(name: &str, cpu: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"containers": [{"name": "c1", "image": "nginx",
            "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}, "limits": {"cpu": cpu, "memory": "128Mi"}}}]}
    })
}

fn used(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn charges_creates() {
    let quotas = [
        quota(
            "compute",
            json!({"pods": "10", "requests.cpu": "2", "limits.memory": "1Gi"}),
            json!({"pods": "2", "requests.cpu": "500m", "limits.memory": "256Mi"}),
        ),
        quota(
            "objects",
            json!({"configmaps": "5"}),
            json!({"configmaps": "1"}),
        ),
    ];
    let out = check(
        &quotas,
        &req(Operation::Create, "", "pods", "web"),
        &pod("web", "250m"),
        None,
    )
    .unwrap();
    assert_eq!(
        out,
        vec![(
            0,
            used(&[
                ("pods", "3"),
                ("requests.cpu", "750m"),
                ("limits.memory", "384Mi")
            ])
        )]
    );
    let cm = json!({"metadata": {"name": "cfg"}, "data": {}});
    let out = check(
        &quotas,
        &req(Operation::Create, "", "configmaps", "cfg"),
        &cm,
        None,
    )
    .unwrap();
    assert_eq!(out, vec![(1, used(&[("configmaps", "2")]))]);
}

#[test]
fn refuses_over_the_limit() {
    let quotas = [quota("q", json!({"pods": "2"}), json!({"pods": "2"}))];
    let e = check(
        &quotas,
        &req(Operation::Create, "", "pods", "x"),
        &pod("x", "100m"),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code, 403);
    assert_eq!(e.reason, "Forbidden");
    assert_eq!(
        e.message,
        r#"pods "x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"#
    );

    let quotas = [quota(
        "compute",
        json!({"requests.cpu": "1", "requests.memory": "1Gi", "pods": "5"}),
        json!({"requests.cpu": "900m", "requests.memory": "1000Mi", "pods": "1"}),
    )];
    let e = check(
        &quotas,
        &req(Operation::Create, "", "pods", "x"),
        &pod("x", "200m"),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "x" is forbidden: exceeded quota: compute, requested: requests.cpu=200m,requests.memory=128Mi, used: requests.cpu=900m,requests.memory=1000Mi, limited: requests.cpu=1,requests.memory=1Gi"#
    );
}

#[test]
fn must_specify_constrained_compute() {
    let quotas = [quota(
        "q",
        json!({"limits.cpu": "4", "requests.memory": "4Gi"}),
        json!({"limits.cpu": "0", "requests.memory": "0"}),
    )];
    let p = json!({"metadata": {"name": "x"}, "spec": {
        "initContainers": [{"name": "init", "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Mi"}}}],
        "containers": [{"name": "c1"}, {"name": "c2", "resources": {"requests": {"memory": "1Mi"}}}]}});
    let e = check(&quotas, &req(Operation::Create, "", "pods", "x"), &p, None).unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "x" is forbidden: failed quota: q: must specify limits.cpu for: c1,c2; requests.memory for: c1"#
    );
    // Quotas on other resources ask for nothing.
    let quotas = [quota(
        "q",
        json!({"pods": "4", "requests.storage": "1Gi"}),
        json!({"pods": "0", "requests.storage": "0"}),
    )];
    check(&quotas, &req(Operation::Create, "", "pods", "x"), &p, None).unwrap();
}

#[test]
fn status_not_yet_known() {
    // The controller has not filled status: nothing is constrained.
    let fresh: ResourceQuota = serde_json::from_value(
        json!({"metadata": {"name": "new"}, "spec": {"hard": {"pods": "0"}}}),
    )
    .unwrap();
    assert_eq!(
        check(
            &[fresh],
            &req(Operation::Create, "", "pods", "x"),
            &pod("x", "1"),
            None
        )
        .unwrap(),
        vec![]
    );
    // status.hard without used for a constrained resource is refused.
    let partial: ResourceQuota = serde_json::from_value(json!({
        "metadata": {"name": "q"},
        "spec": {"hard": {"pods": "5", "requests.cpu": "1"}},
        "status": {"hard": {"pods": "5", "requests.cpu": "1"}, "used": {"pods": "1"}}
    }))
    .unwrap();
    let e = check(
        &[partial],
        &req(Operation::Create, "", "pods", "x"),
        &pod("x", "1"),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "x" is forbidden: status unknown for quota: q, resources: pods,requests.cpu"#
    );
}

#[test]
fn scopes_select_quotas() {
    let best_effort: ResourceQuota = serde_json::from_value(json!({
        "metadata": {"name": "be"},
        "spec": {"hard": {"pods": "1"}, "scopes": ["BestEffort"]},
        "status": {"hard": {"pods": "1"}, "used": {"pods": "1"}}
    }))
    .unwrap();
    // A burstable pod is not covered by the BestEffort quota.
    assert!(
        check(
            std::slice::from_ref(&best_effort),
            &req(Operation::Create, "", "pods", "x"),
            &pod("x", "1"),
            None
        )
        .unwrap()
        .is_empty()
    );
    let bare = json!({"metadata": {"name": "y"}, "spec": {"containers": [{"name": "c"}]}});
    let e = check(
        &[best_effort],
        &req(Operation::Create, "", "pods", "y"),
        &bare,
        None,
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1")
    );
}

#[test]
fn updates_charge_the_difference() {
    let quotas = [quota(
        "svc",
        json!({"services.nodeports": "3", "services.loadbalancers": "1", "services": "10"}),
        json!({"services.nodeports": "1", "services.loadbalancers": "0", "services": "1"}),
    )];
    let old = json!({"metadata": {"name": "web", "resourceVersion": "7"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
    let new = json!({"metadata": {"name": "web", "resourceVersion": "7"}, "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]}});
    let r = req(Operation::Update, "", "services", "web");
    let out = check(&quotas, &r, &new, Some(&old)).unwrap();
    assert_eq!(
        out,
        vec![(
            0,
            used(&[
                ("services", "1"),
                ("services.nodeports", "3"),
                ("services.loadbalancers", "0")
            ])
        )]
    );
    // Going back down charges nothing (no negative deltas for services).
    assert!(check(&quotas, &r, &old, Some(&new)).unwrap().is_empty());
    // An update without the stored object is refused.
    let e = check(&quotas, &r, &new, None).unwrap_err();
    assert!(
        e.message
            .ends_with("unable to get previous usage since prior version of object was not found")
    );
    // A create-on-update (no resource version) is charged in full.
    let unsaved = json!({"metadata": {"name": "web"}, "spec": {"type": "ClusterIP"}});
    let out = check(&quotas, &r, &new, Some(&unsaved)).unwrap();
    assert_eq!(out[0].1["services"], "2");
    // Plain pod updates are not charged; object counts only on create.
    assert!(
        check(
            &quotas,
            &req(Operation::Update, "", "pods", "p"),
            &pod("p", "1"),
            Some(&pod("p", "1"))
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn pod_resizes_may_shrink_usage() {
    let quotas = [quota(
        "compute",
        json!({"requests.cpu": "2"}),
        json!({"requests.cpu": "1500m"}),
    )];
    let mut r = req(Operation::Update, "", "pods", "p");
    r.subresource = "resize".into();
    let mut old = pod("p", "1");
    old["metadata"]["resourceVersion"] = json!("3");
    let mut smaller = pod("p", "500m");
    smaller["metadata"]["resourceVersion"] = json!("3");
    let out = check(&quotas, &r, &smaller, Some(&old)).unwrap();
    assert_eq!(out, vec![(0, used(&[("requests.cpu", "1")]))]);
    let mut bigger = pod("p", "2");
    bigger["metadata"]["resourceVersion"] = json!("3");
    let e = check(&quotas, &r, &bigger, Some(&old)).unwrap_err();
    assert!(e.message.contains("exceeded quota: compute, requested: requests.cpu=1, used: requests.cpu=1500m, limited: requests.cpu=2"));
}

#[test]
fn counts_and_storage_classes() {
    let quotas = [quota(
        "storage",
        json!({"count/deployments.apps": "1", "gold.storageclass.storage.k8s.io/requests.storage": "10Gi", "persistentvolumeclaims": "3"}),
        json!({"count/deployments.apps": "1", "gold.storageclass.storage.k8s.io/requests.storage": "8Gi", "persistentvolumeclaims": "1"}),
    )];
    let e = check(
        &quotas,
        &req(Operation::Create, "apps", "deployments", "d"),
        &json!({"metadata": {"name": "d"}}),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        r#"deployments.apps "d" is forbidden: exceeded quota: storage, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1"#
    );
    let claim = |size: &str| json!({"metadata": {"name": "c"}, "spec": {"storageClassName": "gold", "resources": {"requests": {"storage": size}}}});
    let r = req(Operation::Create, "", "persistentvolumeclaims", "c");
    let out = check(&quotas, &r, &claim("2Gi"), None).unwrap();
    assert_eq!(
        out[0].1["gold.storageclass.storage.k8s.io/requests.storage"],
        "10Gi"
    );
    assert_eq!(out[0].1["persistentvolumeclaims"], "2");
    assert!(check(&quotas, &r, &claim("3Gi"), None).is_err());
}

#[test]
fn requests_quota_ignores() {
    let quotas = [quota(
        "q",
        json!({"pods": "0", "count/events": "0", "count/widgets.example.com": "0"}),
        json!({"pods": "0", "count/events": "0", "count/widgets.example.com": "0"}),
    )];
    let p = pod("x", "1");
    let mut status = req(Operation::Update, "", "pods", "x");
    status.subresource = "status".into();
    let mut cluster = req(Operation::Create, "", "pods", "x");
    cluster.namespace.clear();
    for r in [
        status,
        cluster,
        req(Operation::Delete, "", "pods", "x"),
        req(Operation::Create, "", "events", "e"),
        req(Operation::Create, "", "namespaces", "ns"),
        req(Operation::Update, "example.com", "widgets", "w"),
    ] {
        assert!(
            check(&quotas, &r, &p, Some(&p)).unwrap().is_empty(),
            "{:?} {}",
            r.operation,
            r.resource
        );
    }
    // No quotas, nothing to do.
    assert!(
        check(&[], &req(Operation::Create, "", "pods", "x"), &p, None)
            .unwrap()
            .is_empty()
    );
    // Custom resources are counted on create.
    assert!(
        check(
            &quotas,
            &req(Operation::Create, "example.com", "widgets", "w"),
            &json!({}),
            None
        )
        .is_err()
    );
}

#[test]
fn negative_usage_is_refused() {
    let quotas = [quota("q", json!({"pods": "9"}), json!({"pods": "0"}))];
    let p = json!({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "-1"}}}]}});
    let e = check(&quotas, &req(Operation::Create, "", "pods", "x"), &p, None).unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "x" is forbidden: quota usage is negative for resource(s): cpu,requests.cpu"#
    );
}

#[test]
fn bad_input_never_panics() {
    let quotas = [
        quota(
            "q",
            json!({"pods": "x", "cpu": "1"}),
            json!({"cpu": "junk"}),
        ),
        quota("r", json!({"pods": "1"}), json!({"pods": "0"})),
    ];
    for v in [
        json!(null),
        json!("x"),
        json!({"spec": {"containers": "nope"}}),
    ] {
        let _ = check(&quotas, &req(Operation::Create, "", "pods", "x"), &v, None);
        let _ = check(
            &quotas,
            &req(Operation::Update, "", "services", "x"),
            &v,
            Some(&v),
        );
    }
}

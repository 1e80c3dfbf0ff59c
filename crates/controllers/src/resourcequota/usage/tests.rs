//! The evaluators alone.

use super::*;
use serde_json::json;

fn pod(body: serde_json::Value) -> Arc<Pod> {
    Arc::new(serde_json::from_value(body).unwrap())
}

fn quota(hard: &[&str], scopes: serde_json::Value) -> (ResourceQuota, BTreeMap<String, Quantity>) {
    let hard: BTreeMap<String, Quantity> = hard
        .iter()
        .map(|k| (k.to_string(), Quantity("100".into())))
        .collect();
    let q: ResourceQuota =
        serde_json::from_value(json!({"spec": {"hard": hard, "scopes": scopes}})).unwrap();
    (q, hard)
}

fn used(u: &Usage) -> BTreeMap<String, String> {
    u.iter().map(|(k, v)| (k.clone(), v.canonical())).collect()
}

#[test]
fn pods_compute_and_scopes() {
    let web = pod(json!({
        "metadata": {"name": "web"},
        "spec": {
            "initContainers": [
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "init", "resources": {"requests": {"cpu": "2"}}}
            ],
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}}
            ]
        },
        "status": {"phase": "Running", "qosClass": "Burstable"}
    }));
    let done = pod(json!({
        "metadata": {"name": "done"},
        "spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]},
        "status": {"phase": "Succeeded"}
    }));
    let idle = pod(json!({
        "metadata": {"name": "idle"},
        "spec": {"containers": [{"name": "a"}]},
        "status": {"phase": "Running", "qosClass": "BestEffort"}
    }));
    let pods = [web, done, idle];
    let empty = BTreeMap::new();
    let inp = Inputs {
        pods: &pods,
        services: &[],
        claims: &[],
        counts: &empty,
    };
    let keys = [
        "pods",
        "count/pods",
        "requests.cpu",
        "cpu",
        "requests.memory",
        "limits.memory",
        "limits.cpu",
    ];
    let (q, hard) = quota(&keys, json!(null));
    let u = used(&compute(&q, &hard, &inp));
    assert_eq!(u["pods"], "2");
    assert_eq!(u["count/pods"], "3");
    // The init container needs 2 + the 100m sidecar started before it.
    assert_eq!(u["requests.cpu"], "2100m");
    assert_eq!(u["cpu"], "2100m");
    assert_eq!(u["requests.memory"], "320Mi");
    assert_eq!(u["limits.memory"], "256Mi");
    assert_eq!(u["limits.cpu"], "0");

    let (q, hard) = quota(&["pods"], json!(["BestEffort"]));
    assert_eq!(used(&compute(&q, &hard, &inp))["pods"], "1");
}

#[test]
fn services_and_counts() {
    let svc = |t: &str| -> Arc<Service> {
        Arc::new(
            serde_json::from_value(
                json!({"spec": {"type": t, "ports": [{"port": 80}, {"port": 443}]}}),
            )
            .unwrap(),
        )
    };
    let services = [svc("ClusterIP"), svc("NodePort"), svc("LoadBalancer")];
    let counts = BTreeMap::from([
        ("count/configmaps".to_string(), 4),
        ("count/deployments.apps".to_string(), 2),
    ]);
    let inp = Inputs {
        pods: &[],
        services: &services,
        claims: &[],
        counts: &counts,
    };
    let keys = [
        "services",
        "services.nodeports",
        "services.loadbalancers",
        "configmaps",
        "count/configmaps",
        "count/deployments.apps",
        "secrets",
        "example.com/unknown",
    ];
    let (q, hard) = quota(&keys, json!(null));
    let u = used(&compute(&q, &hard, &inp));
    assert_eq!(u["services"], "3");
    assert_eq!(u["services.nodeports"], "4");
    assert_eq!(u["services.loadbalancers"], "1");
    assert_eq!(u["configmaps"], "4");
    assert_eq!(u["count/configmaps"], "4");
    assert_eq!(u["count/deployments.apps"], "2");
    assert_eq!(u["secrets"], "0");
    assert!(!u.contains_key("example.com/unknown"));
}

#[test]
fn scoped_quotas_count_only_pods() {
    let counts = BTreeMap::from([("count/configmaps".to_string(), 4)]);
    let pods = [pod(json!({
        "metadata": {"name": "idle"},
        "spec": {"containers": [{"name": "a"}]},
        "status": {"phase": "Running", "qosClass": "BestEffort"}
    }))];
    let services = [Arc::new(
        serde_json::from_value::<Service>(
            json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
        )
        .unwrap(),
    )];
    let inp = Inputs {
        pods: &pods,
        services: &services,
        claims: &[],
        counts: &counts,
    };
    let (q, hard) = quota(&["pods", "configmaps", "services"], json!(["BestEffort"]));
    let u = used(&compute(&q, &hard, &inp));
    assert_eq!(u["pods"], "1");
    assert_eq!(u["configmaps"], "0");
    assert_eq!(u["services"], "0");
}

//! The evaluators on realistic objects.

use super::*;
use crate::quantity::list_to_strings;
use serde_json::json;
use std::collections::BTreeMap;

fn strings(u: &ResourceList) -> BTreeMap<String, String> {
    list_to_strings(u)
}

#[test]
fn pod_usage_counts_compute() {
    let pod = json!({
        "metadata": {"name": "web"},
        "spec": {
            "initContainers": [
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "init", "resources": {"requests": {"cpu": "2"}}}
            ],
            "containers": [
                {"name": "a", "resources": {
                    "requests": {"cpu": "250m", "memory": "128Mi", "example.com/gpu": "1", "hugepages-2Mi": "4Mi"},
                    "limits": {"memory": "256Mi", "example.com/gpu": "1", "hugepages-2Mi": "4Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "128Mi", "ephemeral-storage": "1Gi"}}}
            ]
        },
        "status": {"phase": "Running"}
    });
    let u = strings(&usage("", "pods", &pod));
    let want: BTreeMap<String, String> = [
        ("count/pods", "1"),
        ("pods", "1"),
        ("cpu", "2100m"),
        ("requests.cpu", "2100m"),
        ("memory", "320Mi"),
        ("requests.memory", "320Mi"),
        ("limits.memory", "256Mi"),
        ("ephemeral-storage", "1Gi"),
        ("requests.ephemeral-storage", "1Gi"),
        ("requests.example.com/gpu", "1"),
        ("hugepages-2Mi", "4Mi"),
        ("requests.hugepages-2Mi", "4Mi"),
        ("limits.hugepages-2Mi", "4Mi"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(u, want);
}

#[test]
fn finished_and_expired_pods_only_count_as_objects() {
    let done = json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}, "status": {"phase": "Succeeded"}});
    let u = strings(&usage("", "pods", &done));
    assert_eq!(u.len(), 1);
    assert_eq!(u["count/pods"], "1");

    let now: Timestamp = "2025-01-01T00:01:00Z".parse().unwrap();
    let mut deleting = json!({"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z", "deletionGracePeriodSeconds": 30},
        "spec": {"containers": [{"name": "a"}]}});
    assert_eq!(usage_at("", "pods", &deleting, now).len(), 1);
    deleting["metadata"]["deletionGracePeriodSeconds"] = json!(120);
    assert_eq!(strings(&usage_at("", "pods", &deleting, now))["pods"], "1");
    // A bad timestamp is ignored.
    deleting["metadata"]["deletionTimestamp"] = json!("yesterday");
    assert_eq!(strings(&usage_at("", "pods", &deleting, now))["pods"], "1");
}

#[test]
fn service_usage() {
    let svc = |t: &str, extra: Value| {
        let mut s =
            json!({"spec": {"type": t, "ports": [{"port": 80, "nodePort": 30080}, {"port": 443}]}});
        if let Some(o) = extra.as_object() {
            for (k, v) in o {
                s["spec"][k] = v.clone();
            }
        }
        s
    };
    let cases = [
        (svc("ClusterIP", json!({})), "0", "0"),
        (svc("NodePort", json!({})), "2", "0"),
        (svc("LoadBalancer", json!({})), "2", "1"),
        (
            svc(
                "LoadBalancer",
                json!({"allocateLoadBalancerNodePorts": false}),
            ),
            "1",
            "1",
        ),
        (svc("ExternalName", json!({})), "0", "0"),
    ];
    for (s, node_ports, lbs) in cases {
        let u = strings(&usage("", "services", &s));
        assert_eq!(u["services"], "1");
        assert_eq!(u["count/services"], "1");
        assert_eq!(u["services.nodeports"], node_ports, "{s}");
        assert_eq!(u["services.loadbalancers"], lbs, "{s}");
    }
}

#[test]
fn claim_usage() {
    let claim = json!({
        "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1.5"}}},
        "status": {"allocatedResources": {"storage": "1Gi"}}
    });
    let u = strings(&usage("", "persistentvolumeclaims", &claim));
    assert_eq!(u["persistentvolumeclaims"], "1");
    assert_eq!(u["count/persistentvolumeclaims"], "1");
    assert_eq!(
        u["fast.storageclass.storage.k8s.io/persistentvolumeclaims"],
        "1"
    );
    assert_eq!(u["requests.storage"], "1Gi");
    assert_eq!(
        u["fast.storageclass.storage.k8s.io/requests.storage"],
        "1Gi"
    );

    let small = json!({
        "metadata": {"annotations": {BETA_STORAGE_CLASS_ANNOTATION: "slow"}},
        "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1.5"}}}
    });
    let u = strings(&usage("", "persistentvolumeclaims", &small));
    assert_eq!(u["requests.storage"], "2");
    assert_eq!(u["slow.storageclass.storage.k8s.io/requests.storage"], "2");
    assert!(!u.contains_key("fast.storageclass.storage.k8s.io/requests.storage"));

    let bare = json!({"spec": {}});
    let u = strings(&usage("", "persistentvolumeclaims", &bare));
    assert_eq!(u.len(), 2);
}

#[test]
fn object_counts() {
    let u = strings(&usage("apps", "deployments", &json!({})));
    assert_eq!(
        u,
        BTreeMap::from([("count/deployments.apps".to_string(), "1".to_string())])
    );
    let u = strings(&usage("", "configmaps", &json!({})));
    assert_eq!(u["count/configmaps"], "1");
    assert_eq!(u["configmaps"], "1");
    assert_eq!(object_count_name("", "secrets"), "count/secrets");
    assert_eq!(
        counted_resource("count/deployments.apps"),
        Some(("apps".into(), "deployments".into()))
    );
    assert_eq!(
        counted_resource("count/widgets.example.com"),
        Some(("example.com".into(), "widgets".into()))
    );
    assert_eq!(
        counted_resource("secrets"),
        Some(("".into(), "secrets".into()))
    );
    assert_eq!(counted_resource("count/"), None);
    assert_eq!(counted_resource("cpu"), None);
}

#[test]
fn matching_names() {
    let names: Vec<String> = [
        "pods",
        "count/pods",
        "requests.cpu",
        "limits.memory",
        "requests.example.com/gpu",
        "requests.nvidia.com/gpu",
        "requests.kubernetes.io/native",
        "hugepages-1Gi",
        "requests.hugepages-2Mi",
        "services",
        "services.nodeports",
        "persistentvolumeclaims",
        "requests.storage",
        "gold.storageclass.storage.k8s.io/requests.storage",
        "configmaps",
        "count/configmaps",
        "count/deployments.apps",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        matching_resources("", "pods", &names),
        [
            "pods",
            "count/pods",
            "requests.cpu",
            "limits.memory",
            "requests.example.com/gpu",
            "requests.nvidia.com/gpu",
            "hugepages-1Gi",
            "requests.hugepages-2Mi"
        ]
    );
    assert_eq!(
        matching_resources("", "services", &names),
        ["services", "services.nodeports"]
    );
    assert_eq!(
        matching_resources("", "persistentvolumeclaims", &names),
        [
            "persistentvolumeclaims",
            "requests.storage",
            "gold.storageclass.storage.k8s.io/requests.storage"
        ]
    );
    assert_eq!(
        matching_resources("", "configmaps", &names),
        ["configmaps", "count/configmaps"]
    );
    assert_eq!(
        matching_resources("apps", "deployments", &names),
        ["count/deployments.apps"]
    );
    assert!(matching_resources("apps", "replicasets", &names).is_empty());
}

#[test]
fn bad_input_never_panics() {
    for v in [
        json!(null),
        json!(1),
        json!({"spec": "x"}),
        json!({"spec": {"ports": "x", "containers": [1]}}),
    ] {
        for (g, r) in [
            ("", "pods"),
            ("", "services"),
            ("", "persistentvolumeclaims"),
            ("apps", "deployments"),
        ] {
            let u = usage(g, r, &v);
            assert!(!u.is_empty());
        }
    }
    assert!(is_extended("example.com/gpu"));
    assert!(!is_extended("cpu"));
    assert!(!is_extended("kubernetes.io/thing"));
    assert!(!is_extended("Bad_Prefix/gpu"));
}

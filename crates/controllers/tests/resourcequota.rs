//! The resource quota controller against a real API server: status.hard
//! mirrors spec.hard and status.used follows creates, deletes and pods
//! finishing.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use ironclad_controllers::{Config, Context, resourcequota};
use ironclad_testkit::{PodState, TestCluster, eventually, mark_pod};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ResourceQuota, Service};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use serde::de::DeserializeOwned;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);
const NS: &str = "team";

async fn create<K>(client: &Client, body: serde_json::Value) -> K
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let obj: K = serde_json::from_value(body).unwrap();
    Api::<K>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &obj)
        .await
        .unwrap()
}

fn pod_body(name: &str) -> serde_json::Value {
    json!({
        "metadata": {"name": name},
        "spec": {"containers": [{
            "name": "c", "image": "nginx",
            "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
        }]}
    })
}

/// Waits until status.used has every `want` value (compared as written).
async fn wait_used(client: &Client, want: &[(&str, &str)]) -> ResourceQuota {
    let api = Api::<ResourceQuota>::namespaced(client.clone(), NS);
    let want: BTreeMap<String, String> = want
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let last = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let found = tokio::time::timeout(
        WAIT,
        eventually("quota usage", WAIT * 2, || {
            let api = api.clone();
            let want = want.clone();
            let last = last.clone();
            async move {
                let q = api.get("quota").await.ok()?;
                let used: BTreeMap<String, String> = q
                    .status
                    .as_ref()?
                    .used
                    .as_ref()?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect();
                let ok = want.iter().all(|(k, v)| used.get(k) == Some(v));
                *last.lock().unwrap() = used;
                ok.then_some(q)
            }
        }),
    )
    .await;
    match found {
        Ok(q) => q,
        Err(_) => panic!("wanted {want:?}, last saw {:?}", last.lock().unwrap()),
    }
}

#[tokio::test]
async fn usage_follows_creates_and_deletes() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let config = Config {
        resync_period: Duration::from_millis(500),
        ..Config::default()
    };
    tokio::spawn(resourcequota::run(Context::new(client.clone(), config)));

    let hard = json!({
        "pods": "10", "count/pods": "10",
        "requests.cpu": "4", "cpu": "4", "requests.memory": "4Gi", "limits.memory": "8Gi",
        "configmaps": "10", "count/configmaps": "10", "secrets": "10",
        "services": "5", "services.nodeports": "5", "services.loadbalancers": "1",
        "resourcequotas": "2", "count/deployments.apps": "3"
    });
    let quota: ResourceQuota = create(
        &client,
        json!({"metadata": {"name": "quota"}, "spec": {"hard": hard}}),
    )
    .await;
    let q = wait_used(
        &client,
        &[
            ("pods", "0"),
            ("requests.cpu", "0"),
            ("resourcequotas", "1"),
            ("count/deployments.apps", "0"),
        ],
    )
    .await;
    let status = q.status.unwrap();
    assert_eq!(status.hard, quota.spec.unwrap().hard);
    let base_configmaps = status.used.unwrap()["configmaps"].0.parse::<i64>().unwrap();

    let a: Pod = create(&client, pod_body("a")).await;
    let _b: Pod = create(&client, pod_body("b")).await;
    let _: ConfigMap = create(
        &client,
        json!({"metadata": {"name": "settings"}, "data": {"k": "v"}}),
    )
    .await;
    let _: Service = create(
        &client,
        json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "selector": {"app": "web"},
               "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}}),
    )
    .await;
    let configmaps = (base_configmaps + 1).to_string();
    wait_used(
        &client,
        &[
            ("pods", "2"),
            ("count/pods", "2"),
            ("requests.cpu", "500m"),
            ("cpu", "500m"),
            ("requests.memory", "256Mi"),
            ("limits.memory", "512Mi"),
            ("configmaps", &configmaps),
            ("count/configmaps", &configmaps),
            ("services", "1"),
            ("services.nodeports", "2"),
            ("services.loadbalancers", "0"),
        ],
    )
    .await;

    // A finished pod no longer counts against compute (count/pods still
    // counts it); a deleted one not at all.
    mark_pod(&client, &a, PodState::Succeeded).await.unwrap();
    wait_used(
        &client,
        &[("pods", "1"), ("count/pods", "2"), ("requests.cpu", "250m")],
    )
    .await;
    Api::<Pod>::namespaced(client.clone(), NS)
        .delete("b", &DeleteParams::default())
        .await
        .unwrap();
    Api::<Service>::namespaced(client.clone(), NS)
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    wait_used(
        &client,
        &[
            ("pods", "0"),
            ("count/pods", "1"),
            ("requests.cpu", "0"),
            ("services", "0"),
            ("services.nodeports", "0"),
        ],
    )
    .await;

    // Kinds counted by listing: seen at the next resync.
    let _: Deployment = create(
        &client,
        json!({"metadata": {"name": "d"}, "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        }}),
    )
    .await;
    wait_used(&client, &[("count/deployments.apps", "1")]).await;
}

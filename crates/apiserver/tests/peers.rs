//! Several API servers on one store: the `kubernetes` Endpoints and
//! EndpointSlice list exactly the live ones.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use ironclad_apiserver::{ApiServer, Config};
use ironclad_store::Store;
use ironclad_store_embedded::EmbeddedStore;
use serde_json::Value;
use support::eventually;
use tower::ServiceExt;

const ENDPOINTS: &str = "/api/v1/namespaces/default/endpoints/kubernetes";
const SLICE: &str = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes";

async fn server(store: &Arc<dyn Store>, ip: [u8; 4], ttl: Duration) -> ApiServer {
    let mut config = Config::new(ip.into(), 6443);
    config.peer_lease_ttl = ttl;
    ApiServer::new(store.clone(), config).await.unwrap()
}

async fn get(api: &ApiServer, path: &str) -> Value {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    let resp = api.router().oneshot(req).await.unwrap();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// The endpoint addresses, sorted.
async fn addresses(api: &ApiServer) -> Vec<String> {
    let ep = get(api, ENDPOINTS).await;
    let mut ips: Vec<String> = ep["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["addresses"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a["ip"].as_str().map(str::to_string))
        .collect();
    ips.sort();
    ips
}

async fn slice_addresses(api: &ApiServer) -> Vec<String> {
    let slice = get(api, SLICE).await;
    let mut ips: Vec<String> = slice["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["addresses"][0].as_str().map(str::to_string))
        .collect();
    ips.sort();
    ips
}

async fn wait_for(api: &ApiServer, want: &[&str]) {
    let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    eventually(&format!("endpoints {want:?}"), || async {
        (addresses(api).await == want && slice_addresses(api).await == want).then_some(())
    })
    .await;
}

#[tokio::test]
async fn endpoints_follow_the_servers_that_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        EmbeddedStore::open(dir.path(), Default::default())
            .await
            .unwrap(),
    );
    let ttl = Duration::from_secs(2);
    let a = server(&store, [10, 0, 0, 1], ttl).await;
    wait_for(&a, &["10.0.0.1"]).await;
    let b = server(&store, [10, 0, 0, 2], ttl).await;
    let c = server(&store, [10, 0, 0, 3], ttl).await;
    wait_for(&a, &["10.0.0.1", "10.0.0.2", "10.0.0.3"]).await;
    let ep = get(&a, ENDPOINTS).await;
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], 6443);
    assert_eq!(ep["subsets"][0]["ports"][0]["name"], "https");

    // A server that stops cleanly is dropped at once.
    b.withdraw().await.unwrap();
    assert_eq!(addresses(&a).await, ["10.0.0.1", "10.0.0.3"]);

    // One that dies (no withdrawal) is dropped once its lease expires and
    // another server reconciles.
    drop(c);
    wait_for(&a, &["10.0.0.1"]).await;
}

#[tokio::test]
async fn a_restarted_server_registers_again() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        EmbeddedStore::open(dir.path(), Default::default())
            .await
            .unwrap(),
    );
    let a = server(&store, [10, 0, 0, 1], Duration::from_secs(15)).await;
    a.withdraw().await.unwrap();
    assert!(addresses(&a).await.is_empty());
    drop(a);
    let a = server(&store, [10, 0, 0, 1], Duration::from_secs(15)).await;
    assert_eq!(addresses(&a).await, ["10.0.0.1"]);
    assert_eq!(slice_addresses(&a).await, ["10.0.0.1"]);
}

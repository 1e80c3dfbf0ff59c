//! The root CA publisher against a real API server: every namespace gets
//! `kube-root-ca.crt` with the cluster CA, again after it is deleted or
//! changed; without a CA nothing is published.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use ironclad_controllers::rootcacert::{
    CA_KEY, CONFIG_MAP_NAME, DESCRIPTION, DESCRIPTION_ANNOTATION,
};
use ironclad_controllers::{Config, Context};
use ironclad_testkit::{TestCluster, eventually};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(20);
const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let config = Config {
        root_ca_pem: Some(CA.into()),
        ..Config::default()
    };
    tokio::spawn(ironclad_controllers::rootcacert::run(Context::new(
        client.clone(),
        config,
    )));
    (cluster, client)
}

/// Waits for a published ConfigMap in `ns` other than `not_uid`.
async fn published(client: &Client, ns: &str, not_uid: Option<&str>) -> ConfigMap {
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    eventually(&format!("{CONFIG_MAP_NAME} in {ns}"), DEADLINE, || async {
        maps.get_opt(CONFIG_MAP_NAME).await.unwrap().filter(|cm| {
            cm.data
                .as_ref()
                .and_then(|d| d.get(CA_KEY))
                .map(String::as_str)
                == Some(CA)
                && cm.metadata.uid.as_deref() != not_uid
                && cm
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
                    .map(String::as_str)
                    == Some(DESCRIPTION)
        })
    })
    .await
}

#[tokio::test]
async fn every_namespace_gets_the_ca() {
    let (_cluster, client) = start().await;
    for ns in ["default", "kube-system", "kube-public"] {
        let cm = published(&client, ns, None).await;
        assert_eq!(cm.data.unwrap().len(), 1);
    }
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "fresh"}})).unwrap(),
        )
        .await
        .unwrap();
    published(&client, "fresh", None).await;
}

#[tokio::test]
async fn a_deleted_or_changed_config_map_is_restored() {
    let (_cluster, client) = start().await;
    let first = published(&client, "default", None).await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    maps.delete(CONFIG_MAP_NAME, &DeleteParams::default())
        .await
        .unwrap();
    let again = published(&client, "default", first.metadata.uid.as_deref()).await;
    assert_ne!(again.metadata.uid, first.metadata.uid);

    // Tampered data and a lost description are put back; extra keys go.
    let mut tampered = again.clone();
    tampered.data = Some(BTreeMap::from([
        (CA_KEY.to_string(), "not a CA".to_string()),
        ("extra".to_string(), "x".to_string()),
    ]));
    tampered.metadata.annotations =
        Some(BTreeMap::from([("other".to_string(), "kept".to_string())]));
    maps.replace(CONFIG_MAP_NAME, &PostParams::default(), &tampered)
        .await
        .unwrap();
    let restored = published(&client, "default", None).await;
    assert_eq!(restored.metadata.uid, again.metadata.uid);
    assert_eq!(restored.data.unwrap().len(), 1);
    assert_eq!(restored.metadata.annotations.unwrap()["other"], "kept");
}

#[tokio::test]
async fn without_a_ca_nothing_is_published() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let ctx = Context::new(client.clone(), Config::default());
    // Without a CA the controller ends at once, having written nothing.
    tokio::time::timeout(
        Duration::from_secs(5),
        ironclad_controllers::rootcacert::run(ctx),
    )
    .await
    .expect("the publisher ended")
    .unwrap();
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    assert!(maps.get_opt(CONFIG_MAP_NAME).await.unwrap().is_none());
}

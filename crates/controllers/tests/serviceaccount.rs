//! The serviceaccount controller against a real API server: every
//! namespace gets a `default` ServiceAccount, again after it is deleted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ironclad_controllers::{Config, Context};
use ironclad_testkit::{TestCluster, eventually};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(20);

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let ctx = Context::new(client.clone(), Config::default());
    tokio::spawn(ironclad_controllers::serviceaccount::run(ctx));
    (cluster, client)
}

async fn default_account(client: &Client, ns: &str) -> ServiceAccount {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    eventually(
        &format!("the default service account in {ns}"),
        DEADLINE,
        || async { accounts.get_opt("default").await.unwrap() },
    )
    .await
}

#[tokio::test]
async fn every_namespace_gets_a_default_service_account() {
    let (_cluster, client) = start().await;
    for ns in ["default", "kube-system", "kube-public"] {
        default_account(&client, ns).await;
    }
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "fresh"}})).unwrap(),
        )
        .await
        .unwrap();
    let sa = default_account(&client, "fresh").await;
    assert_eq!(sa.metadata.namespace.as_deref(), Some("fresh"));
}

#[tokio::test]
async fn a_deleted_default_service_account_comes_back() {
    let (_cluster, client) = start().await;
    let first = default_account(&client, "default").await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    accounts
        .delete("default", &DeleteParams::default())
        .await
        .unwrap();
    let again = eventually(
        "the default service account to come back",
        DEADLINE,
        || async {
            accounts
                .get_opt("default")
                .await
                .unwrap()
                .filter(|sa| sa.metadata.uid != first.metadata.uid)
        },
    )
    .await;
    assert_ne!(again.metadata.uid, first.metadata.uid);
}

//! The ClusterRole aggregation controller against a real API server: the
//! rules of labelled roles flow into the role that selects them, in name
//! order without repeats, and leave it when the label (or the role) goes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ironclad_controllers::{Config, Context};
use ironclad_testkit::{TestCluster, eventually};
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(20);
const LABEL: &str = "rbac.example.com/aggregate-to-monitoring";

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let ctx = Context::new(client.clone(), Config::default());
    tokio::spawn(ironclad_controllers::clusterroleaggregation::run(ctx));
    (cluster, client)
}

fn rule(verb: &str, resource: &str) -> Value {
    json!({"apiGroups": [""], "resources": [resource], "verbs": [verb]})
}

async fn create(api: &Api<ClusterRole>, body: Value) {
    api.create(
        &PostParams::default(),
        &serde_json::from_value(body).unwrap(),
    )
    .await
    .unwrap();
}

/// Waits until the aggregating role's rules are `want`.
async fn rules_become(api: &Api<ClusterRole>, want: Value) -> ClusterRole {
    let want: Vec<PolicyRule> = serde_json::from_value(want).unwrap();
    eventually(
        &format!("monitoring's rules to be {want:?}"),
        DEADLINE,
        || async {
            let role = api.get("monitoring").await.unwrap();
            (role.rules.clone().unwrap_or_default() == want).then_some(role)
        },
    )
    .await
}

#[tokio::test]
async fn labelled_roles_flow_into_the_aggregating_role() {
    let (_cluster, client) = start().await;
    let api: Api<ClusterRole> = Api::all(client.clone());
    create(
        &api,
        json!({"metadata": {"name": "monitoring"},
               "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {LABEL: "true"}}]},
               "rules": [rule("delete", "nodes")]}),
    )
    .await;
    // Rules it had of its own are replaced by what it selects: nothing yet.
    rules_become(&api, json!([])).await;
    create(
        &api,
        json!({"metadata": {"name": "monitoring-pods", "labels": {LABEL: "true"}},
               "rules": [rule("get", "pods"), rule("get", "endpoints")]}),
    )
    .await;
    create(
        &api,
        json!({"metadata": {"name": "monitoring-endpoints", "labels": {LABEL: "true"}},
               "rules": [rule("get", "endpoints")]}),
    )
    .await;
    create(
        &api,
        json!({"metadata": {"name": "unrelated"}, "rules": [rule("get", "secrets")]}),
    )
    .await;
    let role = rules_become(&api, json!([rule("get", "endpoints"), rule("get", "pods")])).await;
    let managers: Vec<String> = role
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers
            .iter()
            .any(|m| m == "clusterrole-aggregation-controller"),
        "{managers:?}"
    );

    // A role's new rule comes along.
    api.patch(
        "monitoring-endpoints",
        &PatchParams::default(),
        &Patch::Merge(json!({"rules": [rule("get", "endpoints"), rule("list", "endpoints")]})),
    )
    .await
    .unwrap();
    rules_become(
        &api,
        json!([
            rule("get", "endpoints"),
            rule("list", "endpoints"),
            rule("get", "pods")
        ]),
    )
    .await;

    // A removed label takes the role's rules away.
    api.patch(
        "monitoring-pods",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {LABEL: null}}})),
    )
    .await
    .unwrap();
    rules_become(
        &api,
        json!([rule("get", "endpoints"), rule("list", "endpoints")]),
    )
    .await;

    // So does a deleted role.
    api.delete("monitoring-endpoints", &DeleteParams::default())
        .await
        .unwrap();
    rules_become(&api, json!([])).await;
}

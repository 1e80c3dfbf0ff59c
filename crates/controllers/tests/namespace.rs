//! The namespace controller against a real API server: deleting a
//! namespace empties it, reports what is left in its conditions, and then
//! the namespace goes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ironclad_controllers::{Config, Context};
use ironclad_testkit::{TestCluster, eventually};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let ctx = Context::new(client.clone(), Config::default());
    tokio::spawn(ironclad_controllers::namespace::run(ctx));
    (cluster, client)
}

async fn create<K>(client: &Client, ns: &str, body: Value) -> K
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(body).unwrap();
    Api::<K>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &obj)
        .await
        .unwrap()
}

async fn namespace(client: &Client, name: &str) {
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .unwrap();
}

async fn count<K>(client: &Client, ns: &str) -> usize
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len()
}

fn condition(ns: &Namespace, type_: &str) -> Option<(String, String)> {
    ns.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone().unwrap_or_default()))
}

#[tokio::test]
async fn deleting_a_namespace_empties_it_then_it_goes() {
    let (_cluster, client) = start().await;
    namespace(&client, "doomed").await;
    create::<ConfigMap>(
        &client,
        "doomed",
        json!({"metadata": {"name": "cm"}, "data": {"k": "v"}}),
    )
    .await;
    create::<Secret>(
        &client,
        "doomed",
        json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}}),
    )
    .await;
    create::<Service>(
        &client,
        "doomed",
        json!({"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}}),
    )
    .await;
    create::<Pod>(
        &client,
        "doomed",
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    )
    .await;
    create::<Deployment>(
        &client,
        "doomed",
        json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": "a"}},
               "template": {"metadata": {"labels": {"app": "a"}},
                            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let ns = namespaces.get("doomed").await.unwrap();
    assert_eq!(
        ns.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Terminating")
    );
    // Nothing new may be created while it terminates.
    let refused = Api::<ConfigMap>::namespaced(client.clone(), "doomed")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap(),
        )
        .await;
    assert!(refused.is_err());

    eventually("the namespace to go", DEADLINE, || async {
        namespaces
            .get_opt("doomed")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(count::<ConfigMap>(&client, "doomed").await, 0);
    assert_eq!(count::<Secret>(&client, "doomed").await, 0);
    assert_eq!(count::<Service>(&client, "doomed").await, 0);
    assert_eq!(count::<Pod>(&client, "doomed").await, 0);
    assert_eq!(count::<Deployment>(&client, "doomed").await, 0);
}

#[tokio::test]
async fn content_held_by_a_finalizer_keeps_the_namespace_and_says_so() {
    let (_cluster, client) = start().await;
    namespace(&client, "held").await;
    create::<ConfigMap>(
        &client,
        "held",
        json!({"metadata": {"name": "cm", "finalizers": ["example.com/hold"]}}),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .delete("held", &DeleteParams::default())
        .await
        .unwrap();
    eventually("conditions naming what is left", DEADLINE, || async {
        let ns = namespaces.get("held").await.unwrap();
        let remaining = condition(&ns, "NamespaceContentRemaining")?;
        let finalizers = condition(&ns, "NamespaceFinalizersRemaining")?;
        let failure = condition(&ns, "NamespaceDeletionContentFailure")?;
        (remaining == ("True".into(), "SomeResourcesRemain".into())
            && finalizers == ("True".into(), "SomeFinalizersRemain".into())
            && failure == ("False".into(), "ContentDeleted".into()))
            .then_some(())
    })
    .await;
    let ns = namespaces.get("held").await.unwrap();
    assert_eq!(
        ns.spec.and_then(|s| s.finalizers),
        Some(vec!["kubernetes".to_string()]),
        "not finalized while content is left"
    );

    Api::<ConfigMap>::namespaced(client.clone(), "held")
        .patch(
            "cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    eventually("the namespace to go", DEADLINE, || async {
        namespaces
            .get_opt("held")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

/// Moved from the API server's tests when its interim namespace cleanup
/// gave way to this controller.
#[tokio::test]
async fn deleting_a_namespace_deletes_its_contents_then_it() {
    let (_cluster, client) = start().await;
    namespace(&client, "doomed").await;
    create::<ConfigMap>(
        &client,
        "doomed",
        json!({"metadata": {"name": "x"}, "data": {}}),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let either = namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let ns = either.left().expect("the namespace, terminating");
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    eventually("the namespace to go", DEADLINE, || async {
        namespaces
            .get_opt("doomed")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(count::<ConfigMap>(&client, "doomed").await, 0);
}

/// With the garbage collector and the serviceaccount controller running
/// too, as `ironclad server` runs them: owned objects, the default
/// service account, and the namespace all go.
#[tokio::test]
async fn the_namespace_goes_with_its_neighbours_running() {
    let (_cluster, client) = start().await;
    let ctx = Context::new(client.clone(), Config::default());
    tokio::spawn(ironclad_controllers::gc::run(ctx.clone()));
    tokio::spawn(ironclad_controllers::serviceaccount::run(ctx));
    namespace(&client, "busy").await;
    let accounts: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), "busy");
    eventually("the default service account", DEADLINE, || async {
        accounts.get_opt("default").await.unwrap()
    })
    .await;
    let owner = create::<ConfigMap>(&client, "busy", json!({"metadata": {"name": "owner"}})).await;
    for i in 0..3 {
        create::<Pod>(
            &client,
            "busy",
            json!({"metadata": {"name": format!("p{i}"), "ownerReferences": [{
                       "apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                       "uid": owner.metadata.uid, "blockOwnerDeletion": true}]},
                   "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
        )
        .await;
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .delete("busy", &DeleteParams::foreground())
        .await
        .unwrap();
    eventually("the namespace to go", DEADLINE, || async {
        namespaces
            .get_opt("busy")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(count::<Pod>(&client, "busy").await, 0);
}

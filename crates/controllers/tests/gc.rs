//! The garbage collector against a real API server: cascading deletion in
//! the background, in the foreground and orphaning; dependents whose
//! owners do not exist; references that can never be valid.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ironclad_controllers::{Config, Context};
use ironclad_testkit::{TestCluster, eventually};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(20);

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let ctx = Context::new(client.clone(), Config::default());
    tokio::spawn(ironclad_controllers::gc::run(ctx));
    (cluster, client)
}

fn owner_ref<K: Resource<DynamicType = ()>>(owner: &K, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: K::api_version(&()).into(),
        kind: K::kind(&()).into(),
        name: owner.meta().name.clone().unwrap(),
        uid: owner.meta().uid.clone().unwrap(),
        controller: Some(true),
        block_owner_deletion: Some(block),
    }
}

async fn replica_set(client: &Client, ns: &str, name: &str) -> ReplicaSet {
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
    }))
    .unwrap();
    Api::<ReplicaSet>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &rs)
        .await
        .unwrap()
}

async fn pod(client: &Client, ns: &str, name: &str, owners: Vec<OwnerReference>) -> Pod {
    pod_with(client, ns, name, owners, &[]).await
}

async fn pod_with(
    client: &Client,
    ns: &str,
    name: &str,
    owners: Vec<OwnerReference>,
    finalizers: &[&str],
) -> Pod {
    let p: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "ownerReferences": owners, "finalizers": finalizers},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    }))
    .unwrap();
    Api::<Pod>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &p)
        .await
        .unwrap()
}

async fn config_map(
    client: &Client,
    ns: &str,
    name: &str,
    owners: Vec<OwnerReference>,
) -> ConfigMap {
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": name, "ownerReferences": owners}
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap()
}

async fn gone<K>(api: &Api<K>, name: &str) -> Option<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.unwrap().is_none().then_some(())
}

/// The same reference, not as the controller (one per object at most).
fn plain(mut r: OwnerReference) -> OwnerReference {
    r.controller = None;
    r
}

fn delete_with(policy: PropagationPolicy) -> DeleteParams {
    DeleteParams {
        propagation_policy: Some(policy),
        ..Default::default()
    }
}

#[tokio::test]
async fn background_deletion_deletes_the_dependents_afterwards() {
    let (_cluster, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let rs = replica_set(&client, "default", "web").await;
    for i in 0..3 {
        pod(
            &client,
            "default",
            &format!("web-{i}"),
            vec![owner_ref(&rs, true)],
        )
        .await;
    }
    // An unrelated pod stays.
    pod(&client, "default", "other", vec![]).await;
    rss.delete("web", &delete_with(PropagationPolicy::Background))
        .await
        .unwrap();
    assert!(
        rss.get_opt("web").await.unwrap().is_none(),
        "the owner goes at once"
    );
    eventually(
        "the GC to delete the replica set's pods",
        DEADLINE,
        || async {
            let left = pods.list(&ListParams::default()).await.unwrap();
            let names: Vec<String> = left.items.iter().map(|p| p.name_any()).collect();
            (names == ["other"]).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn foreground_deletion_keeps_the_owner_until_its_dependents_are_gone() {
    let (_cluster, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let rs = replica_set(&client, "default", "fg").await;
    pod(&client, "default", "fg-free", vec![owner_ref(&rs, true)]).await;
    // A finalizer of someone else's holds this dependent, so the owner must
    // wait for it.
    pod_with(
        &client,
        "default",
        "fg-held",
        vec![owner_ref(&rs, true)],
        &["example.com/hold"],
    )
    .await;
    rss.delete("fg", &delete_with(PropagationPolicy::Foreground))
        .await
        .unwrap();

    eventually("the free dependent to go", DEADLINE, || {
        gone(&pods, "fg-free")
    })
    .await;
    let held = eventually("the held dependent to be deleting", DEADLINE, || async {
        let p = pods.get("fg-held").await.unwrap();
        p.metadata.deletion_timestamp.is_some().then_some(p)
    })
    .await;
    assert!(held.finalizers().iter().any(|f| f == "example.com/hold"));
    let owner = rss.get("fg").await.unwrap();
    assert!(owner.metadata.deletion_timestamp.is_some());
    assert_eq!(
        owner.finalizers(),
        ["foregroundDeletion"],
        "the owner waits"
    );

    pods.patch(
        "fg-held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    eventually("the held dependent to go", DEADLINE, || {
        gone(&pods, "fg-held")
    })
    .await;
    eventually("the owner to go after its dependents", DEADLINE, || {
        gone(&rss, "fg")
    })
    .await;
}

#[tokio::test]
async fn orphaning_keeps_the_dependents_without_the_reference() {
    let (_cluster, client) = start().await;
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let rs = replica_set(&client, "default", "orph").await;
    let other = replica_set(&client, "default", "keeper").await;
    pod(&client, "default", "orph-a", vec![owner_ref(&rs, true)]).await;
    pod(
        &client,
        "default",
        "orph-b",
        vec![owner_ref(&rs, true), plain(owner_ref(&other, false))],
    )
    .await;
    rss.delete("orph", &delete_with(PropagationPolicy::Orphan))
        .await
        .unwrap();
    eventually("the orphaned owner to go", DEADLINE, || gone(&rss, "orph")).await;
    let a = pods.get("orph-a").await.unwrap();
    assert!(a.metadata.owner_references.unwrap_or_default().is_empty());
    assert!(a.metadata.deletion_timestamp.is_none());
    let b = pods.get("orph-b").await.unwrap();
    let owners: Vec<String> = b
        .metadata
        .owner_references
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(owners, ["keeper"]);
}

#[tokio::test]
async fn dependents_of_owners_that_do_not_exist_are_deleted() {
    let (_cluster, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let rs = replica_set(&client, "default", "alive").await;
    config_map(&client, "default", "owned", vec![owner_ref(&rs, false)]).await;

    let mut missing = owner_ref(&rs, false);
    missing.name = "never-was".into();
    missing.uid = "00000000-0000-0000-0000-000000000001".into();
    config_map(&client, "default", "dangling", vec![missing]).await;
    // The name exists but the uid is another object's.
    let mut stale = owner_ref(&rs, false);
    stale.uid = "00000000-0000-0000-0000-000000000002".into();
    config_map(&client, "default", "stale", vec![stale]).await;
    // One live owner is enough to stay; the reference to the gone one is
    // dropped.
    let mut gone_owner = owner_ref(&rs, false);
    gone_owner.name = "gone".into();
    gone_owner.uid = "00000000-0000-0000-0000-000000000003".into();
    config_map(
        &client,
        "default",
        "mixed",
        vec![owner_ref(&rs, false), plain(gone_owner)],
    )
    .await;

    eventually("the dangling dependent to go", DEADLINE, || {
        gone(&cms, "dangling")
    })
    .await;
    eventually("the stale dependent to go", DEADLINE, || {
        gone(&cms, "stale")
    })
    .await;
    eventually(
        "the reference to the gone owner to be dropped",
        DEADLINE,
        || async {
            let m = cms.get("mixed").await.unwrap();
            let names: Vec<String> = m
                .metadata
                .owner_references
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.name)
                .collect();
            (names == ["alive"]).then_some(())
        },
    )
    .await;
    assert!(cms.get_opt("owned").await.unwrap().is_some());
}

#[tokio::test]
async fn a_chain_goes_level_by_level() {
    let (_cluster, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let top = config_map(&client, "default", "top", vec![]).await;
    let rs = replica_set(&client, "default", "middle").await;
    rss.patch(
        "middle",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"ownerReferences": [owner_ref(&top, true)]}})),
    )
    .await
    .unwrap();
    pod(&client, "default", "bottom", vec![owner_ref(&rs, true)]).await;
    cms.delete("top", &delete_with(PropagationPolicy::Foreground))
        .await
        .unwrap();
    eventually("the whole chain to go", DEADLINE, || async {
        (gone(&cms, "top").await.is_some()
            && gone(&rss, "middle").await.is_some()
            && gone(&pods, "bottom").await.is_some())
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn references_across_namespaces_are_reported() {
    let (_cluster, client) = start().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "elsewhere"}})).unwrap(),
        )
        .await
        .unwrap();
    let rs = replica_set(&client, "default", "home").await;
    let cm = config_map(&client, "default", "anchor", vec![]).await;
    // A namespaced dependent in another namespace: its owner is not there,
    // so it is garbage.
    config_map(&client, "elsewhere", "stray", vec![owner_ref(&rs, true)]).await;
    let stray: Api<ConfigMap> = Api::namespaced(client.clone(), "elsewhere");
    eventually("the stray dependent to go", DEADLINE, || {
        gone(&stray, "stray")
    })
    .await;

    // A cluster-scoped dependent of a namespaced owner can never be valid:
    // left alone, with a warning event.
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": "odd", "ownerReferences": [owner_ref(&cm, false)]}
    }))
    .unwrap();
    roles.create(&PostParams::default(), &role).await.unwrap();
    let events: Api<Event> = Api::all(client.clone());
    eventually("an OwnerRefInvalidNamespace event", DEADLINE, || async {
        let list = events.list(&ListParams::default()).await.unwrap();
        list.items
            .iter()
            .any(|e| {
                e.reason.as_deref() == Some("OwnerRefInvalidNamespace")
                    && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("odd")
            })
            .then_some(())
    })
    .await;
    assert!(roles.get_opt("odd").await.unwrap().is_some());
}

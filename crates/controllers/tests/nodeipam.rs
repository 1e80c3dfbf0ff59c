//! The node IPAM controller against a real API server: every node gets a
//! distinct pod CIDR, existing ones are respected, a full range is
//! reported and a deleted node's CIDR goes to a waiting node.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use ironclad_controllers::{Config, Context, nodeipam};
use ironclad_testkit::{TestCluster, eventually, fake_node, node_object};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::events::v1::Event;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

const WAIT: Duration = Duration::from_secs(10);

async fn start(cluster_cidr: &str) -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let config = Config {
        cluster_cidr: cluster_cidr.into(),
        node_cidr_mask_size: 24,
        ..Config::default()
    };
    tokio::spawn(nodeipam::run(Context::new(client.clone(), config)));
    (cluster, client)
}

/// node name → (podCIDR, podCIDRs) once every named node has one.
async fn cidrs_of(client: &Client, names: &[&str]) -> Vec<(String, String)> {
    let nodes = Api::<Node>::all(client.clone());
    eventually(&format!("pod CIDRs for {names:?}"), WAIT, || {
        let nodes = nodes.clone();
        async move {
            let mut out = Vec::new();
            for name in names {
                let n = nodes.get(name).await.ok()?;
                let spec = n.spec?;
                let cidr = spec.pod_cidr?;
                assert_eq!(spec.pod_cidrs, Some(vec![cidr.clone()]));
                out.push((name.to_string(), cidr));
            }
            Some(out)
        }
    })
    .await
}

#[tokio::test]
async fn every_node_gets_a_distinct_cidr() {
    let (_cluster, client) = start("10.244.0.0/16").await;
    // One node already has a CIDR (say, from before a restart).
    let mut pinned = node_object("node-0", "4", "8Gi");
    pinned.spec.as_mut().unwrap().pod_cidr = Some("10.244.0.0/24".into());
    pinned.spec.as_mut().unwrap().pod_cidrs = Some(vec!["10.244.0.0/24".into()]);
    Api::<Node>::all(client.clone())
        .create(&PostParams::default(), &pinned)
        .await
        .unwrap();
    let names = ["node-0", "node-1", "node-2", "node-3", "node-4", "node-5"];
    for n in &names[1..] {
        fake_node(&client, n, "4", "8Gi").await.unwrap();
    }
    let got = cidrs_of(&client, &names).await;
    let distinct: BTreeSet<&String> = got.iter().map(|(_, c)| c).collect();
    assert_eq!(distinct.len(), names.len(), "{got:?}");
    assert_eq!(got[0].1, "10.244.0.0/24");
    for (_, c) in &got {
        assert!(c.starts_with("10.244.") && c.ends_with(".0/24"), "{c}");
    }
}

#[tokio::test]
async fn a_full_range_waits_for_a_released_cidr() {
    // Four /24s in a /22.
    let (_cluster, client) = start("10.244.0.0/22").await;
    let names = ["node-0", "node-1", "node-2", "node-3"];
    for n in &names {
        fake_node(&client, n, "4", "8Gi").await.unwrap();
    }
    let got = cidrs_of(&client, &names).await;
    fake_node(&client, "node-4", "4", "8Gi").await.unwrap();
    let events = Api::<Event>::all(client.clone());
    eventually("a CIDRNotAvailable event", WAIT, || {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .iter()
                .any(|e| {
                    e.reason.as_deref() == Some("CIDRNotAvailable")
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("node-4")
                })
                .then_some(())
        }
    })
    .await;

    Api::<Node>::all(client.clone())
        .delete("node-2", &DeleteParams::default())
        .await
        .unwrap();
    let freed = got[2].1.clone();
    let now = cidrs_of(&client, &["node-4"]).await;
    assert_eq!(now[0].1, freed);
}

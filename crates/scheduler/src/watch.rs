//! The scheduler's informers: watches of nodes and of non-terminal pods
//! (kube-runtime `watcher`s) that keep the [`Cache`](crate::cache::Cache)
//! and the [`Queue`](crate::queue::Queue) current. Assigned pods go to the
//! cache; pending pods that are ours (our `schedulerName`, not being
//! deleted, no scheduling gates) go to the queue. Changes that may let an
//! unschedulable pod fit become [`ClusterEvent`]s.
//!
//! A relist (after a 410 or a reconnect) replaces what the cache and
//! queue hold: whatever the new list lacks was deleted meanwhile.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::watch;

use crate::podinfo::PodInfo;
use crate::queue::ClusterEvent;
use crate::scheduler::Shared;

/// Pods in these phases hold nothing and are not watched.
const NON_TERMINAL: &str = "status.phase!=Succeeded,status.phase!=Failed";

/// Keeps the cache's nodes current; sets `synced` after the first list.
pub(crate) async fn nodes(shared: Arc<Shared>, synced: watch::Sender<bool>) {
    let api: Api<Node> = Api::all(shared.client.clone());
    let mut stream =
        std::pin::pin!(watcher::watcher(api, watcher::Config::default()).default_backoff());
    let mut relist: Option<HashSet<String>> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => relist = Some(HashSet::new()),
            Ok(Event::InitApply(node)) => {
                if let Some(seen) = relist.as_mut() {
                    seen.insert(node.metadata.name.clone().unwrap_or_default());
                }
                apply_node(&shared, node);
            }
            Ok(Event::InitDone) => {
                if let Some(seen) = relist.take() {
                    let mut cache = shared.cache();
                    for name in cache.node_names() {
                        if !seen.contains(&name) {
                            cache.remove_node(&name);
                        }
                    }
                }
                synced.send_replace(true);
            }
            Ok(Event::Apply(node)) => apply_node(&shared, node),
            Ok(Event::Delete(node)) => {
                shared
                    .cache()
                    .remove_node(node.metadata.name.as_deref().unwrap_or_default());
            }
            Err(e) => tracing::warn!("scheduler: node watch: {e}"),
        }
    }
}

fn apply_node(shared: &Shared, node: Node) {
    let change = shared.cache().add_node(node);
    match change {
        crate::cache::NodeChange::Added => shared.queue.on_event(ClusterEvent::NodeAdd),
        crate::cache::NodeChange::Updated => shared.queue.on_event(ClusterEvent::NodeUpdate),
        crate::cache::NodeChange::Unchanged => {}
    }
}

/// Keeps the cache's pods and the queue current; sets `synced` after the
/// first list.
pub(crate) async fn pods(shared: Arc<Shared>, scheduler_name: String, synced: watch::Sender<bool>) {
    let api: Api<Pod> = Api::all(shared.client.clone());
    let config = watcher::Config::default().fields(NON_TERMINAL);
    let mut stream = std::pin::pin!(watcher::watcher(api, config).default_backoff());
    let mut relist: Option<HashSet<String>> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => relist = Some(HashSet::new()),
            Ok(Event::InitApply(pod)) => {
                let info = Arc::new(PodInfo::new(pod));
                if let Some(seen) = relist.as_mut() {
                    seen.insert(info.key.clone());
                }
                apply_pod(&shared, &scheduler_name, info);
            }
            Ok(Event::InitDone) => {
                if let Some(seen) = relist.take() {
                    forget_unseen(&shared, &seen);
                }
                synced.send_replace(true);
            }
            Ok(Event::Apply(pod)) => {
                apply_pod(&shared, &scheduler_name, Arc::new(PodInfo::new(pod)))
            }
            Ok(Event::Delete(pod)) => delete_pod(&shared, &PodInfo::new(pod).key),
            Err(e) => tracing::warn!("scheduler: pod watch: {e}"),
        }
    }
}

fn apply_pod(shared: &Shared, scheduler_name: &str, info: Arc<PodInfo>) {
    if info.node_name().is_some() {
        let event = {
            let mut cache = shared.cache();
            let before = cache
                .pod(&info.key)
                .filter(|_| !cache.is_assumed(&info.key));
            let event = match &before {
                None => Some(ClusterEvent::AssignedPodAdd),
                Some(old) if old.labels != info.labels || old.requests != info.requests => {
                    Some(ClusterEvent::AssignedPodUpdate)
                }
                Some(_) => None,
            };
            cache.add_pod(info.clone());
            event
        };
        shared.queue.delete(&info.key);
        if let Some(e) = event {
            shared.queue.on_event(e);
        }
        return;
    }
    if shared.cache().is_assumed(&info.key) {
        // Our binding is under way; its outcome decides.
        return;
    }
    if is_ours(&info, scheduler_name) {
        shared.queue.add_or_update(info);
    } else {
        shared.queue.delete(&info.key);
    }
}

/// Whether the scheduler should place the pod now.
fn is_ours(info: &PodInfo, scheduler_name: &str) -> bool {
    let spec = info.spec();
    spec.scheduler_name
        .as_deref()
        .unwrap_or("default-scheduler")
        == scheduler_name
        && info.pod.metadata.deletion_timestamp.is_none()
        && spec.scheduling_gates.as_ref().is_none_or(|g| g.is_empty())
}

fn delete_pod(shared: &Shared, key: &str) {
    let held = {
        let mut cache = shared.cache();
        let held = cache.has_pod(key);
        cache.remove_pod(key);
        held
    };
    shared.queue.delete(key);
    if held {
        shared.queue.on_event(ClusterEvent::AssignedPodDelete);
    }
}

fn forget_unseen(shared: &Shared, seen: &HashSet<String>) {
    let gone: Vec<String> = shared
        .cache()
        .confirmed_pod_keys()
        .into_iter()
        .filter(|k| !seen.contains(k))
        .collect();
    for k in &gone {
        delete_pod(shared, k);
    }
    shared.queue.retain(|k| seen.contains(k));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{pod, pod_with, spec};
    use k8s_openapi::api::core::v1::PodSchedulingGate;

    #[test]
    fn only_our_undeleted_ungated_pods_are_queued() {
        assert!(is_ours(&pod("p"), "default-scheduler"));
        let other = pod_with("p", |p| spec(p).scheduler_name = Some("other".into()));
        assert!(!is_ours(&other, "default-scheduler"));
        assert!(is_ours(&other, "other"));
        let gated = pod_with("p", |p| {
            spec(p).scheduling_gates = Some(vec![PodSchedulingGate { name: "g".into() }])
        });
        assert!(!is_ours(&gated, "default-scheduler"));
        let deleting = pod_with("p", |p| {
            p.metadata.deletion_timestamp =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    k8s_openapi::jiff::Timestamp::now(),
                ))
        });
        assert!(!is_ours(&deleting, "default-scheduler"));
    }
}

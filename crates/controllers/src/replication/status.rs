//! The owner's status: counted from the pods it controls, written through
//! the status subresource only when it changed (upstream's
//! `calculateStatus` and `updateReplicaSetStatus`).

use std::sync::Arc;

use ironclad_api::selector::LabelSelector;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, PostParams};

use super::owner::{ReplicaCondition, ReplicaOwner, ReplicaStatus};
use crate::Result;
use crate::podcontrol::{apierr, pods};

/// The condition a failed create or delete sets.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// The status `owner` should have with `active` pods (those it controls),
/// given how creating or deleting pods went (`manage_err`: the message of
/// the failure, and whether too few pods were the problem).
pub fn calculate<O: ReplicaOwner>(
    owner: &O,
    active: &[Arc<Pod>],
    manage_err: Option<&str>,
) -> ReplicaStatus {
    let mut status = owner.replica_status();
    let template_labels = owner
        .template()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let template_selector = LabelSelector::from_labels(&template_labels);
    let now = Timestamp::now();
    let min_ready = owner.min_ready_seconds();
    let (mut labeled, mut ready, mut available) = (0, 0, 0);
    for pod in active {
        if template_selector.matches(pod.labels()) {
            labeled += 1;
        }
        if pods::is_ready(pod) {
            ready += 1;
            if pods::is_available(pod, min_ready, now) {
                available += 1;
            }
        }
    }
    let failure = status.conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match manage_err {
        Some(msg) if !failure => {
            let have = i32::try_from(active.len()).unwrap_or(i32::MAX);
            let reason = match have.cmp(&owner.replicas()) {
                std::cmp::Ordering::Less => "FailedCreate",
                std::cmp::Ordering::Greater => "FailedDelete",
                std::cmp::Ordering::Equal => "",
            };
            status.conditions.push(ReplicaCondition {
                type_: REPLICA_FAILURE.into(),
                status: "True".into(),
                reason: Some(reason.into()),
                message: Some(msg.to_string()),
                last_transition_time: Some(Time(now)),
            });
        }
        None if failure => status.conditions.retain(|c| c.type_ != REPLICA_FAILURE),
        _ => {}
    }
    status.replicas = i32::try_from(active.len()).unwrap_or(i32::MAX);
    status.fully_labeled_replicas = labeled;
    status.ready_replicas = ready;
    status.available_replicas = available;
    status
}

/// Writes `status` (with the owner's generation as observed) unless the
/// owner already has it. Returns the owner as it now is. A conflict means
/// the cache is behind and a newer version is on its way, which will be
/// synced in turn: the owner is then returned unchanged.
pub async fn update<O: ReplicaOwner>(
    api: &Api<O>,
    owner: &O,
    mut status: ReplicaStatus,
) -> Result<O> {
    let generation = owner.meta().generation.unwrap_or(0);
    status.observed_generation = generation;
    if owner.replica_status() == status {
        return Ok(owner.clone());
    }
    let mut obj = owner.clone();
    obj.set_replica_status(status);
    match api
        .replace_status(&owner.name_any(), &PostParams::default(), &obj)
        .await
    {
        Ok(o) => Ok(o),
        Err(e) if apierr::is_conflict(&e) || apierr::is_not_found(&e) => Ok(owner.clone()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSet;

    #[test]
    fn a_failed_create_sets_replica_failure_until_a_clean_sync() {
        let mut rs: ReplicaSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "rs", "generation": 2},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}}}}
        }))
        .unwrap();
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "labels": {"a": "b"}}
        }))
        .unwrap();
        let pods = [Arc::new(pod)];
        let s = calculate(&rs, &pods, Some("pods \"x\" is forbidden: quota"));
        assert_eq!(
            (s.replicas, s.fully_labeled_replicas, s.ready_replicas),
            (1, 1, 0)
        );
        let c = &s.conditions[0];
        assert_eq!(
            (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_deref(),
                c.message.as_deref()
            ),
            (
                "ReplicaFailure",
                "True",
                Some("FailedCreate"),
                Some("pods \"x\" is forbidden: quota")
            )
        );
        rs.set_replica_status(s);
        // Still failing: the condition stays as it was.
        let again = calculate(&rs, &pods, Some("another"));
        assert_eq!(
            again.conditions[0].message.as_deref(),
            Some("pods \"x\" is forbidden: quota")
        );
        assert!(calculate(&rs, &pods, None).conditions.is_empty());
    }
}

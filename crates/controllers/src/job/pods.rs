//! What the Job controller reads off its pods: phase, readiness,
//! termination, the tracking finalizer, the completion index, when a pod
//! finished, and which active pods to remove first.

use std::cmp::Ordering;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// The finalizer that keeps a pod until the Job has counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// The annotation (and label) carrying an Indexed Job pod's index.
pub const COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";

/// The pod's phase ("" when unset).
pub(crate) fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Succeeded.
pub(crate) fn succeeded(p: &Pod) -> bool {
    phase(p) == "Succeeded"
}

/// Succeeded or Failed.
pub(crate) fn terminal(p: &Pod) -> bool {
    matches!(phase(p), "Succeeded" | "Failed")
}

/// Being deleted.
pub(crate) fn deleting(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_some()
}

/// Neither finished nor being deleted (upstream's `FilterActivePods`).
pub(crate) fn active(p: &Pod) -> bool {
    !terminal(p) && !deleting(p)
}

/// Being deleted but still running (upstream's `CountTerminatingPods`).
pub(crate) fn terminating(p: &Pod) -> bool {
    deleting(p) && !terminal(p)
}

/// The Ready condition is True.
pub(crate) fn ready(p: &Pod) -> bool {
    condition(p, "Ready").is_some_and(|c| c.status == "True")
}

fn condition<'a>(p: &'a Pod, type_: &str) -> Option<&'a k8s_openapi::api::core::v1::PodCondition> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Carries [`TRACKING_FINALIZER`].
pub(crate) fn has_tracking_finalizer(p: &Pod) -> bool {
    p.metadata
        .finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|f| f == TRACKING_FINALIZER))
}

/// The completion index from the annotation, if any and valid.
pub(crate) fn completion_index(p: &Pod) -> Option<i32> {
    p.metadata
        .annotations
        .as_ref()?
        .get(COMPLETION_INDEX_ANNOTATION)?
        .parse::<i32>()
        .ok()
        .filter(|i| *i >= 0)
}

/// The pod's controller reference.
pub(crate) fn controller_of(p: &Pod) -> Option<&OwnerReference> {
    p.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
}

/// When the pod finished (upstream's `getFinishedTime`): its containers'
/// latest termination, else when Ready turned False, else its deletion
/// time less the grace period, else its creation.
pub(crate) fn finished_time(p: &Pod) -> Timestamp {
    containers_finished(p)
        .or_else(|| {
            condition(p, "Ready")
                .filter(|c| c.status == "False")
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0)
        })
        .or_else(|| {
            let at = p.metadata.deletion_timestamp.as_ref()?.0;
            let grace = p.metadata.deletion_grace_period_seconds.unwrap_or(0);
            at.checked_sub(SignedDuration::from_secs(grace)).ok()
        })
        .or_else(|| p.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn containers_finished(p: &Pod) -> Option<Timestamp> {
    let status = p.status.as_ref()?;
    let sidecars: Vec<&str> = p
        .spec
        .iter()
        .flat_map(|s| s.init_containers.iter().flatten())
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name.as_str())
        .collect();
    let regular = status.container_statuses.iter().flatten();
    let side = status
        .init_container_statuses
        .iter()
        .flatten()
        .filter(|s| sidecars.contains(&s.name.as_str()));
    let mut latest: Option<Timestamp> = None;
    let mut any = false;
    for s in regular.chain(side) {
        any = true;
        let t = terminated_at(s)?;
        latest = Some(latest.map_or(t, |l| l.max(t)));
    }
    if any { latest } else { None }
}

fn terminated_at(s: &ContainerStatus) -> Option<Timestamp> {
    let t = s
        .state
        .as_ref()?
        .terminated
        .as_ref()?
        .finished_at
        .as_ref()?
        .0;
    (t != Timestamp::UNIX_EPOCH).then_some(t)
}

/// Upstream's `controller.ActivePods` order: the pods to remove first
/// come first (unscheduled before scheduled, pending before running, not
/// ready before ready, more restarts before fewer, newer before older).
pub(crate) fn removal_order(a: &Pod, b: &Pod) -> Ordering {
    let scheduled = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    };
    let phase_rank = |p: &Pod| match phase(p) {
        "Pending" | "" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    };
    let restarts = |p: &Pod| {
        p.status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
            .map(|c| c.restart_count)
            .max()
            .unwrap_or(0)
    };
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    scheduled(a)
        .cmp(&scheduled(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| ready(a).cmp(&ready(b)))
        .then_with(|| restarts(b).cmp(&restarts(a)))
        .then_with(|| match (created(a), created(b)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => y.cmp(&x),
        })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;

    fn pod(phase: &str, node: Option<&str>, created: i64) -> Pod {
        Pod {
            metadata: kube::api::ObjectMeta {
                creation_timestamp: Some(Time(Timestamp::from_second(created).unwrap())),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(str::to_string),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn removal_prefers_unscheduled_pending_and_newer_pods() {
        let mut pods = [
            pod("Running", Some("n1"), 10),
            pod("Pending", Some("n1"), 10),
            pod("Pending", None, 10),
            pod("Running", Some("n1"), 20),
        ];
        pods.sort_by(removal_order);
        assert_eq!(phase(&pods[0]), "Pending");
        assert!(pods[0].spec.as_ref().unwrap().node_name.is_none());
        assert_eq!(phase(&pods[1]), "Pending");
        assert_eq!(
            pods[2]
                .metadata
                .creation_timestamp
                .as_ref()
                .unwrap()
                .0
                .as_second(),
            20
        );
    }

    #[test]
    fn finished_time_falls_back_to_deletion_then_creation() {
        let mut p = pod("Failed", None, 10);
        assert_eq!(finished_time(&p).as_second(), 10);
        p.metadata.deletion_timestamp = Some(Time(Timestamp::from_second(100).unwrap()));
        p.metadata.deletion_grace_period_seconds = Some(30);
        assert_eq!(finished_time(&p).as_second(), 70);
    }
}

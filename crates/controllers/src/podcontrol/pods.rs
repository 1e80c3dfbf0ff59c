//! Which pods count, and which go first when there are too many
//! (upstream's `FilterActivePods`, `IsPodReady`, `IsPodAvailable` and
//! `ActivePodsWithRanks`).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Whether the pod counts toward its controller's replicas: neither
/// finished (Succeeded, Failed) nor being deleted.
pub fn is_active(pod: &Pod) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && pod.metadata.deletion_timestamp.is_none()
}

/// The pod's phase, "" when it has none yet.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

/// Whether the pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// When the pod became ready, if it is.
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    ready_condition(pod)
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// Whether the pod has been ready for at least `min_ready_seconds` at
/// `now`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    ready_since(pod)
        .is_some_and(|t| t + SignedDuration::from_secs(i64::from(min_ready_seconds)) < now)
}

/// Orders `pods` so that the ones to delete first come first:
/// unscheduled before scheduled, Pending before Unknown before Running,
/// not ready before ready, lower `controller.kubernetes.io/pod-deletion-cost`
/// first, more ready siblings (`related` pods of the same controller
/// family) on the same node first, ready for less time first (in
/// power-of-two buckets), more restarts first, newer first.
pub fn rank_for_deletion(pods: &mut [Arc<Pod>], related: &[Arc<Pod>], now: Timestamp) {
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for p in related {
        if is_active(p) && is_ready(p) {
            *on_node.entry(node_name(p)).or_default() += 1;
        }
    }
    let ranks: HashMap<String, usize> = pods
        .iter()
        .map(|p| {
            (
                uid(p).to_string(),
                on_node.get(node_name(p)).copied().unwrap_or(0),
            )
        })
        .collect();
    pods.sort_by(|a, b| {
        let ra = ranks.get(uid(a)).copied().unwrap_or(0);
        let rb = ranks.get(uid(b)).copied().unwrap_or(0);
        compare(a, b, ra, rb, now)
    });
}

fn node_name(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or_default()
}

fn uid(p: &Pod) -> &str {
    p.metadata.uid.as_deref().unwrap_or_default()
}

fn phase_ordinal(p: &Pod) -> u8 {
    // Upstream's map has Pending 0, Unknown 1, Running 2; any other phase
    // (none yet included) reads as 0.
    match phase(p) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

fn deletion_cost(p: &Pod) -> i64 {
    p.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("controller.kubernetes.io/pod-deletion-cost"))
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(0, i64::from)
}

fn max_restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
}

/// The power-of-two bucket of how long ago `t` was (upstream's
/// logarithmic scale-down), -1 for the future.
fn log_bucket(t: Timestamp, now: Timestamp) -> i64 {
    let d = now.duration_since(t).as_nanos();
    if d > 0 {
        // Truncation is the point: whole power-of-two buckets.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let b = (d as f64).log2() as i64;
        b
    } else {
        -1
    }
}

/// Compares two times with the newer first (upstream's `afterOrZero`
/// plus the logarithmic buckets; ties broken by uid).
fn newer_first(
    a: Option<Timestamp>,
    b: Option<Timestamp>,
    ua: &str,
    ub: &str,
    now: Timestamp,
) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        // Zero times come first.
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) if a == b => Ordering::Equal,
        (Some(a), Some(b)) => match log_bucket(a, now).cmp(&log_bucket(b, now)) {
            Ordering::Equal => ua.cmp(ub),
            o => o,
        },
    }
}

fn compare(a: &Pod, b: &Pod, rank_a: usize, rank_b: usize, now: Timestamp) -> Ordering {
    let (na, nb) = (node_name(a), node_name(b));
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return if na.is_empty() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let o = phase_ordinal(a).cmp(&phase_ordinal(b));
    if o != Ordering::Equal {
        return o;
    }
    let (ra, rb) = (is_ready(a), is_ready(b));
    if ra != rb {
        return if ra {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    let o = deletion_cost(a).cmp(&deletion_cost(b));
    if o != Ordering::Equal {
        return o;
    }
    if rank_a != rank_b {
        // More co-located siblings go first.
        return rank_b.cmp(&rank_a);
    }
    if ra && rb {
        let o = newer_first(ready_since(a), ready_since(b), uid(a), uid(b), now);
        if o != Ordering::Equal {
            return o;
        }
    }
    let o = max_restarts(b).cmp(&max_restarts(a));
    if o != Ordering::Equal {
        return o;
    }
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    newer_first(created(a), created(b), uid(a), uid(b), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    fn pod(name: &str, node: &str, phase: &str, ready: Option<i64>, created: i64) -> Arc<Pod> {
        let base = Timestamp::from_second(1_000_000).unwrap();
        let at = |s: i64| Time(base + SignedDuration::from_secs(s));
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(name.into()),
                creation_timestamp: Some(at(created)),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: (!node.is_empty()).then(|| node.to_string()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready.is_some() { "True" } else { "False" }.into(),
                    last_transition_time: ready.map(at),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    #[test]
    fn ranking_puts_unhealthy_and_new_pods_first() {
        let now = Timestamp::from_second(1_000_000 + 100_000).unwrap();
        let mut pods = vec![
            pod("old-ready", "n1", "Running", Some(10), 0),
            pod("unscheduled", "", "Pending", None, 0),
            pod("not-ready", "n1", "Running", None, 0),
            pod("pending", "n1", "Pending", None, 0),
            pod("new-ready", "n2", "Running", Some(99_990), 99_980),
        ];
        rank_for_deletion(&mut pods, &[], now);
        let names: Vec<_> = pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "unscheduled",
                "pending",
                "not-ready",
                "new-ready",
                "old-ready"
            ]
        );
    }

    #[test]
    fn doubled_up_pods_go_first() {
        let now = Timestamp::from_second(1_000_000 + 100).unwrap();
        let a = pod("a", "n1", "Running", Some(10), 0);
        let b = pod("b", "n2", "Running", Some(10), 0);
        let c = pod("c", "n2", "Running", Some(10), 0);
        let mut pods = vec![a.clone(), b.clone()];
        rank_for_deletion(&mut pods, &[a, b, c], now);
        assert_eq!(pods[0].metadata.name.as_deref(), Some("b"));
    }

    #[test]
    fn availability_waits_min_ready_seconds() {
        let p = pod("a", "n1", "Running", Some(0), 0);
        let t0 = Timestamp::from_second(1_000_000).unwrap();
        assert!(is_available(&p, 0, t0));
        assert!(!is_available(&p, 10, t0 + SignedDuration::from_secs(5)));
        assert!(is_available(&p, 10, t0 + SignedDuration::from_secs(11)));
        assert!(is_active(&p));
    }
}

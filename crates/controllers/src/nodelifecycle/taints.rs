//! The taints the node lifecycle controller keeps on nodes: NoSchedule
//! ones mirroring node conditions (upstream's `doNoScheduleTaintingPass`)
//! and the NoExecute `not-ready` / `unreachable` pair that starts pod
//! eviction. Pure functions over taint lists, plus the one write.

use k8s_openapi::api::core::v1::{Node, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::health::condition;

/// Ready is False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Ready is Unknown.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `spec.unschedulable` (cordoned).
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// A node declared out of service: its terminating pods may go.
pub const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";
/// The NoSchedule effect.
pub const NO_SCHEDULE: &str = "NoSchedule";
/// The NoExecute effect.
pub const NO_EXECUTE: &str = "NoExecute";

/// Condition (type, status) → NoSchedule taint key (upstream's
/// `nodeConditionToTaintKeyStatusMap`).
const CONDITION_TAINTS: [(&str, &str, &str); 6] = [
    ("Ready", "False", NOT_READY),
    ("Ready", "Unknown", UNREACHABLE),
    (
        "MemoryPressure",
        "True",
        "node.kubernetes.io/memory-pressure",
    ),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    (
        "NetworkUnavailable",
        "True",
        "node.kubernetes.io/network-unavailable",
    ),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
];

/// A taint as the controller adds it (stamped now).
pub fn taint(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: effect.into(),
        time_added: Some(Time(Timestamp::now())),
        value: None,
    }
}

/// The node's taints.
pub fn of(node: &Node) -> &[Taint] {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
}

/// Whether the node has the taint `key:effect`.
pub fn has(node: &Node, key: &str, effect: &str) -> bool {
    of(node).iter().any(|t| t.key == key && t.effect == effect)
}

fn controlled_no_schedule(key: &str) -> bool {
    key == UNSCHEDULABLE || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == key)
}

/// The node's taints with the NoSchedule ones this controller manages
/// made to match its conditions and `spec.unschedulable`; `None` when
/// they already do.
pub fn with_no_schedule(node: &Node) -> Option<Vec<Taint>> {
    let status = node.status.as_ref();
    let mut want: Vec<&str> = CONDITION_TAINTS
        .iter()
        .filter(|(t, s, _)| condition(status, t).is_some_and(|c| c.status == *s))
        .map(|(_, _, k)| *k)
        .collect();
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        want.push(UNSCHEDULABLE);
    }
    let have: Vec<&str> = of(node)
        .iter()
        .filter(|t| t.effect == NO_SCHEDULE && controlled_no_schedule(&t.key))
        .map(|t| t.key.as_str())
        .collect();
    let missing: Vec<&str> = want.iter().copied().filter(|k| !have.contains(k)).collect();
    let extra = have.iter().any(|k| !want.contains(k));
    if missing.is_empty() && !extra {
        return None;
    }
    let mut taints: Vec<Taint> = of(node)
        .iter()
        .filter(|t| {
            !(t.effect == NO_SCHEDULE && controlled_no_schedule(&t.key) && !want.contains(&&*t.key))
        })
        .cloned()
        .collect();
    taints.extend(missing.into_iter().map(|k| taint(k, NO_SCHEDULE)));
    Some(taints)
}

/// The node's taints with `add` (`key`, NoExecute) and without the
/// NoExecute taints in `remove`; `None` when that changes nothing.
pub fn swap_no_execute(node: &Node, add: Option<&str>, remove: &[&str]) -> Option<Vec<Taint>> {
    let adding = add.filter(|k| !has(node, k, NO_EXECUTE));
    let removing = remove.iter().any(|k| has(node, k, NO_EXECUTE));
    if adding.is_none() && !removing {
        return None;
    }
    let mut taints: Vec<Taint> = of(node)
        .iter()
        .filter(|t| !(t.effect == NO_EXECUTE && remove.contains(&t.key.as_str())))
        .cloned()
        .collect();
    if let Some(k) = adding {
        taints.push(taint(k, NO_EXECUTE));
    }
    Some(taints)
}

/// Writes `taints` as the node's, only if the node is still at the
/// resourceVersion they were computed from.
pub async fn write(api: &Api<Node>, node: &Node, taints: Vec<Taint>) -> kube::Result<Node> {
    let patch = json!({
        "metadata": {"resourceVersion": node.metadata.resource_version},
        "spec": {"taints": taints},
    });
    let name = node.metadata.name.as_deref().unwrap_or_default();
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus};

    fn node(ready: &str, taints: Vec<Taint>) -> Node {
        Node {
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: ready.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn keys(t: &[Taint]) -> Vec<(String, String)> {
        t.iter()
            .map(|t| (t.key.clone(), t.effect.clone()))
            .collect()
    }

    #[test]
    fn no_schedule_taints_follow_conditions() {
        let user = taint("dedicated", NO_SCHEDULE);
        let n = node("Unknown", vec![user.clone()]);
        let t = with_no_schedule(&n).unwrap();
        assert_eq!(
            keys(&t),
            keys(&[user.clone(), taint(UNREACHABLE, NO_SCHEDULE)])
        );
        let n = node("True", t);
        let t = with_no_schedule(&n).unwrap();
        assert_eq!(keys(&t), keys(&[user]));
        assert!(with_no_schedule(&node("True", t)).is_none());
    }

    #[test]
    fn no_execute_swap() {
        let n = node("False", vec![taint(UNREACHABLE, NO_EXECUTE)]);
        let t = swap_no_execute(&n, Some(NOT_READY), &[UNREACHABLE]).unwrap();
        assert_eq!(
            keys(&t),
            vec![(NOT_READY.to_string(), NO_EXECUTE.to_string())]
        );
        assert!(swap_no_execute(&node("False", t), Some(NOT_READY), &[UNREACHABLE]).is_none());
    }
}

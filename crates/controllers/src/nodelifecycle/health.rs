//! Node health as upstream's `tryUpdateNodeHealth` judges it: a node is
//! heard from when its Lease's renewTime or its Ready condition's
//! lastHeartbeatTime changes, timed on this controller's own clock (so
//! clock skew between nodes and controller does not matter); silent for
//! longer than the grace period, its Ready, MemoryPressure, DiskPressure
//! and PIDPressure conditions become Unknown.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, NodeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;

/// Conditions the controller turns Unknown when a node goes silent
/// (NetworkUnavailable is the network plugin's business).
const CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// What was last heard from one node, and when (our clock).
#[derive(Clone)]
struct NodeHealth {
    ready: Option<NodeCondition>,
    lease_renew: Option<MicroTime>,
    probe: Instant,
}

/// The outcome of looking at one node.
pub struct Observed {
    /// The Ready condition as the node had it (a synthetic Unknown one if
    /// it never posted any).
    pub observed: NodeCondition,
    /// The Ready condition after this controller's judgement.
    pub current: Option<NodeCondition>,
    /// The status to write when the controller changed a condition.
    pub update: Option<NodeStatus>,
}

/// Health of every node seen.
#[derive(Default)]
pub struct Health {
    nodes: HashMap<String, NodeHealth>,
}

/// The condition of `type_` in a status.
pub fn condition<'a>(status: Option<&'a NodeStatus>, type_: &str) -> Option<&'a NodeCondition> {
    status?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

impl Health {
    /// Looks at `node` (and its `lease`) at `now`; a node silent for longer
    /// than `grace` gets Unknown conditions in [`Observed::update`].
    pub fn observe(
        &mut self,
        node: &Node,
        lease: Option<&Lease>,
        grace: Duration,
        now: Instant,
    ) -> Observed {
        let name = node.metadata.name.clone().unwrap_or_default();
        let current = condition(node.status.as_ref(), "Ready").cloned();
        let created = node.metadata.creation_timestamp.clone();
        let observed = current.clone().unwrap_or_else(|| NodeCondition {
            type_: "Ready".into(),
            status: "Unknown".into(),
            last_heartbeat_time: created.clone(),
            last_transition_time: created.clone(),
            ..Default::default()
        });
        let saved = self.nodes.get(&name).cloned();
        let fresh = |probe| NodeHealth {
            ready: current.clone(),
            lease_renew: None,
            probe,
        };
        let mut health = match (&saved, &current) {
            // Never posted a status: counted from the node's creation.
            (None, None) => fresh(instant_of(created.as_ref(), now)),
            (None, Some(_)) => fresh(now),
            (Some(s), _) if s.ready.is_none() != current.is_none() => fresh(now),
            (Some(s), Some(c))
                if s.ready.as_ref().map(|r| &r.last_heartbeat_time)
                    != Some(&c.last_heartbeat_time) =>
            {
                NodeHealth {
                    ready: current.clone(),
                    lease_renew: s.lease_renew.clone(),
                    probe: now,
                }
            }
            (Some(s), _) => s.clone(),
        };
        let renew = lease.and_then(|l| l.spec.as_ref()?.renew_time.clone());
        if let Some(r) = renew
            && health
                .lease_renew
                .as_ref()
                .is_none_or(|saved| saved.0 < r.0)
        {
            health.lease_renew = Some(r);
            health.probe = now;
        }

        let mut update = None;
        let mut after = current.clone();
        if now.saturating_duration_since(health.probe) > grace {
            let mut status = node.status.clone().unwrap_or_default();
            mark_unknown(&mut status, created);
            after = condition(Some(&status), "Ready").cloned();
            if after.as_ref() != Some(&observed) {
                update = Some(status);
            }
        }
        self.nodes.insert(name, health);
        Observed {
            observed,
            current: after,
            update,
        }
    }

    /// Records the status this controller wrote for `node`.
    pub fn written(&mut self, node: &str, status: &NodeStatus) {
        if let Some(h) = self.nodes.get_mut(node) {
            h.ready = condition(Some(status), "Ready").cloned();
        }
    }

    /// Every node counts as heard from now (leaving the "all nodes down"
    /// mode, where silence says more about us than about them).
    pub fn reset_probes(&mut self, now: Instant) {
        for h in self.nodes.values_mut() {
            h.probe = now;
        }
    }

    /// Forgets nodes not in `names`.
    pub fn retain(&mut self, names: &std::collections::HashSet<String>) {
        self.nodes.retain(|n, _| names.contains(n));
    }
}

/// Upstream's Unknown marking: conditions never posted are added as
/// `NodeStatusNeverUpdated`, the others become `NodeStatusUnknown`.
fn mark_unknown(status: &mut NodeStatus, created: Option<Time>) {
    let now = Time(Timestamp::now());
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    for type_ in CONDITIONS {
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            None => conditions.push(NodeCondition {
                type_: type_.into(),
                status: "Unknown".into(),
                reason: Some("NodeStatusNeverUpdated".into()),
                message: Some("Kubelet never posted node status.".into()),
                last_heartbeat_time: created.clone(),
                last_transition_time: Some(now.clone()),
            }),
            Some(c) if c.status != "Unknown" => {
                c.status = "Unknown".into();
                c.reason = Some("NodeStatusUnknown".into());
                c.message = Some("Kubelet stopped posting node status.".into());
                c.last_transition_time = Some(now.clone());
            }
            Some(_) => {}
        }
    }
}

/// A wall-clock time as an instant on our clock (in the past).
fn instant_of(t: Option<&Time>, now: Instant) -> Instant {
    let Some(t) = t else {
        return now;
    };
    let ago = Timestamp::now().duration_since(t.0);
    let ago = Duration::try_from(ago).unwrap_or_default();
    now.checked_sub(ago).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(heartbeat: i64) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n".into()),
                ..Default::default()
            },
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_heartbeat_time: Some(Time(
                        Timestamp::from_second(heartbeat).unwrap_or_default(),
                    )),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn silence_beyond_grace_turns_conditions_unknown() {
        let mut h = Health::default();
        let grace = Duration::from_secs(40);
        let t0 = Instant::now();
        let o = h.observe(&node(100), None, grace, t0);
        assert!(o.update.is_none());
        // A new heartbeat keeps it alive.
        let o = h.observe(&node(130), None, grace, t0 + Duration::from_secs(30));
        assert!(o.update.is_none());
        // Nothing new for longer than the grace period.
        let o = h.observe(&node(130), None, grace, t0 + Duration::from_secs(71));
        let status = o.update.expect("an update");
        let ready = condition(Some(&status), "Ready").unwrap();
        assert_eq!(ready.status, "Unknown");
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(
            ready.message.as_deref(),
            Some("Kubelet stopped posting node status.")
        );
        let never = condition(Some(&status), "MemoryPressure").unwrap();
        assert_eq!(never.reason.as_deref(), Some("NodeStatusNeverUpdated"));
        assert_eq!(o.observed.status, "True");
        assert_eq!(o.current.unwrap().status, "Unknown");
    }

    #[test]
    fn lease_renewals_count_as_heartbeats() {
        let mut h = Health::default();
        let grace = Duration::from_secs(40);
        let t0 = Instant::now();
        let lease = |s: i64| Lease {
            spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
                renew_time: Some(MicroTime(Timestamp::from_second(s).unwrap_or_default())),
                ..Default::default()
            }),
            ..Default::default()
        };
        h.observe(&node(100), Some(&lease(100)), grace, t0);
        let o = h.observe(
            &node(100),
            Some(&lease(140)),
            grace,
            t0 + Duration::from_secs(39),
        );
        assert!(o.update.is_none());
        let o = h.observe(
            &node(100),
            Some(&lease(140)),
            grace,
            t0 + Duration::from_secs(60),
        );
        assert!(o.update.is_none(), "renewed at 39 s, grace runs to 79 s");
        let o = h.observe(
            &node(100),
            Some(&lease(140)),
            grace,
            t0 + Duration::from_secs(80),
        );
        assert!(o.update.is_some());
    }
}

//! Disruption handling per zone, as upstream: NoExecute tainting (which
//! starts evictions) goes through a rate-limited queue per zone; a zone
//! where most nodes are down is tainted slowly or not at all, and when
//! every node of the cluster is down the controller assumes the fault is
//! its own (a partition) and stops tainting, removing what it had added.

use std::collections::{BTreeMap, HashMap, VecDeque};

use k8s_openapi::api::core::v1::{Node, NodeCondition};
use tokio::time::Instant;

/// Nodes tainted per second in a healthy zone (`--node-eviction-rate`).
pub const EVICTION_QPS: f64 = 0.1;
/// Rate in a partially disrupted large zone
/// (`--secondary-node-eviction-rate`).
pub const SECONDARY_EVICTION_QPS: f64 = 0.01;
/// Zones up to this size stop tainting when partially disrupted
/// (`--large-cluster-size-threshold`).
pub const LARGE_CLUSTER_THRESHOLD: usize = 50;
/// Share of not-ready nodes that makes a zone partially disrupted
/// (`--unhealthy-zone-threshold`).
pub const UNHEALTHY_ZONE_THRESHOLD: f64 = 0.55;
/// Nodes with this label are left out of disruption accounting.
const EXCLUDE_DISRUPTION: &str = "node.kubernetes.io/exclude-disruption";

/// A zone's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    /// Just seen.
    Initial,
    /// Few nodes down.
    Normal,
    /// Most nodes (and more than two) down.
    PartialDisruption,
    /// Every node down.
    FullDisruption,
}

/// Upstream's zone key: region and zone labels.
pub fn zone_of(node: &Node) -> String {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let get = |new: &str, old: &str| {
        labels
            .get(new)
            .or_else(|| labels.get(old))
            .cloned()
            .unwrap_or_default()
    };
    let region = get(
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/region",
    );
    let zone = get(
        "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/zone",
    );
    if region.is_empty() && zone.is_empty() {
        return String::new();
    }
    format!("{region}:\u{0}:{zone}")
}

/// Whether the node counts in disruption accounting.
pub fn counted(node: &Node) -> bool {
    !node
        .metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(EXCLUDE_DISRUPTION))
}

/// Upstream's `ComputeZoneState` over the Ready conditions of a zone.
pub fn zone_state(ready: &[Option<NodeCondition>]) -> ZoneState {
    let up = ready
        .iter()
        .filter(|c| c.as_ref().is_some_and(|c| c.status == "True"))
        .count();
    let down = ready.len() - up;
    if up == 0 && down > 0 {
        ZoneState::FullDisruption
    } else if down > 2 && down as f64 / ready.len() as f64 >= UNHEALTHY_ZONE_THRESHOLD {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// A token bucket of one token refilled at `qps` (0: never).
struct Bucket {
    qps: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(qps: f64, now: Instant) -> Bucket {
        Bucket {
            qps,
            tokens: 1.0,
            at: now,
        }
    }

    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(1.0);
        self.at = now;
        if self.qps > 0.0 && self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn set_qps(&mut self, qps: f64, now: Instant) {
        if qps != self.qps {
            *self = Bucket::new(qps, now);
            if qps == 0.0 {
                self.tokens = 0.0;
            }
        }
    }
}

/// Per zone: its state and its queue of nodes awaiting a NoExecute taint.
struct Zone {
    state: ZoneState,
    queue: VecDeque<String>,
    bucket: Bucket,
}

/// What [`Zones::update`] asks of the controller.
#[derive(Debug, PartialEq, Eq)]
pub enum Transition {
    /// Nothing special.
    None,
    /// Every node is down: remove our NoExecute taints everywhere.
    EnteredFullDisruption,
    /// Some node is back after all were down: restart the grace clocks.
    LeftFullDisruption,
}

/// Every zone.
#[derive(Default)]
pub struct Zones {
    zones: BTreeMap<String, Zone>,
}

impl Zones {
    fn zone(&mut self, key: &str, now: Instant) -> &mut Zone {
        self.zones.entry(key.to_string()).or_insert_with(|| Zone {
            state: ZoneState::Initial,
            queue: VecDeque::new(),
            bucket: Bucket::new(EVICTION_QPS, now),
        })
    }

    /// Queues `node` (in `zone`) for NoExecute tainting, once.
    pub fn enqueue(&mut self, zone: &str, node: &str, now: Instant) {
        let z = self.zone(zone, now);
        if !z.queue.iter().any(|n| n == node) {
            z.queue.push_back(node.to_string());
        }
    }

    /// Drops `node` from its zone's queue.
    pub fn dequeue(&mut self, zone: &str, node: &str) {
        if let Some(z) = self.zones.get_mut(zone) {
            z.queue.retain(|n| n != node);
        }
    }

    /// The (zone, node) pairs whose turn has come, as the zones' rates
    /// allow.
    pub fn due(&mut self, now: Instant) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, z) in self.zones.iter_mut() {
            while !z.queue.is_empty() && z.bucket.try_take(now) {
                if let Some(n) = z.queue.pop_front() {
                    out.push((key.clone(), n));
                }
            }
        }
        out
    }

    /// Takes the Ready conditions of the counted nodes by zone and updates
    /// the zones' states and rates (upstream's `handleDisruption`).
    pub fn update(
        &mut self,
        ready_by_zone: &HashMap<String, Vec<Option<NodeCondition>>>,
        now: Instant,
    ) -> Transition {
        let new: BTreeMap<String, ZoneState> = ready_by_zone
            .iter()
            .map(|(k, v)| (k.clone(), zone_state(v)))
            .collect();
        for k in new.keys() {
            self.zone(k, now);
        }
        self.zones
            .retain(|k, z| new.contains_key(k) || !z.queue.is_empty());
        let all_are = new.values().all(|s| *s == ZoneState::FullDisruption);
        let all_were = self
            .zones
            .iter()
            .filter(|(k, _)| new.contains_key(*k))
            .all(|(_, z)| z.state == ZoneState::FullDisruption);
        if all_are && all_were {
            return Transition::None;
        }
        if all_are {
            for z in self.zones.values_mut() {
                z.bucket.set_qps(0.0, now);
                z.state = ZoneState::FullDisruption;
            }
            return Transition::EnteredFullDisruption;
        }
        for (k, state) in &new {
            let size = ready_by_zone.get(k).map_or(0, Vec::len);
            let z = self.zone(k, now);
            if z.state != *state || all_were {
                z.bucket.set_qps(qps_for(*state, size), now);
                z.state = *state;
            }
        }
        if all_were {
            Transition::LeftFullDisruption
        } else {
            Transition::None
        }
    }
}

/// Upstream's `setLimiterInZone`.
fn qps_for(state: ZoneState, size: usize) -> f64 {
    match state {
        ZoneState::Normal | ZoneState::Initial | ZoneState::FullDisruption => EVICTION_QPS,
        ZoneState::PartialDisruption if size > LARGE_CLUSTER_THRESHOLD => SECONDARY_EVICTION_QPS,
        ZoneState::PartialDisruption => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ready(s: &str) -> Option<NodeCondition> {
        Some(NodeCondition {
            type_: "Ready".into(),
            status: s.into(),
            ..Default::default()
        })
    }

    #[test]
    fn zone_states() {
        assert_eq!(
            zone_state(&[ready("True"), ready("Unknown")]),
            ZoneState::Normal
        );
        assert_eq!(
            zone_state(&[ready("False"), None]),
            ZoneState::FullDisruption
        );
        let mostly_down = [
            ready("True"),
            ready("False"),
            ready("False"),
            ready("Unknown"),
        ];
        assert_eq!(zone_state(&mostly_down), ZoneState::PartialDisruption);
    }

    #[test]
    fn one_node_per_ten_seconds_and_none_when_all_are_down() {
        let now = Instant::now();
        let mut z = Zones::default();
        let mut by_zone = HashMap::from([(String::new(), vec![ready("True"), ready("Unknown")])]);
        assert_eq!(z.update(&by_zone, now), Transition::None);
        z.enqueue("", "a", now);
        z.enqueue("", "b", now);
        let due =
            |z: &mut Zones, t| -> Vec<String> { z.due(t).into_iter().map(|(_, n)| n).collect() };
        assert_eq!(due(&mut z, now), ["a"]);
        assert!(due(&mut z, now + Duration::from_secs(5)).is_empty());
        assert_eq!(due(&mut z, now + Duration::from_secs(11)), ["b"]);

        by_zone.insert(String::new(), vec![ready("Unknown"), ready("Unknown")]);
        assert_eq!(z.update(&by_zone, now), Transition::EnteredFullDisruption);
        z.enqueue("", "a", now);
        assert!(z.due(now + Duration::from_secs(60)).is_empty());
        by_zone.insert(String::new(), vec![ready("True"), ready("Unknown")]);
        assert_eq!(z.update(&by_zone, now), Transition::LeftFullDisruption);
    }
}

//! PodTopologySpread: spreads the pods a constraint selects evenly over
//! topology domains (nodes sharing a label value). `DoNotSchedule`
//! constraints refuse nodes where the skew (this domain's matching pods,
//! with the pod, minus the emptiest domain's) would exceed `maxSkew`
//! (filter); `ScheduleAnyway` constraints prefer less crowded domains
//! (score).
//!
//! A pod without constraints gets upstream's system defaults (hostname
//! `maxSkew` 3, zone `maxSkew` 5, both ScheduleAnyway) over the pods of
//! its own controller. Upstream selects those pods with the selectors of
//! the Services and controllers that match the pod; ironclad uses the
//! pod's controller ownerReference, which picks the same pods for
//! ReplicaSets, ReplicationControllers, StatefulSets and Jobs without
//! watching them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ironclad_api::selector::{LabelSelector, Operator, Requirement};
use k8s_openapi::api::core::v1::TopologySpreadConstraint;

use crate::cache::Cache;
use crate::framework::{CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::plugins::node_affinity::RequiredNodeAffinity;
use crate::plugins::taint_toleration;
use crate::podinfo::PodInfo;

/// Upstream's name.
pub const NAME: &str = "PodTopologySpread";
/// The skew would exceed maxSkew.
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// The node lacks a constraint's topology label.
pub const MISSING_LABEL_REASON: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
/// The per-node topology key.
pub const HOSTNAME: &str = "kubernetes.io/hostname";
/// The zone topology key.
pub const ZONE: &str = "topology.kubernetes.io/zone";

/// The plugin.
pub struct PodTopologySpread;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(PodTopologySpread)
}

/// Which pods a constraint counts.
#[derive(Debug, Clone)]
pub enum Selects {
    /// Pods of the same namespace whose labels match.
    Labels(LabelSelector),
    /// Pods of the same controller (the system default).
    Controller(String),
}

/// A constraint, parsed.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// maxSkew.
    pub max_skew: i64,
    /// topologyKey.
    pub topology_key: String,
    /// labelSelector (+ matchLabelKeys), or the controller.
    pub selects: Selects,
    /// minDomains (1 when unset).
    pub min_domains: i64,
    /// nodeAffinityPolicy Honor (the default): only nodes the pod could
    /// go to count.
    pub honor_affinity: bool,
    /// nodeTaintsPolicy Honor (default Ignore): only nodes whose taints
    /// the pod tolerates count.
    pub honor_taints: bool,
}

// === impl Constraint ===

impl Constraint {
    fn new(c: &TopologySpreadConstraint, pod: &PodInfo) -> Constraint {
        let mut selector = LabelSelector::from_k8s_opt(c.label_selector.as_ref())
            .unwrap_or_else(|_| LabelSelector::nothing());
        if !selector.is_nothing() {
            let mut reqs = selector.requirements().to_vec();
            for k in c.match_label_keys.iter().flatten() {
                if let Some(v) = pod.labels.get(k)
                    && let Ok(r) = Requirement::new(k.clone(), Operator::In, vec![v.clone()])
                {
                    reqs.push(r);
                }
            }
            selector = LabelSelector::from_requirements(reqs);
        }
        Constraint {
            max_skew: i64::from(c.max_skew.max(1)),
            topology_key: c.topology_key.clone(),
            selects: Selects::Labels(selector),
            min_domains: i64::from(c.min_domains.unwrap_or(1).max(1)),
            honor_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        }
    }

    /// Whether the constraint counts `other` for `pod`.
    pub fn selects(&self, pod: &PodInfo, other: &PodInfo) -> bool {
        match &self.selects {
            Selects::Labels(s) => other.namespace == pod.namespace && s.matches(&other.labels),
            Selects::Controller(uid) => other.controller_uid.as_deref() == Some(uid),
        }
    }

    /// How many pods on `node` it counts (terminating pods do not count).
    pub fn count_on(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        node.pods
            .iter()
            .filter(|p| p.pod.metadata.deletion_timestamp.is_none() && self.selects(pod, p))
            .count() as i64
    }

    fn node_counts(&self, pod: &PodInfo, node: &NodeInfo, affinity: &RequiredNodeAffinity) -> bool {
        (!self.honor_affinity || affinity.matches(node))
            && (!self.honor_taints || taint_toleration::check(pod, node).is_ok())
    }
}

/// The pod's constraints with `whenUnsatisfiable` = `when`.
pub fn constraints(pod: &PodInfo, when: &str) -> Vec<Constraint> {
    pod.spec()
        .topology_spread_constraints
        .iter()
        .flatten()
        .filter(|c| c.when_unsatisfiable == when)
        .map(|c| Constraint::new(c, pod))
        .collect()
}

/// The system defaults for a pod without constraints of its own, when it
/// has a controller.
pub fn default_constraints(pod: &PodInfo) -> Vec<Constraint> {
    let Some(uid) = &pod.controller_uid else {
        return Vec::new();
    };
    [(HOSTNAME, 3), (ZONE, 5)]
        .into_iter()
        .map(|(key, skew)| Constraint {
            max_skew: skew,
            topology_key: key.into(),
            selects: Selects::Controller(uid.clone()),
            min_domains: 1,
            honor_affinity: true,
            honor_taints: false,
        })
        .collect()
}

/// What the filter needs: matching pods per domain, per constraint.
#[derive(Debug)]
pub struct FilterState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
    min: Vec<i64>,
    self_match: Vec<i64>,
}

/// Counts, over every node, the pods each hard constraint selects.
pub fn precompute_filter(
    pod: &PodInfo,
    cache: &Cache,
    constraints: Vec<Constraint>,
) -> FilterState {
    let affinity = RequiredNodeAffinity::new(pod.spec());
    let mut counts = vec![HashMap::<String, i64>::new(); constraints.len()];
    for node in cache.nodes() {
        if constraints
            .iter()
            .any(|c| node.label(&c.topology_key).is_none())
        {
            continue;
        }
        for (c, per_domain) in constraints.iter().zip(counts.iter_mut()) {
            if !c.node_counts(pod, node, &affinity) {
                continue;
            }
            let Some(v) = node.label(&c.topology_key) else {
                continue;
            };
            *per_domain.entry(v.to_string()).or_default() += c.count_on(pod, node);
        }
    }
    let min = constraints
        .iter()
        .zip(&counts)
        .map(|(c, per_domain)| {
            if (per_domain.len() as i64) < c.min_domains {
                0
            } else {
                per_domain.values().copied().min().unwrap_or(0)
            }
        })
        .collect();
    let self_match = constraints
        .iter()
        .map(|c| i64::from(c.selects(pod, pod)))
        .collect();
    FilterState {
        constraints,
        counts,
        min,
        self_match,
    }
}

/// Whether `node` keeps every hard constraint's skew within maxSkew.
pub fn check(state: &FilterState, node: &NodeInfo) -> Result<(), Status> {
    for (i, c) in state.constraints.iter().enumerate() {
        let Some(v) = node.label(&c.topology_key) else {
            return Err(Status::unresolvable(MISSING_LABEL_REASON));
        };
        let here = state.counts[i].get(v).copied().unwrap_or(0);
        if here + state.self_match[i] - state.min[i] > c.max_skew {
            return Err(Status::unschedulable(REASON));
        }
    }
    Ok(())
}

/// What the score needs.
#[derive(Debug)]
pub struct ScoreState {
    constraints: Vec<Constraint>,
    /// Matching pods per domain (not used for the hostname key).
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
    ignored: HashSet<String>,
    /// The controller's pods per node, for the system defaults.
    per_node: HashMap<String, u32>,
}

/// Prepares the score of `nodes` for `constraints`. `require_all`: nodes
/// lacking a topology key score 0 (explicit constraints); the system
/// defaults skip the missing keys instead.
pub fn precompute_score(
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    cache: &Cache,
    constraints: Vec<Constraint>,
    require_all: bool,
) -> ScoreState {
    let mut ignored = HashSet::new();
    let mut counts = vec![HashMap::<String, i64>::new(); constraints.len()];
    for n in nodes {
        if require_all
            && constraints
                .iter()
                .any(|c| n.label(&c.topology_key).is_none())
        {
            ignored.insert(n.name.clone());
            continue;
        }
        for (c, per_domain) in constraints.iter().zip(counts.iter_mut()) {
            if c.topology_key == HOSTNAME {
                continue;
            }
            if let Some(v) = n.label(&c.topology_key) {
                per_domain.entry(v.to_string()).or_insert(0);
            }
        }
    }
    let scored = (nodes.len() - ignored.len()) as f64;
    let weights = constraints
        .iter()
        .zip(&counts)
        .map(|(c, d)| {
            let domains = if c.topology_key == HOSTNAME {
                scored
            } else {
                d.len() as f64
            };
            (domains + 2.0).ln()
        })
        .collect();
    let affinity = RequiredNodeAffinity::new(pod.spec());
    let per_node = match constraints.first().map(|c| &c.selects) {
        Some(Selects::Controller(uid)) => cache.controller_pods(uid).cloned().unwrap_or_default(),
        _ => HashMap::new(),
    };
    for (c, per_domain) in constraints.iter().zip(counts.iter_mut()) {
        if c.topology_key == HOSTNAME || per_domain.is_empty() {
            continue;
        }
        if let Selects::Controller(_) = c.selects {
            // Only the nodes the controller has pods on.
            for (name, n) in &per_node {
                let Some(node) = cache.node(name) else {
                    continue;
                };
                if let Some(v) = node.label(&c.topology_key)
                    && let Some(e) = per_domain.get_mut(v)
                {
                    *e += i64::from(*n);
                }
            }
            continue;
        }
        for node in cache.nodes() {
            if require_all
                && constraints
                    .iter()
                    .any(|c| node.label(&c.topology_key).is_none())
            {
                continue;
            }
            if !c.node_counts(pod, node, &affinity) {
                continue;
            }
            if let Some(e) = node
                .label(&c.topology_key)
                .and_then(|v| per_domain.get_mut(v))
            {
                *e += c.count_on(pod, node);
            }
        }
    }
    ScoreState {
        constraints,
        counts,
        weights,
        ignored,
        per_node,
    }
}

/// The raw score of `node` (higher means more crowded).
pub fn raw_score(state: &ScoreState, pod: &PodInfo, node: &NodeInfo) -> i64 {
    if state.ignored.contains(&node.name) {
        return 0;
    }
    let mut score = 0.0;
    for (i, c) in state.constraints.iter().enumerate() {
        let Some(v) = node.label(&c.topology_key) else {
            continue;
        };
        let count = if c.topology_key == HOSTNAME {
            match &c.selects {
                Selects::Controller(_) => {
                    i64::from(state.per_node.get(&node.name).copied().unwrap_or(0))
                }
                Selects::Labels(_) => c.count_on(pod, node),
            }
        } else {
            state.counts[i].get(v).copied().unwrap_or(0)
        };
        score += (count + c.max_skew - 1) as f64 * state.weights[i];
    }
    score.round() as i64
}

/// Turns raw scores into 0..=100, fewer matching pods scoring higher.
pub fn normalize(state: &ScoreState, nodes: &[&NodeInfo], scores: &mut [i64]) {
    let live = || {
        nodes
            .iter()
            .zip(scores.iter())
            .filter(|(n, _)| !state.ignored.contains(&n.name))
            .map(|(_, s)| *s)
    };
    let (Some(min), Some(max)) = (live().min(), live().max()) else {
        return;
    };
    for (n, s) in nodes.iter().zip(scores.iter_mut()) {
        *s = if state.ignored.contains(&n.name) {
            0
        } else if max == 0 {
            MAX_NODE_SCORE
        } else {
            MAX_NODE_SCORE * (max + min - *s) / max
        };
    }
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for PodTopologySpread {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, cache: &Cache) -> Status {
        let hard = constraints(pod, "DoNotSchedule");
        if hard.is_empty() {
            return Status::skip();
        }
        state.write(NAME, precompute_filter(pod, cache, hard));
        Status::success()
    }

    fn filter(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<FilterState>(NAME) else {
            return Status::error("PodTopologySpread: no pre-filter state");
        };
        match check(s, node) {
            Ok(()) => Status::success(),
            Err(s) => s,
        }
    }
}

const SCORE_KEY: &str = "PodTopologySpread/score";

impl ScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        cache: &Cache,
    ) -> Status {
        let own = pod
            .spec()
            .topology_spread_constraints
            .as_ref()
            .is_some_and(|c| !c.is_empty());
        let (soft, require_all) = if own {
            (constraints(pod, "ScheduleAnyway"), true)
        } else {
            (default_constraints(pod), false)
        };
        if soft.is_empty() {
            return Status::skip();
        }
        state.write(
            SCORE_KEY,
            precompute_score(pod, nodes, cache, soft, require_all),
        );
        Status::success()
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        state
            .read::<ScoreState>(SCORE_KEY)
            .map_or(0, |s| raw_score(s, pod, node))
    }

    fn normalize(&self, state: &CycleState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        if let Some(s) = state.read::<ScoreState>(SCORE_KEY) {
            normalize(s, nodes, scores);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{cache, labels, node_with, on_node, pod_with, spec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as Sel, OwnerReference};
    use std::collections::BTreeMap;

    fn zoned(name: &str, zone: &str) -> NodeInfo {
        node_with(name, |n| {
            n.metadata
                .labels
                .get_or_insert_default()
                .insert(ZONE.into(), zone.into());
        })
    }

    fn web(name: &str, when: Option<(&str, &str, i32)>) -> PodInfo {
        pod_with(name, |p| {
            labels(p, &[("app", "web")]);
            if let Some((key, when, skew)) = when {
                spec(p).topology_spread_constraints = Some(vec![TopologySpreadConstraint {
                    max_skew: skew,
                    topology_key: key.into(),
                    when_unsatisfiable: when.into(),
                    label_selector: Some(Sel {
                        match_labels: Some(BTreeMap::from([("app".into(), "web".into())])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]);
            }
        })
    }

    #[test]
    fn hard_constraints_refuse_domains_that_would_skew_too_far() {
        let c = cache(
            vec![
                zoned("a1", "a"),
                zoned("b1", "b"),
                node_with("bare", |_| {}),
            ],
            vec![on_node(web("w0", None), "a1")],
        );
        let p = web("w1", Some((ZONE, "DoNotSchedule", 1)));
        let s = precompute_filter(&p, &c, constraints(&p, "DoNotSchedule"));
        let verdicts: Vec<_> = c
            .nodes()
            .iter()
            .map(|n| check(&s, n).map_err(|e| e.reasons[0].clone()))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                Err(REASON.to_string()),
                Ok(()),
                Err(MISSING_LABEL_REASON.to_string())
            ]
        );
    }

    #[test]
    fn soft_constraints_prefer_the_emptier_domain() {
        let (a, b) = (zoned("a1", "a"), zoned("b1", "b"));
        let c = cache(
            vec![a.clone(), b.clone()],
            vec![
                on_node(web("w0", None), "a1"),
                on_node(web("w1", None), "a1"),
            ],
        );
        let p = web("w2", Some((ZONE, "ScheduleAnyway", 1)));
        let nodes = [&a, &b];
        let s = precompute_score(&p, &nodes, &c, constraints(&p, "ScheduleAnyway"), true);
        let mut scores: Vec<i64> = nodes.iter().map(|n| raw_score(&s, &p, n)).collect();
        normalize(&s, &nodes, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
        assert_eq!(scores[1], MAX_NODE_SCORE);
    }

    #[test]
    fn pods_of_one_controller_spread_over_hostnames_by_default() {
        let owned = |name: &str| {
            pod_with(name, |p| {
                p.metadata.owner_references = Some(vec![OwnerReference {
                    uid: "rs-1".into(),
                    controller: Some(true),
                    ..Default::default()
                }])
            })
        };
        let (a, b) = (node_with("a", |_| {}), node_with("b", |_| {}));
        let c = cache(vec![a.clone(), b.clone()], vec![on_node(owned("r0"), "a")]);
        let p = owned("r1");
        let nodes = [&a, &b];
        let s = precompute_score(&p, &nodes, &c, default_constraints(&p), false);
        let mut scores: Vec<i64> = nodes.iter().map(|n| raw_score(&s, &p, n)).collect();
        normalize(&s, &nodes, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
        // Without a controller there is nothing to spread.
        assert!(default_constraints(&web("x", None)).is_empty());
    }
}

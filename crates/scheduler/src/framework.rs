//! The scheduling framework: the Filter and Score plugin traits, the one
//! registry of plugins by upstream's names, and a [`Framework`] built from
//! a [`Profile`] that runs them for one pod (upstream's
//! `framework/interface.go` and `framework/runtime`).
//!
//! A plugin may take part in both extension points (NodeResourcesFit
//! filters and scores). `pre_filter` / `pre_score` run once per pod and
//! leave what the per-node calls need in the [`CycleState`]; they may
//! answer [`Code::Skip`] when the pod gives the plugin nothing to do, so
//! the per-node calls are not made at all.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use crate::cache::Cache;
use crate::nodeinfo::NodeInfo;
use crate::plugins;
use crate::podinfo::PodInfo;

/// The highest score a plugin gives a node (upstream's `MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// The outcome of a plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The node passes (or the pre-step succeeded).
    Success,
    /// The node does not fit now, but could once other pods go away.
    Unschedulable,
    /// The node does not fit, and removing pods would not change that.
    UnschedulableAndUnresolvable,
    /// The plugin has nothing to do for this pod (pre-steps only).
    Skip,
    /// Something went wrong.
    Error,
}

/// A plugin's answer: a code and, when a node is refused, the reasons as
/// they appear in the FailedScheduling message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// What happened.
    pub code: Code,
    /// Why (empty on success).
    pub reasons: Vec<String>,
}

/// Per-pod data the pre-steps leave for the per-node calls, one entry per
/// plugin name.
#[derive(Default)]
pub struct CycleState {
    entries: HashMap<&'static str, Box<dyn Any + Send + Sync>>,
}

/// A plugin. It takes part in the extension points whose accessor answers
/// `Some`.
pub trait Plugin: Send + Sync {
    /// Upstream's name of the plugin.
    fn name(&self) -> &'static str;
    /// The plugin as a filter.
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        None
    }
    /// The plugin as a scorer.
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        None
    }
}

/// Decides whether a pod may go to a node.
pub trait FilterPlugin: Send + Sync {
    /// Once per pod, before any node: precompute from the whole cluster.
    fn pre_filter(&self, _state: &mut CycleState, _pod: &PodInfo, _cache: &Cache) -> Status {
        Status::success()
    }
    /// Whether `pod` fits on `node`.
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;
}

/// Ranks the nodes that passed every filter.
pub trait ScorePlugin: Send + Sync {
    /// Once per pod, with the nodes that will be scored.
    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _nodes: &[&NodeInfo],
        _cache: &Cache,
    ) -> Status {
        Status::success()
    }
    /// The node's raw score.
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64;
    /// Brings the raw scores of all nodes into 0..=[`MAX_NODE_SCORE`].
    fn normalize(&self, _state: &CycleState, _nodes: &[&NodeInfo], _scores: &mut [i64]) {}
}

/// Makes a plugin.
pub type Factory = fn() -> Arc<dyn Plugin>;

/// Every plugin the scheduler knows, by upstream's name.
pub fn registry() -> Vec<(&'static str, Factory)> {
    use plugins::*;
    vec![
        (node_unschedulable::NAME, node_unschedulable::new),
        (node_name::NAME, node_name::new),
        (taint_toleration::NAME, taint_toleration::new),
        (node_affinity::NAME, node_affinity::new),
        (node_ports::NAME, node_ports::new),
        (node_resources_fit::NAME, node_resources_fit::new),
        (pod_topology_spread::NAME, pod_topology_spread::new),
        (inter_pod_affinity::NAME, inter_pod_affinity::new),
        (
            node_resources_balanced_allocation::NAME,
            node_resources_balanced_allocation::new,
        ),
    ]
}

/// Which plugins run, in which order, and how much each score weighs
/// (upstream's `KubeSchedulerProfile` plugin sets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Filter plugins, in the order they run.
    pub filters: Vec<String>,
    /// Score plugins and their weights.
    pub scores: Vec<(String, i64)>,
}

impl Default for Profile {
    /// Upstream's default profile (the plugins ironclad has, with
    /// upstream's order and weights).
    fn default() -> Self {
        use plugins::*;
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        Profile {
            filters: names(&[
                node_unschedulable::NAME,
                node_name::NAME,
                taint_toleration::NAME,
                node_affinity::NAME,
                node_ports::NAME,
                node_resources_fit::NAME,
                pod_topology_spread::NAME,
                inter_pod_affinity::NAME,
            ]),
            scores: vec![
                (taint_toleration::NAME.into(), 3),
                (node_affinity::NAME.into(), 2),
                (node_resources_fit::NAME.into(), 1),
                (pod_topology_spread::NAME.into(), 2),
                (node_resources_balanced_allocation::NAME.into(), 1),
            ],
        }
    }
}

/// A node a filter refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The plugin that refused.
    pub plugin: &'static str,
    /// Its status.
    pub status: Status,
}

/// The plugins of one profile, ready to run.
pub struct Framework {
    filters: Vec<Arc<dyn Plugin>>,
    scores: Vec<(Arc<dyn Plugin>, i64)>,
}

/// The plugins that take part in one pod's cycle, after their pre-steps.
pub struct Cycle {
    /// What the pre-steps left.
    pub state: CycleState,
    filters: Vec<usize>,
}

// === impl Status ===

impl Status {
    /// Success.
    pub fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Vec::new(),
        }
    }

    /// Nothing to do for this pod.
    pub fn skip() -> Status {
        Status {
            code: Code::Skip,
            reasons: Vec::new(),
        }
    }

    /// Refused, resolvable by removing pods.
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::Unschedulable,
            reasons: vec![reason.into()],
        }
    }

    /// Refused for good.
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.into()],
        }
    }

    /// A failure.
    pub fn error(message: impl Into<String>) -> Status {
        Status {
            code: Code::Error,
            reasons: vec![message.into()],
        }
    }

    /// Whether the code is [`Code::Success`].
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
}

// === impl CycleState ===

impl CycleState {
    /// Stores a plugin's data.
    pub fn write<T: Any + Send + Sync>(&mut self, plugin: &'static str, value: T) {
        self.entries.insert(plugin, Box::new(value));
    }

    /// Reads a plugin's data.
    pub fn read<T: Any + Send + Sync>(&self, plugin: &'static str) -> Option<&T> {
        self.entries.get(plugin)?.downcast_ref()
    }
}

// === impl Framework ===

impl Framework {
    /// Builds the plugins `profile` names, from [`registry`].
    pub fn new(profile: &Profile) -> Result<Framework, crate::Error> {
        let registry = registry();
        let mut made: HashMap<&str, Arc<dyn Plugin>> = HashMap::new();
        let mut get = |name: &str| -> Result<Arc<dyn Plugin>, crate::Error> {
            let (n, factory) = registry
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| crate::Error::Config(format!("no plugin named {name:?}")))?;
            Ok(made.entry(n).or_insert_with(factory).clone())
        };
        let mut filters = Vec::new();
        for name in &profile.filters {
            let p = get(name)?;
            if p.as_filter().is_none() {
                return Err(crate::Error::Config(format!("{name} is not a filter")));
            }
            filters.push(p);
        }
        let mut scores = Vec::new();
        for (name, weight) in &profile.scores {
            let p = get(name)?;
            if p.as_score().is_none() {
                return Err(crate::Error::Config(format!("{name} is not a scorer")));
            }
            scores.push((p, *weight));
        }
        Ok(Framework { filters, scores })
    }

    /// Runs every filter's pre-step for `pod`. A pre-step that refuses
    /// the pod refuses it on every node.
    pub fn pre_filter(&self, pod: &PodInfo, cache: &Cache) -> Result<Cycle, Rejection> {
        let mut cycle = Cycle {
            state: CycleState::default(),
            filters: Vec::with_capacity(self.filters.len()),
        };
        for (i, p) in self.filters.iter().enumerate() {
            let Some(f) = p.as_filter() else { continue };
            let status = f.pre_filter(&mut cycle.state, pod, cache);
            match status.code {
                Code::Success => cycle.filters.push(i),
                Code::Skip => {}
                _ => {
                    return Err(Rejection {
                        plugin: p.name(),
                        status,
                    });
                }
            }
        }
        Ok(cycle)
    }

    /// Runs the filters on one node, stopping at the first refusal.
    pub fn filter(&self, cycle: &Cycle, pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
        for &i in &cycle.filters {
            let p = &self.filters[i];
            let Some(f) = p.as_filter() else { continue };
            let status = f.filter(&cycle.state, pod, node);
            if !status.is_success() {
                return Err(Rejection {
                    plugin: p.name(),
                    status,
                });
            }
        }
        Ok(())
    }

    /// The weighted sum of every scorer's normalized score, per node.
    pub fn score(
        &self,
        cycle: &mut Cycle,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        cache: &Cache,
    ) -> Vec<i64> {
        let mut total = vec![0i64; nodes.len()];
        let mut scores = vec![0i64; nodes.len()];
        for (p, weight) in &self.scores {
            let Some(s) = p.as_score() else { continue };
            match s.pre_score(&mut cycle.state, pod, nodes, cache).code {
                Code::Success => {}
                _ => continue,
            }
            for (score, node) in scores.iter_mut().zip(nodes) {
                *score = s.score(&cycle.state, pod, node);
            }
            s.normalize(&cycle.state, nodes, &mut scores);
            for (t, s) in total.iter_mut().zip(&scores) {
                *t += s * weight;
            }
        }
        total
    }
}

/// Scales scores into 0..=[`MAX_NODE_SCORE`] relative to the highest, and
/// turns them around when lower raw scores are better (upstream's
/// `DefaultNormalizeScore`).
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = MAX_NODE_SCORE * *s / max;
        if reverse {
            *s = MAX_NODE_SCORE - *s;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_default_profile_builds_from_the_registry() {
        let f = Framework::new(&Profile::default()).unwrap();
        assert_eq!(f.filters.len(), 8);
        assert_eq!(f.scores.len(), 5);
    }

    #[test]
    fn unknown_plugins_and_wrong_extension_points_are_refused() {
        let mut p = Profile::default();
        p.filters.push("NoSuchPlugin".into());
        assert!(Framework::new(&p).is_err());
        let p = Profile {
            filters: vec![],
            scores: vec![("NodeName".into(), 1)],
        };
        assert!(Framework::new(&p).is_err());
    }

    #[test]
    fn normalizing_scales_to_the_highest_and_reverses() {
        let mut s = [0, 5, 10];
        default_normalize(&mut s, false);
        assert_eq!(s, [0, 50, 100]);
        let mut s = [0, 5, 10];
        default_normalize(&mut s, true);
        assert_eq!(s, [100, 50, 0]);
        let mut s = [0, 0];
        default_normalize(&mut s, true);
        assert_eq!(s, [100, 100]);
    }
}

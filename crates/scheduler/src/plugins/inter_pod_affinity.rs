//! InterPodAffinity (required terms): a pod goes only into topology
//! domains (nodes sharing a label value) that hold pods its affinity terms
//! select, never into domains holding pods its anti-affinity terms select,
//! and never where an existing pod's anti-affinity term selects it.
//!
//! The pre-step counts, once per pod, the matching pods per
//! `(topologyKey, value)` pair over the whole cluster, so the per-node
//! check is a few map lookups (upstream's `preFilterState`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::cache::Cache;
use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

/// Upstream's name.
pub const NAME: &str = "InterPodAffinity";
/// The node's domain has no pod the pod's affinity asks for.
pub const AFFINITY_REASON: &str = "node(s) didn't match pod affinity rules";
/// The node's domain has a pod the pod's anti-affinity refuses.
pub const ANTI_AFFINITY_REASON: &str = "node(s) didn't match pod anti-affinity rules";
/// A pod in the node's domain refuses this pod.
pub const EXISTING_ANTI_AFFINITY_REASON: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// The plugin.
pub struct InterPodAffinity;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(InterPodAffinity)
}

/// topology key -> value -> matching pods.
type Counts = HashMap<String, HashMap<String, i64>>;

fn bump(c: &mut Counts, key: &str, value: &str) {
    *c.entry(key.to_string())
        .or_default()
        .entry(value.to_string())
        .or_default() += 1;
}

/// Matching pods per topology pair, for one incoming pod.
#[derive(Debug, Default)]
pub struct Precomputed {
    /// Existing pods whose anti-affinity terms select the incoming pod.
    existing_anti_affinity: Counts,
    /// Existing pods that all of the incoming pod's affinity terms select.
    affinity: Counts,
    /// Existing pods one of the incoming pod's anti-affinity terms selects.
    anti_affinity: Counts,
}

/// Counts, over every node of `cache`, what [`check`] needs for `pod`.
pub fn precompute(pod: &PodInfo, cache: &Cache) -> Precomputed {
    let mut out = Precomputed::default();
    let has_own_terms = !pod.required_affinity.is_empty() || !pod.required_anti_affinity.is_empty();
    for node in cache.nodes() {
        if !has_own_terms && node.pods_with_required_anti_affinity == 0 {
            continue;
        }
        for existing in &node.pods {
            if existing.key == pod.key {
                continue;
            }
            for term in &existing.required_anti_affinity {
                if let Some(v) = node.label(&term.topology_key)
                    && term.matches(pod)
                {
                    bump(&mut out.existing_anti_affinity, &term.topology_key, v);
                }
            }
            if !pod.required_affinity.is_empty()
                && pod.required_affinity.iter().all(|t| t.matches(existing))
            {
                for term in &pod.required_affinity {
                    if let Some(v) = node.label(&term.topology_key) {
                        bump(&mut out.affinity, &term.topology_key, v);
                    }
                }
            }
            for term in &pod.required_anti_affinity {
                if let Some(v) = node.label(&term.topology_key)
                    && term.matches(existing)
                {
                    bump(&mut out.anti_affinity, &term.topology_key, v);
                }
            }
        }
    }
    out
}

fn count(c: &Counts, key: &str, value: &str) -> i64 {
    c.get(key).and_then(|m| m.get(value)).copied().unwrap_or(0)
}

/// Whether `pod` may go to `node`, with upstream's reason when not.
pub fn check(pre: &Precomputed, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
    // Affinity: every term's domain on this node must hold a match.
    let mut pods_exist = true;
    for term in &pod.required_affinity {
        match node.label(&term.topology_key) {
            Some(v) => {
                if count(&pre.affinity, &term.topology_key, v) <= 0 {
                    pods_exist = false;
                }
            }
            None => return Err(Status::unresolvable(AFFINITY_REASON)),
        }
    }
    if !pods_exist {
        // The first pod of a group that selects itself may start it.
        let first_of_its_kind =
            pre.affinity.is_empty() && pod.required_affinity.iter().all(|t| t.matches(pod));
        if !first_of_its_kind {
            return Err(Status::unresolvable(AFFINITY_REASON));
        }
    }
    for term in &pod.required_anti_affinity {
        if let Some(v) = node.label(&term.topology_key)
            && count(&pre.anti_affinity, &term.topology_key, v) > 0
        {
            return Err(Status::unschedulable(ANTI_AFFINITY_REASON));
        }
    }
    for (key, values) in &pre.existing_anti_affinity {
        if node
            .label(key)
            .is_some_and(|v| values.get(v).is_some_and(|n| *n > 0))
        {
            return Err(Status::unschedulable(EXISTING_ANTI_AFFINITY_REASON));
        }
    }
    Ok(())
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for InterPodAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, cache: &Cache) -> Status {
        let quiet = pod.required_affinity.is_empty()
            && pod.required_anti_affinity.is_empty()
            && cache
                .nodes()
                .iter()
                .all(|n| n.pods_with_required_anti_affinity == 0);
        if quiet {
            return Status::skip();
        }
        state.write(NAME, precompute(pod, cache));
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(pre) = state.read::<Precomputed>(NAME) else {
            return Status::error("InterPodAffinity: no pre-filter state");
        };
        match check(pre, pod, node) {
            Ok(()) => Status::success(),
            Err(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{cache, labels, node_with, on_node, pod_with, spec};
    use k8s_openapi::api::core::v1::{Affinity, PodAffinity, PodAffinityTerm, PodAntiAffinity};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
    use std::collections::BTreeMap;

    fn zoned(name: &str, zone: &str) -> NodeInfo {
        node_with(name, |n| {
            n.metadata
                .labels
                .get_or_insert_default()
                .insert("zone".into(), zone.into());
        })
    }

    fn term(app: &str, key: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("app".into(), app.into())])),
                ..Default::default()
            }),
            topology_key: key.into(),
            ..Default::default()
        }
    }

    fn app(name: &str, app: &str, affinity: Option<Affinity>) -> PodInfo {
        pod_with(name, |p| {
            labels(p, &[("app", app)]);
            spec(p).affinity = affinity;
        })
    }

    fn anti(app: &str, key: &str) -> Option<Affinity> {
        Some(Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(app, key)]),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn with(app: &str, key: &str) -> Option<Affinity> {
        Some(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(app, key)]),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn verdicts(p: &PodInfo, c: &Cache) -> Vec<Result<(), String>> {
        let pre = precompute(p, c);
        c.nodes()
            .iter()
            .map(|n| check(&pre, p, n).map_err(|s| s.reasons[0].clone()))
            .collect()
    }

    #[test]
    fn anti_affinity_keeps_pods_apart_per_domain() {
        let c = cache(
            vec![zoned("a1", "a"), zoned("a2", "a"), zoned("b1", "b")],
            vec![on_node(app("web-0", "web", None), "a1")],
        );
        let p = app("web-1", "web", anti("web", "zone"));
        assert_eq!(
            verdicts(&p, &c),
            vec![
                Err(ANTI_AFFINITY_REASON.to_string()),
                Err(ANTI_AFFINITY_REASON.to_string()),
                Ok(())
            ]
        );
        let p = app("web-1", "web", anti("web", "kubernetes.io/hostname"));
        assert_eq!(verdicts(&p, &c)[1..], [Ok(()), Ok(())]);
    }

    #[test]
    fn existing_pods_anti_affinity_refuses_newcomers_they_select() {
        let c = cache(
            vec![zoned("a1", "a"), zoned("b1", "b")],
            vec![on_node(app("db-0", "db", anti("web", "zone")), "a1")],
        );
        let p = app("web-0", "web", None);
        assert_eq!(
            verdicts(&p, &c),
            vec![Err(EXISTING_ANTI_AFFINITY_REASON.to_string()), Ok(())]
        );
    }

    #[test]
    fn affinity_follows_the_selected_pods_and_the_first_may_start_anywhere() {
        let c = cache(
            vec![zoned("a1", "a"), zoned("b1", "b")],
            vec![on_node(app("db-0", "db", None), "b1")],
        );
        let p = app("web-0", "web", with("db", "zone"));
        assert_eq!(
            verdicts(&p, &c),
            vec![Err(AFFINITY_REASON.to_string()), Ok(())]
        );
        // A pod selecting its own kind, with none running: anywhere.
        let p = app("cache-0", "cache", with("cache", "zone"));
        assert_eq!(verdicts(&p, &c), vec![Ok(()), Ok(())]);
        // Nodes without the topology label never satisfy affinity.
        let c = cache(vec![node_with("bare", |_| {})], vec![]);
        assert_eq!(verdicts(&p, &c), vec![Err(AFFINITY_REASON.to_string())]);
    }
}

//! TaintToleration: a node's NoSchedule and NoExecute taints keep away
//! every pod that does not tolerate them (filter); its PreferNoSchedule
//! taints make it less attractive to pods that do not tolerate them
//! (score, fewer is better).

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Taint, Toleration};

use crate::cache::Cache;
use crate::framework::{CycleState, FilterPlugin, Plugin, ScorePlugin, Status, default_normalize};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

/// Upstream's name.
pub const NAME: &str = "TaintToleration";

/// The plugin.
pub struct TaintToleration;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(TaintToleration)
}

/// Whether `t` tolerates `taint`, as upstream's `ToleratesTaint`: same
/// effect (or none given), same key (or none given, with Exists), and the
/// same value unless the operator is Exists.
pub fn tolerates_taint(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty())
        && effect != taint.effect
    {
        return false;
    }
    if let Some(key) = t.key.as_deref().filter(|k| !k.is_empty())
        && key != taint.key
    {
        return false;
    }
    match t.operator.as_deref().unwrap_or("") {
        "Exists" => true,
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    }
}

/// The first of `taints` with an effect `keep` selects that no toleration
/// tolerates.
pub fn first_untolerated<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    keep: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| keep(t))
        .find(|taint| !tolerations.iter().any(|t| tolerates_taint(t, taint)))
}

/// The filter's verdict: the first untolerated NoSchedule or NoExecute
/// taint, in upstream's words.
pub fn check(pod: &PodInfo, node: &NodeInfo) -> Result<(), String> {
    let tolerations = pod.spec().tolerations.as_deref().unwrap_or_default();
    match first_untolerated(&node.taints, tolerations, |t| {
        t.effect == "NoSchedule" || t.effect == "NoExecute"
    }) {
        None => Ok(()),
        Some(taint) => Err(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            taint.key,
            taint.value.as_deref().unwrap_or("")
        )),
    }
}

/// How many PreferNoSchedule taints of `node` the pod's PreferNoSchedule
/// (or effect-less) tolerations leave untolerated.
pub fn intolerable_preferences(tolerations: &[Toleration], node: &NodeInfo) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|taint| !tolerations.iter().any(|t| tolerates_taint(t, taint)))
        .count() as i64
}

struct Preferred(Vec<Toleration>);

impl Plugin for TaintToleration {
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

impl FilterPlugin for TaintToleration {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        match check(pod, node) {
            Ok(()) => Status::success(),
            Err(reason) => Status::unresolvable(reason),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        _: &Cache,
    ) -> Status {
        let preferences = |n: &&NodeInfo| n.taints.iter().any(|t| t.effect == "PreferNoSchedule");
        if !nodes.iter().any(preferences) {
            // Every node would score the same (0 untolerated, normalized to
            // 100): the same offset everywhere changes no ranking.
            return Status::skip();
        }
        let tolerations = pod
            .spec()
            .tolerations
            .iter()
            .flatten()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .cloned()
            .collect();
        state.write(NAME, Preferred(tolerations));
        Status::success()
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let empty = Preferred(Vec::new());
        let tolerations = state.read::<Preferred>(NAME).unwrap_or(&empty);
        intolerable_preferences(&tolerations.0, node)
    }

    fn normalize(&self, _: &CycleState, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_with, pod, pod_with, spec};

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            ..Default::default()
        }
    }

    fn toleration(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Toleration {
            key: opt(key),
            operator: opt(op),
            value: opt(value),
            effect: opt(effect),
            ..Default::default()
        }
    }

    #[test]
    fn toleration_matching_follows_upstream() {
        let t = taint("dedicated", "gpu", "NoSchedule");
        assert!(tolerates_taint(
            &toleration("dedicated", "Equal", "gpu", "NoSchedule"),
            &t
        ));
        assert!(tolerates_taint(&toleration("dedicated", "", "gpu", ""), &t));
        assert!(tolerates_taint(
            &toleration("dedicated", "Exists", "", ""),
            &t
        ));
        assert!(tolerates_taint(&toleration("", "Exists", "", ""), &t));
        assert!(!tolerates_taint(
            &toleration("dedicated", "Equal", "cpu", ""),
            &t
        ));
        assert!(!tolerates_taint(
            &toleration("dedicated", "Exists", "", "NoExecute"),
            &t
        ));
        assert!(!tolerates_taint(&toleration("other", "Exists", "", ""), &t));
    }

    #[test]
    fn untolerated_hard_taints_refuse_with_upstreams_message() {
        let n = node_with("n", |n| {
            n.spec.get_or_insert_default().taints = Some(vec![
                taint("soft", "x", "PreferNoSchedule"),
                taint("dedicated", "gpu", "NoSchedule"),
            ])
        });
        assert_eq!(
            check(&pod("p"), &n),
            Err("node(s) had untolerated taint {dedicated: gpu}".into())
        );
        let tolerant = pod_with("p", |p| {
            spec(p).tolerations = Some(vec![toleration("dedicated", "Exists", "", "")])
        });
        assert_eq!(check(&tolerant, &n), Ok(()));
    }

    #[test]
    fn prefer_no_schedule_taints_lower_the_score() {
        let tainted = node_with("a", |n| {
            n.spec.get_or_insert_default().taints =
                Some(vec![taint("soft", "x", "PreferNoSchedule")])
        });
        let clean = node_with("b", |_| {});
        assert_eq!(intolerable_preferences(&[], &tainted), 1);
        assert_eq!(intolerable_preferences(&[], &clean), 0);
        let tol = [toleration("soft", "Exists", "", "PreferNoSchedule")];
        assert_eq!(intolerable_preferences(&tol, &tainted), 0);

        let p = TaintToleration;
        let mut state = CycleState::default();
        let c = Cache::new();
        p.pre_score(&mut state, &pod("p"), &[&tainted, &clean], &c);
        let mut scores = [
            p.score(&state, &pod("p"), &tainted),
            p.score(&state, &pod("p"), &clean),
        ];
        p.normalize(&state, &[&tainted, &clean], &mut scores);
        assert_eq!(scores, [0, 100]);
    }
}

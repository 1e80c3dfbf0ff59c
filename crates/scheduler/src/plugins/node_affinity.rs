//! NodeAffinity: `spec.nodeSelector` and the required node affinity terms
//! decide which nodes a pod may go to (filter); the preferred terms add
//! their weights to the nodes they match (score).

use std::sync::Arc;

use ironclad_api::selector::{LabelSelector, Operator, Requirement};
use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm, PodSpec};

use crate::cache::Cache;
use crate::framework::{CycleState, FilterPlugin, Plugin, ScorePlugin, Status, default_normalize};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

/// Upstream's name.
pub const NAME: &str = "NodeAffinity";
/// Why a node was refused.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// The plugin.
pub struct NodeAffinity;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(NodeAffinity)
}

/// One node selector term, parsed. An invalid or empty term matches no
/// node (upstream's rule).
#[derive(Debug, Clone)]
pub struct Term {
    labels: Vec<Requirement>,
    /// `metadata.name` in / not in these names.
    names: Vec<(bool, Vec<String>)>,
    valid: bool,
}

/// A pod's hard node constraints: nodeSelector AND (any required term).
#[derive(Debug, Clone, Default)]
pub struct RequiredNodeAffinity {
    selector: Option<LabelSelector>,
    terms: Option<Vec<Term>>,
}

// === impl Term ===

impl Term {
    /// Parses a term.
    pub fn new(term: &NodeSelectorTerm) -> Term {
        let mut t = Term {
            labels: Vec::new(),
            names: Vec::new(),
            valid: true,
        };
        let exprs = term.match_expressions.as_deref().unwrap_or_default();
        let fields = term.match_fields.as_deref().unwrap_or_default();
        if exprs.is_empty() && fields.is_empty() {
            t.valid = false;
        }
        for e in exprs {
            match requirement(e) {
                Some(r) => t.labels.push(r),
                None => t.valid = false,
            }
        }
        for f in fields {
            let values = f.values.clone().unwrap_or_default();
            match (f.key.as_str(), f.operator.as_str()) {
                ("metadata.name", "In") if values.len() == 1 => t.names.push((true, values)),
                ("metadata.name", "NotIn") if values.len() == 1 => t.names.push((false, values)),
                _ => t.valid = false,
            }
        }
        t
    }

    /// Whether `node` satisfies every requirement of the term.
    pub fn matches(&self, node: &NodeInfo) -> bool {
        self.valid
            && self
                .labels
                .iter()
                .all(|r| r.matches_with(|k| node.labels.get(k).map(String::as_str)))
            && self
                .names
                .iter()
                .all(|(is_in, names)| names.contains(&node.name) == *is_in)
    }
}

fn requirement(e: &NodeSelectorRequirement) -> Option<Requirement> {
    let op = match e.operator.as_str() {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        "Gt" => Operator::GreaterThan,
        "Lt" => Operator::LessThan,
        _ => return None,
    };
    Requirement::new(e.key.clone(), op, e.values.clone().unwrap_or_default()).ok()
}

// === impl RequiredNodeAffinity ===

impl RequiredNodeAffinity {
    /// Parses the pod's nodeSelector and required node affinity.
    pub fn new(spec: &PodSpec) -> RequiredNodeAffinity {
        let selector = spec
            .node_selector
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(LabelSelector::from_labels);
        let terms = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|s| s.node_selector_terms.iter().map(Term::new).collect());
        RequiredNodeAffinity { selector, terms }
    }

    /// Whether the pod constrains nodes at all.
    pub fn is_empty(&self) -> bool {
        self.selector.is_none() && self.terms.is_none()
    }

    /// Whether `node` satisfies the selector and one of the terms.
    pub fn matches(&self, node: &NodeInfo) -> bool {
        self.selector
            .as_ref()
            .is_none_or(|s| s.matches(&node.labels))
            && self
                .terms
                .as_ref()
                .is_none_or(|terms| terms.iter().any(|t| t.matches(node)))
    }
}

/// The summed weights of the pod's preferred terms `node` matches.
pub fn preferred_score(terms: &[(i64, Term)], node: &NodeInfo) -> i64 {
    terms
        .iter()
        .filter(|(_, t)| t.matches(node))
        .map(|(w, _)| w)
        .sum()
}

fn preferred_terms(spec: &PodSpec) -> Vec<(i64, Term)> {
    spec.affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
        .filter(|p| p.weight != 0)
        .map(|p| (i64::from(p.weight), Term::new(&p.preference)))
        .collect()
}

struct Preferred(Vec<(i64, Term)>);

impl Plugin for NodeAffinity {
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

impl FilterPlugin for NodeAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, _: &Cache) -> Status {
        let required = RequiredNodeAffinity::new(pod.spec());
        if required.is_empty() {
            return Status::skip();
        }
        state.write(NAME, required);
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let fits = match state.read::<RequiredNodeAffinity>(NAME) {
            Some(r) => r.matches(node),
            None => RequiredNodeAffinity::new(pod.spec()).matches(node),
        };
        if fits {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &Cache,
    ) -> Status {
        let terms = preferred_terms(pod.spec());
        if terms.is_empty() {
            return Status::skip();
        }
        state.write(NAME, Preferred(terms));
        Status::success()
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        state
            .read::<Preferred>(NAME)
            .map_or(0, |p| preferred_score(&p.0, node))
    }

    fn normalize(&self, _: &CycleState, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize(scores, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_with, pod_with, spec};
    use k8s_openapi::api::core::v1::{
        Affinity, NodeAffinity as Api, NodeSelector, PreferredSchedulingTerm,
    };
    use std::collections::BTreeMap;

    fn labelled(name: &str, labels: &[(&str, &str)]) -> NodeInfo {
        node_with(name, |n| {
            let l = n.metadata.labels.get_or_insert_default();
            for (k, v) in labels {
                l.insert(k.to_string(), v.to_string());
            }
        })
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn required(terms: Vec<NodeSelectorTerm>) -> RequiredNodeAffinity {
        RequiredNodeAffinity::new(&PodSpec {
            affinity: Some(Affinity {
                node_affinity: Some(Api {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: terms,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    #[test]
    fn node_selector_needs_every_label() {
        let p = pod_with("p", |p| {
            spec(p).node_selector = Some(BTreeMap::from([
                ("disk".into(), "ssd".into()),
                ("zone".into(), "a".into()),
            ]))
        });
        let r = RequiredNodeAffinity::new(p.spec());
        assert!(r.matches(&labelled("n", &[("disk", "ssd"), ("zone", "a")])));
        assert!(!r.matches(&labelled("n", &[("disk", "ssd")])));
    }

    #[test]
    fn required_terms_are_ored_and_their_expressions_anded() {
        let r = required(vec![
            NodeSelectorTerm {
                match_expressions: Some(vec![
                    expr("zone", "In", &["a", "b"]),
                    expr("gpu", "DoesNotExist", &[]),
                ]),
                ..Default::default()
            },
            NodeSelectorTerm {
                match_expressions: Some(vec![expr("cores", "Gt", &["8"])]),
                ..Default::default()
            },
        ]);
        assert!(r.matches(&labelled("n", &[("zone", "a")])));
        assert!(!r.matches(&labelled("n", &[("zone", "a"), ("gpu", "1")])));
        assert!(r.matches(&labelled("n", &[("cores", "16")])));
        assert!(!r.matches(&labelled("n", &[("cores", "4")])));
        assert!(!r.matches(&labelled("n", &[("zone", "c")])));
    }

    #[test]
    fn match_fields_select_by_node_name_and_empty_terms_match_nothing() {
        let r = required(vec![NodeSelectorTerm {
            match_fields: Some(vec![expr("metadata.name", "In", &["n1"])]),
            ..Default::default()
        }]);
        assert!(r.matches(&labelled("n1", &[])));
        assert!(!r.matches(&labelled("n2", &[])));
        assert!(!required(vec![NodeSelectorTerm::default()]).matches(&labelled("n1", &[])));
    }

    #[test]
    fn preferred_terms_add_their_weights() {
        let spec = PodSpec {
            affinity: Some(Affinity {
                node_affinity: Some(Api {
                    preferred_during_scheduling_ignored_during_execution: Some(vec![
                        PreferredSchedulingTerm {
                            weight: 10,
                            preference: NodeSelectorTerm {
                                match_expressions: Some(vec![expr("zone", "In", &["a"])]),
                                ..Default::default()
                            },
                        },
                        PreferredSchedulingTerm {
                            weight: 5,
                            preference: NodeSelectorTerm {
                                match_expressions: Some(vec![expr("disk", "Exists", &[])]),
                                ..Default::default()
                            },
                        },
                    ]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let terms = preferred_terms(&spec);
        assert_eq!(
            preferred_score(&terms, &labelled("n", &[("zone", "a"), ("disk", "x")])),
            15
        );
        assert_eq!(preferred_score(&terms, &labelled("n", &[("disk", "x")])), 5);
        assert_eq!(preferred_score(&terms, &labelled("n", &[])), 0);
    }
}

//! What the scheduler needs to know about a pod, computed once per version
//! of the pod (upstream's `framework.PodInfo`): its requests, host ports
//! and parsed (anti-)affinity terms.

use std::collections::{BTreeMap, BTreeSet};

use ironclad_api::selector::{LabelSelector, Operator, Requirement};
use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, PodSpec};

use crate::resources::{NonZero, Resources, pod_non_zero, pod_requests};

/// A host port a container asks for (`hostIP` defaults to 0.0.0.0 and the
/// protocol to TCP, as the API defaults them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// TCP, UDP or SCTP.
    pub protocol: String,
    /// The host address, `0.0.0.0` for all.
    pub ip: String,
    /// The port.
    pub port: i32,
}

/// A required pod (anti-)affinity term, parsed: which pods it selects and
/// the topology it is about.
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    /// The pods' labels must match this.
    pub selector: LabelSelector,
    /// The pods must be in one of these namespaces...
    pub namespaces: BTreeSet<String>,
    /// ...unless the term selects every namespace (`namespaceSelector: {}`).
    pub all_namespaces: bool,
    /// The node label whose value defines a domain.
    pub topology_key: String,
}

/// A pod and what the scheduler derived from it.
#[derive(Debug, Clone)]
pub struct PodInfo {
    /// The object.
    pub pod: Pod,
    /// `namespace/name`.
    pub key: String,
    /// metadata.namespace.
    pub namespace: String,
    /// metadata.name.
    pub name: String,
    /// metadata.uid.
    pub uid: String,
    /// metadata.labels.
    pub labels: BTreeMap<String, String>,
    /// What fit is checked with.
    pub requests: Resources,
    /// What scores are computed with.
    pub non_zero: NonZero,
    /// The host ports of its containers.
    pub host_ports: Vec<HostPort>,
    /// Required pod affinity terms.
    pub required_affinity: Vec<AffinityTerm>,
    /// Required pod anti-affinity terms.
    pub required_anti_affinity: Vec<AffinityTerm>,
    /// spec.priority (0 when unset).
    pub priority: i32,
    /// The uid of the controller that owns it, if any.
    pub controller_uid: Option<String>,
}

// === impl PodInfo ===

impl PodInfo {
    /// Derives everything from `pod`.
    pub fn new(pod: Pod) -> PodInfo {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let empty = PodSpec::default();
        let spec = pod.spec.as_ref().unwrap_or(&empty);
        let terms = |list: Option<&Vec<PodAffinityTerm>>| -> Vec<AffinityTerm> {
            list.into_iter()
                .flatten()
                .map(|t| AffinityTerm::new(t, &namespace, &labels))
                .collect()
        };
        let affinity = spec.affinity.as_ref();
        let required_affinity = terms(affinity.and_then(|a| a.pod_affinity.as_ref()).and_then(
            |a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            },
        ));
        let required_anti_affinity = terms(
            affinity
                .and_then(|a| a.pod_anti_affinity.as_ref())
                .and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
        );
        let controller_uid = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(|o| o.uid.clone());
        PodInfo {
            key: format!("{namespace}/{name}"),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            requests: pod_requests(spec),
            non_zero: pod_non_zero(spec),
            host_ports: host_ports(spec),
            priority: spec.priority.unwrap_or(0),
            required_affinity,
            required_anti_affinity,
            controller_uid,
            labels,
            namespace,
            name,
            pod,
        }
    }

    /// The pod's spec (an empty one when absent).
    pub fn spec(&self) -> &PodSpec {
        static EMPTY: std::sync::OnceLock<PodSpec> = std::sync::OnceLock::new();
        self.pod
            .spec
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(PodSpec::default))
    }

    /// spec.nodeName, when set.
    pub fn node_name(&self) -> Option<&str> {
        self.spec().node_name.as_deref().filter(|n| !n.is_empty())
    }
}

fn host_ports(spec: &PodSpec) -> Vec<HostPort> {
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    spec.containers
        .iter()
        .chain(sidecars)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|p| *p > 0)?;
            Some(HostPort {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                ip: p
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".into()),
                port,
            })
        })
        .collect()
}

// === impl AffinityTerm ===

impl AffinityTerm {
    /// Parses `term` of a pod in `namespace` with `labels` (for
    /// matchLabelKeys / mismatchLabelKeys). An invalid selector selects
    /// nothing.
    pub fn new(
        term: &PodAffinityTerm,
        namespace: &str,
        labels: &BTreeMap<String, String>,
    ) -> AffinityTerm {
        let mut selector = LabelSelector::from_k8s_opt(term.label_selector.as_ref())
            .unwrap_or_else(|_| LabelSelector::nothing());
        if !selector.is_nothing() {
            let mut reqs = selector.requirements().to_vec();
            let keyed = |keys: Option<&Vec<String>>, op| {
                keys.into_iter()
                    .flatten()
                    .filter_map(|k| {
                        let v = labels.get(k)?;
                        Requirement::new(k.clone(), op, vec![v.clone()]).ok()
                    })
                    .collect::<Vec<_>>()
            };
            reqs.extend(keyed(term.match_label_keys.as_ref(), Operator::In));
            reqs.extend(keyed(term.mismatch_label_keys.as_ref(), Operator::NotIn));
            selector = LabelSelector::from_requirements(reqs);
        }
        let mut namespaces: BTreeSet<String> = term.namespaces.iter().flatten().cloned().collect();
        let all_namespaces = term.namespace_selector.as_ref().is_some_and(|s| {
            s.match_labels.as_ref().is_none_or(|m| m.is_empty())
                && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
        });
        if namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.insert(namespace.to_string());
        }
        AffinityTerm {
            selector,
            namespaces,
            all_namespaces,
            topology_key: term.topology_key.clone(),
        }
    }

    /// Whether the term selects `pod`. A non-empty namespaceSelector is
    /// not evaluated (the scheduler does not watch namespaces): only the
    /// listed namespaces count then.
    pub fn matches(&self, pod: &PodInfo) -> bool {
        (self.all_namespaces || self.namespaces.contains(&pod.namespace))
            && self.selector.matches(&pod.labels)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as Sel, ObjectMeta};

    fn pod(ns: &str, labels: &[(&str, &str)]) -> PodInfo {
        PodInfo::new(Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some(ns.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    fn term(app: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(Sel {
                match_labels: Some(BTreeMap::from([("app".into(), app.into())])),
                ..Default::default()
            }),
            topology_key: "kubernetes.io/hostname".into(),
            ..Default::default()
        }
    }

    #[test]
    fn terms_default_to_the_pods_own_namespace() {
        let t = AffinityTerm::new(&term("web"), "a", &BTreeMap::new());
        assert!(t.matches(&pod("a", &[("app", "web")])));
        assert!(!t.matches(&pod("b", &[("app", "web")])));
        assert!(!t.matches(&pod("a", &[("app", "db")])));
    }

    #[test]
    fn an_empty_namespace_selector_selects_every_namespace() {
        let mut raw = term("web");
        raw.namespace_selector = Some(Sel::default());
        let t = AffinityTerm::new(&raw, "a", &BTreeMap::new());
        assert!(t.matches(&pod("b", &[("app", "web")])));
    }

    #[test]
    fn match_label_keys_narrow_to_the_pods_own_value() {
        let mut raw = term("web");
        raw.match_label_keys = Some(vec!["rev".into()]);
        let own = BTreeMap::from([("rev".to_string(), "1".to_string())]);
        let t = AffinityTerm::new(&raw, "a", &own);
        assert!(t.matches(&pod("a", &[("app", "web"), ("rev", "1")])));
        assert!(!t.matches(&pod("a", &[("app", "web"), ("rev", "2")])));
    }

    #[test]
    fn host_ports_default_their_protocol_and_address() {
        use k8s_openapi::api::core::v1::{Container, ContainerPort};
        let p = PodInfo::new(Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![
                        ContainerPort {
                            container_port: 80,
                            host_port: Some(8080),
                            ..Default::default()
                        },
                        ContainerPort {
                            container_port: 81,
                            ..Default::default()
                        },
                    ]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            p.host_ports,
            vec![HostPort {
                protocol: "TCP".into(),
                ip: "0.0.0.0".into(),
                port: 8080
            }]
        );
    }
}

//! What the service and node controllers share about pods: readiness,
//! whether a pod backs a Service and on which port (upstream's
//! `podutil` and `endpointsliceutil`), plus the cache and work-queue
//! plumbing those controllers run on.

pub mod cache;
pub mod queue;
pub mod triggertime;

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::runtime::reflector::{ObjectRef, Store};

/// The `Ready` condition of a pod is `True`.
pub fn is_pod_ready(pod: &Pod) -> bool {
    condition_true(pod, "Ready")
}

/// Whether the pod condition `type_` is `True`.
pub fn condition_true(pod: &Pod, type_: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == type_))
        .is_some_and(|c| c.status == "True")
}

/// The pod has finished: phase `Succeeded` or `Failed`.
pub fn is_pod_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// The pod's phase, "" when unknown.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// The pod's node, "" when unscheduled.
pub fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// The pod is being deleted.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// The pod's IPs: `status.podIPs`, else `status.podIP`.
pub fn pod_ips(pod: &Pod) -> Vec<&str> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let ips: Vec<&str> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|ip| ip.ip.as_str())
        .filter(|ip| !ip.is_empty())
        .collect();
    if !ips.is_empty() {
        return ips;
    }
    status
        .pod_ip
        .as_deref()
        .filter(|ip| !ip.is_empty())
        .into_iter()
        .collect()
}

/// Upstream's `ShouldPodBeInEndpoints`: not terminal, has an IP, and is not
/// being deleted unless terminating pods are wanted.
pub fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if is_pod_terminal(pod) || pod_ips(pod).is_empty() {
        return false;
    }
    include_terminating || !is_terminating(pod)
}

/// Upstream's `ShouldSetHostname`: the pod's hostname is published when its
/// subdomain names this Service (in the same namespace).
pub fn should_set_hostname(pod: &Pod, svc: &Service) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    spec.hostname.as_deref().is_some_and(|h| !h.is_empty())
        && spec.subdomain.as_deref() == svc.metadata.name.as_deref()
        && pod.metadata.namespace == svc.metadata.namespace
}

/// The service's IP family as upstream picks the endpoint address:
/// `ipFamilies[0]`, else the clusterIP's family, else the pod IP's.
pub fn wants_ipv6(svc: &Service, pod: &Pod) -> bool {
    let spec = svc.spec.as_ref();
    if let Some(first) = spec
        .and_then(|s| s.ip_families.as_ref())
        .and_then(|f| f.first())
    {
        return first == "IPv6";
    }
    match spec.and_then(|s| s.cluster_ip.as_deref()) {
        Some(ip) if !ip.is_empty() && ip != "None" => ip.contains(':'),
        _ => pod_ips(pod).first().is_some_and(|ip| ip.contains(':')),
    }
}

/// The pod IP an endpoint for `svc` uses: the first of the service's family.
pub fn endpoint_ip<'a>(svc: &Service, pod: &'a Pod) -> Option<&'a str> {
    let v6 = wants_ipv6(svc, pod);
    pod_ips(pod).into_iter().find(|ip| ip.contains(':') == v6)
}

/// Upstream's `FindPort`: the container port a service port targets on
/// this pod; a name is looked up among the containers' (and sidecars')
/// ports of the same protocol.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let target = port
        .target_port
        .clone()
        .unwrap_or(IntOrString::Int(port.port));
    match target {
        IntOrString::Int(n) => Some(n),
        IntOrString::String(name) => {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            let spec = pod.spec.as_ref()?;
            let sidecars = spec
                .init_containers
                .iter()
                .flatten()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            spec.containers
                .iter()
                .chain(sidecars)
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|p| p.container_port)
        }
    }
}

/// Whether a plain label map selector (a Service's) selects `labels`. An
/// empty selector selects everything; a missing one (not this function's
/// business) selects nothing.
pub fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The Services with a selector in `pod`'s namespace that select it
/// (upstream's `GetPodServiceMemberships`).
pub fn services_selecting(services: &Store<Service>, pod: &Pod) -> Vec<ObjectRef<Service>> {
    let ns = pod.metadata.namespace.as_deref();
    services
        .state()
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == ns)
        .filter(|s| {
            s.spec
                .as_ref()
                .and_then(|sp| sp.selector.as_ref())
                .is_some_and(|sel| selector_matches(sel, pod.metadata.labels.as_ref()))
        })
        .map(|s| ObjectRef::from_obj(&**s))
        .collect()
}

/// The pods of `namespace` that a Service's `selector` selects.
pub fn pods_selected(
    pods: &Store<Pod>,
    namespace: &str,
    selector: &BTreeMap<String, String>,
) -> Vec<Arc<Pod>> {
    pods.state()
        .into_iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(namespace))
        .filter(|p| selector_matches(selector, p.metadata.labels.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, PodStatus};

    fn pod_with_ports(ports: Vec<ContainerPort>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(ports),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ip: Some("10.0.0.1".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn named(name: &str, port: i32, protocol: &str) -> ContainerPort {
        ContainerPort {
            name: Some(name.into()),
            container_port: port,
            protocol: Some(protocol.into()),
            ..Default::default()
        }
    }

    #[test]
    fn named_ports_match_name_and_protocol() {
        let pod = pod_with_ports(vec![named("http", 8080, "UDP"), named("http", 8081, "TCP")]);
        let port = ServicePort {
            port: 80,
            target_port: Some(IntOrString::String("http".into())),
            protocol: Some("TCP".into()),
            ..Default::default()
        };
        assert_eq!(find_port(&pod, &port), Some(8081));
        let missing = ServicePort {
            target_port: Some(IntOrString::String("grpc".into())),
            ..port.clone()
        };
        assert_eq!(find_port(&pod, &missing), None);
        let number = ServicePort {
            target_port: Some(IntOrString::Int(9000)),
            ..port
        };
        assert_eq!(find_port(&pod, &number), Some(9000));
    }

    #[test]
    fn pods_in_endpoints() {
        let mut pod = pod_with_ports(vec![]);
        assert!(should_pod_be_in_endpoints(&pod, false));
        pod.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ));
        assert!(!should_pod_be_in_endpoints(&pod, false));
        assert!(should_pod_be_in_endpoints(&pod, true));
        pod.status.as_mut().unwrap().phase = Some("Succeeded".into());
        assert!(!should_pod_be_in_endpoints(&pod, true));
    }

    #[test]
    fn empty_selector_selects_everything() {
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        assert!(selector_matches(&BTreeMap::new(), None));
        assert!(selector_matches(&labels, Some(&labels)));
        assert!(!selector_matches(&labels, None));
    }
}

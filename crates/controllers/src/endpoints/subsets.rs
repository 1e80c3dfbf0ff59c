//! The subsets of an Endpoints object as upstream builds them: one address
//! per pod and service port, repacked so that addresses offering the same
//! set of ports share a subset, sorted; truncated beyond 1000 addresses.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, ObjectReference, Pod, Service,
};

use crate::pods;

/// Most addresses an Endpoints object holds (upstream's `maxCapacity`).
pub const MAX_CAPACITY: usize = 1000;

/// One address with the one port it was found for (`None`: a headless
/// service without ports), ready or not.
struct Single {
    address: EndpointAddress,
    port: Option<EndpointPort>,
    ready: bool,
}

/// The subsets `svc` should have for the pods its selector selects.
pub fn desired(svc: &Service, pods: &[Arc<Pod>]) -> Vec<EndpointSubset> {
    let spec = svc.spec.clone().unwrap_or_default();
    let publish = spec.publish_not_ready_addresses.unwrap_or(false);
    let ports = spec.ports.clone().unwrap_or_default();
    let headless = spec.cluster_ip.as_deref() == Some("None");
    let mut singles = Vec::new();
    for pod in pods {
        if !pods::should_pod_be_in_endpoints(pod, publish) {
            continue;
        }
        let Some(ip) = pods::endpoint_ip(svc, pod) else {
            continue;
        };
        let address = EndpointAddress {
            ip: ip.to_string(),
            node_name: Some(pods::node_name(pod).to_string()),
            hostname: pods::should_set_hostname(pod, svc)
                .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
                .flatten(),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                namespace: pod.metadata.namespace.clone(),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            }),
        };
        let ready = publish || pods::is_pod_ready(pod);
        if ports.is_empty() {
            if headless {
                singles.push(Single {
                    address,
                    port: None,
                    ready,
                });
            }
            continue;
        }
        for sp in &ports {
            let Some(number) = pods::find_port(pod, sp) else {
                continue;
            };
            singles.push(Single {
                address: address.clone(),
                port: Some(EndpointPort {
                    name: sp.name.clone().filter(|n| !n.is_empty()),
                    port: number,
                    protocol: sp.protocol.clone(),
                    app_protocol: sp.app_protocol.clone(),
                }),
                ready,
            });
        }
    }
    repack(singles)
}

/// Upstream's `RepackSubsets` of subsets as someone wrote them (the
/// mirroring controller's canonical form of user Endpoints).
pub fn repack_existing(subsets: &[EndpointSubset]) -> Vec<EndpointSubset> {
    let mut singles = Vec::new();
    for s in subsets {
        let ports: Vec<Option<EndpointPort>> = match s.ports.as_deref() {
            Some(p) if !p.is_empty() => p.iter().cloned().map(Some).collect(),
            _ => vec![None],
        };
        for port in &ports {
            let ready = s.addresses.iter().flatten().map(|a| (a, true));
            let not_ready = s.not_ready_addresses.iter().flatten().map(|a| (a, false));
            for (a, ready) in ready.chain(not_ready) {
                singles.push(Single {
                    address: a.clone(),
                    port: port.clone(),
                    ready,
                });
            }
        }
    }
    repack(singles)
}

/// An address's identity: IP, then the pod's uid.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct AddrKey {
    ip: String,
    uid: String,
}

/// A port's identity; `port: -1` is the sentinel of "no ports".
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PortKey {
    name: Option<String>,
    port: i32,
    protocol: Option<String>,
    app_protocol: Option<String>,
}

/// Upstream's `RepackSubsets`: group addresses by the set of ports they
/// offer (a not-ready address stays not ready for a port), then sort.
fn repack(singles: Vec<Single>) -> Vec<EndpointSubset> {
    let mut addresses: HashMap<AddrKey, EndpointAddress> = HashMap::new();
    let mut by_port: BTreeMap<PortKey, BTreeMap<AddrKey, bool>> = BTreeMap::new();
    for s in singles {
        let key = AddrKey {
            ip: s.address.ip.clone(),
            uid: s
                .address
                .target_ref
                .as_ref()
                .and_then(|r| r.uid.clone())
                .unwrap_or_default(),
        };
        addresses.entry(key.clone()).or_insert(s.address);
        let port = match s.port {
            Some(p) => PortKey {
                name: p.name,
                port: p.port,
                protocol: p.protocol,
                app_protocol: p.app_protocol,
            },
            None => PortKey {
                name: None,
                port: -1,
                protocol: None,
                app_protocol: None,
            },
        };
        let ready = by_port
            .entry(port)
            .or_default()
            .entry(key)
            .or_insert(s.ready);
        // Not ready trumps ready.
        *ready = *ready && s.ready;
    }
    let mut groups: BTreeMap<Vec<(AddrKey, bool)>, Vec<PortKey>> = BTreeMap::new();
    for (port, addrs) in by_port {
        let ports = groups.entry(addrs.into_iter().collect()).or_default();
        if port.port > 0 {
            ports.push(port);
        }
    }
    groups
        .into_iter()
        .map(|(addrs, ports)| {
            let (mut ready, mut not_ready) = (Vec::new(), Vec::new());
            for (key, is_ready) in addrs {
                let Some(a) = addresses.get(&key) else {
                    continue;
                };
                if is_ready {
                    ready.push(a.clone());
                } else {
                    not_ready.push(a.clone());
                }
            }
            EndpointSubset {
                addresses: some_if_any(ready),
                not_ready_addresses: some_if_any(not_ready),
                ports: some_if_any(
                    ports
                        .into_iter()
                        .map(|p| EndpointPort {
                            name: p.name,
                            port: p.port,
                            protocol: p.protocol,
                            app_protocol: p.app_protocol,
                        })
                        .collect(),
                ),
            }
        })
        .collect()
}

fn some_if_any<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// Subsets as compared: empty lists as absent, target references without
/// their resourceVersion (a pod's unrelated updates change nothing).
pub fn normalized(subsets: Option<&Vec<EndpointSubset>>) -> Vec<EndpointSubset> {
    let clean = |list: &Option<Vec<EndpointAddress>>| {
        let list: Vec<EndpointAddress> = list
            .iter()
            .flatten()
            .cloned()
            .map(|mut a| {
                if let Some(r) = a.target_ref.as_mut() {
                    r.resource_version = None;
                }
                a
            })
            .collect();
        some_if_any(list)
    };
    subsets
        .into_iter()
        .flatten()
        .map(|s| EndpointSubset {
            addresses: clean(&s.addresses),
            not_ready_addresses: clean(&s.not_ready_addresses),
            ports: s.ports.clone().filter(|p| !p.is_empty()),
        })
        .collect()
}

/// How many addresses (ready or not) the subsets hold.
pub fn count(subsets: &[EndpointSubset]) -> usize {
    subsets
        .iter()
        .map(|s| {
            s.addresses.as_ref().map_or(0, Vec::len)
                + s.not_ready_addresses.as_ref().map_or(0, Vec::len)
        })
        .sum()
}

/// Upstream's `truncateEndpoints`: keeps at most [`MAX_CAPACITY`]
/// addresses, ready ones first, each subset its proportional share.
/// Returns whether anything was cut.
pub fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let ready: usize = subsets
        .iter()
        .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
        .sum();
    let not_ready: usize = subsets
        .iter()
        .map(|s| s.not_ready_addresses.as_ref().map_or(0, Vec::len))
        .sum();
    if ready + not_ready <= MAX_CAPACITY {
        return false;
    }
    let truncate_ready = ready > MAX_CAPACITY;
    let (max, total) = if truncate_ready {
        (MAX_CAPACITY, ready)
    } else {
        (MAX_CAPACITY - ready, not_ready)
    };
    let mut room = max;
    for s in subsets.iter_mut() {
        let list = if truncate_ready {
            s.not_ready_addresses = None;
            &mut s.addresses
        } else {
            &mut s.not_ready_addresses
        };
        let here = list.as_ref().map_or(0, Vec::len);
        let share = (here * max).div_ceil(total.max(1)).min(room);
        if let Some(l) = list.as_mut() {
            l.truncate(share);
        }
        room -= list.as_ref().map_or(0, Vec::len);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(ip: &str, port: Option<i32>, ready: bool) -> Single {
        Single {
            address: EndpointAddress {
                ip: ip.into(),
                target_ref: Some(ObjectReference {
                    uid: Some(format!("uid-{ip}")),
                    ..Default::default()
                }),
                ..Default::default()
            },
            port: port.map(|p| EndpointPort {
                name: Some(format!("p{p}")),
                port: p,
                protocol: Some("TCP".into()),
                app_protocol: None,
            }),
            ready,
        }
    }

    fn ips(list: &Option<Vec<EndpointAddress>>) -> Vec<&str> {
        list.iter().flatten().map(|a| a.ip.as_str()).collect()
    }

    #[test]
    fn groups_addresses_by_port_set() {
        let subsets = repack(vec![
            single("10.0.0.2", Some(80), true),
            single("10.0.0.2", Some(443), true),
            single("10.0.0.1", Some(80), true),
            single("10.0.0.1", Some(443), true),
            single("10.0.0.3", Some(80), false),
        ]);
        // Port 80's addresses differ from 443's (10.0.0.3), so each port
        // gets its own subset; equal address sets would share one.
        assert_eq!(subsets.len(), 2);
        let port = |s: &EndpointSubset| s.ports.as_ref().unwrap()[0].port;
        let p80 = subsets.iter().find(|s| port(s) == 80).unwrap();
        assert_eq!(ips(&p80.addresses), ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(ips(&p80.not_ready_addresses), ["10.0.0.3"]);
        let p443 = subsets.iter().find(|s| port(s) == 443).unwrap();
        assert_eq!(ips(&p443.addresses), ["10.0.0.1", "10.0.0.2"]);
        assert!(p443.not_ready_addresses.is_none());

        let shared = repack(vec![
            single("10.0.0.1", Some(80), true),
            single("10.0.0.1", Some(443), true),
        ]);
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].ports.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn headless_without_ports_keeps_addresses() {
        let subsets = repack(vec![
            single("10.0.0.1", None, true),
            single("10.0.0.2", None, false),
        ]);
        assert_eq!(subsets.len(), 1);
        assert!(subsets[0].ports.is_none());
        assert_eq!(ips(&subsets[0].addresses), ["10.0.0.1"]);
        assert_eq!(ips(&subsets[0].not_ready_addresses), ["10.0.0.2"]);
    }

    #[test]
    fn truncates_not_ready_first() {
        let mut subsets = vec![EndpointSubset {
            addresses: Some(vec![EndpointAddress::default(); 900]),
            not_ready_addresses: Some(vec![EndpointAddress::default(); 300]),
            ports: None,
        }];
        assert!(truncate(&mut subsets));
        assert_eq!(count(&subsets), MAX_CAPACITY);
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 900);
    }
}

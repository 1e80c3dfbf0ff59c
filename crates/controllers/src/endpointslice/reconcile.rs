//! What to create, update and delete so that a Service's EndpointSlices
//! hold its pods, as upstream's reconciler decides it: per address type and
//! per set of resolved ports, keep endpoints where they are, update slices
//! that changed, fill slices being updated anyway, then the fullest
//! unchanged slice that fits, then new slices of at most `max` endpoints;
//! an empty Service keeps one placeholder slice. No I/O here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::{CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME};
use crate::endpoints::LABEL_HEADLESS;
use crate::pods;

/// The node label whose value becomes an endpoint's zone.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// The writes that bring a Service's slices to the desired state.
#[derive(Debug, Default)]
pub struct Plan {
    /// New slices (named by the server from `generateName`).
    pub create: Vec<EndpointSlice>,
    /// Changed slices (with the resourceVersion they were read at).
    pub update: Vec<EndpointSlice>,
    /// Slices to delete.
    pub delete: Vec<EndpointSlice>,
    /// Pods left out for now (their node is unknown): retry later.
    pub skipped: Vec<String>,
}

/// A resolved port, as a comparable key.
type PortKey = Vec<(String, i32, String, String)>;

fn port_key(ports: &[EndpointPort]) -> PortKey {
    let mut k: PortKey = ports
        .iter()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.port.unwrap_or(0),
                p.protocol.clone().unwrap_or_default(),
                p.app_protocol.clone().unwrap_or_default(),
            )
        })
        .collect();
    k.sort();
    k
}

/// An endpoint's identity (upstream's endpoint hash): addresses,
/// hostname, and the pod it stands for.
type EndpointKey = (Vec<String>, String, String, String);

fn endpoint_key(ep: &Endpoint) -> EndpointKey {
    let mut addrs = ep.addresses.clone();
    addrs.sort();
    let r = ep.target_ref.as_ref();
    (
        addrs,
        ep.hostname.clone().unwrap_or_default(),
        r.and_then(|r| r.namespace.clone()).unwrap_or_default(),
        r.and_then(|r| r.name.clone()).unwrap_or_default(),
    )
}

/// Endpoints compared beyond their identity (conditions, node, zone,
/// target), ignoring the target's resourceVersion.
fn same_endpoint(a: &Endpoint, b: &Endpoint) -> bool {
    let clean = |e: &Endpoint| {
        let mut e = e.clone();
        e.addresses.sort();
        if let Some(r) = e.target_ref.as_mut() {
            r.resource_version = None;
        }
        e
    };
    clean(a) == clean(b)
}

/// The address types a Service's endpoints use (upstream's
/// `getAddressTypesForService`).
pub fn address_types(svc: &Service) -> BTreeSet<&'static str> {
    let spec = svc.spec.as_ref();
    let mut types: BTreeSet<&'static str> = spec
        .and_then(|s| s.ip_families.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|f| match f.as_str() {
            "IPv4" => Some("IPv4"),
            "IPv6" => Some("IPv6"),
            _ => None,
        })
        .collect();
    if !types.is_empty() {
        return types;
    }
    match spec.and_then(|s| s.cluster_ip.as_deref()) {
        Some(ip) if !ip.is_empty() && ip != "None" => {
            types.insert(if ip.contains(':') { "IPv6" } else { "IPv4" });
        }
        // Headless without families: both.
        _ => {
            types.insert("IPv4");
            types.insert("IPv6");
        }
    }
    types
}

/// The labels a slice of `svc` carries: the Service's (minus reserved
/// ones), the service name, the manager and the headless mark.
pub fn slice_labels(svc: &Service) -> BTreeMap<String, String> {
    let reserved = [LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS];
    let mut labels: BTreeMap<String, String> = svc
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !reserved.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let headful = svc
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .is_some_and(|ip| !ip.is_empty() && ip != "None");
    if !headful {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    }
    labels.insert(
        LABEL_SERVICE_NAME.into(),
        svc.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    labels
}

/// Whether the slice's controller owner is this Service.
pub fn owned_by(slice: &EndpointSlice, svc: &Service) -> bool {
    slice.metadata.owner_references.iter().flatten().any(|o| {
        Some(&o.uid) == svc.metadata.uid.as_ref() && o.kind == "Service" && o.api_version == "v1"
    })
}

/// The ports a pod offers for the Service's ports (unresolvable ones left
/// out); none for a headless Service without ports.
fn endpoint_ports(svc: &Service, pod: &Pod) -> Vec<EndpointPort> {
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    ports
        .iter()
        .filter_map(|sp| {
            let number = pods::find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(number),
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

/// Upstream's `podToEndpoint`.
fn pod_endpoint(pod: &Pod, node: Option<&Node>, svc: &Service, address_type: &str) -> Endpoint {
    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let serving = pods::is_pod_ready(pod);
    let terminating = pods::is_terminating(pod);
    let v6 = address_type == "IPv6";
    let node_name = pods::node_name(pod);
    Endpoint {
        addresses: pods::pod_ips(pod)
            .into_iter()
            .filter(|ip| ip.contains(':') == v6)
            .map(str::to_string)
            .collect(),
        conditions: Some(EndpointConditions {
            // Never ready while terminating, unless everything is published.
            ready: Some(publish || (serving && !terminating)),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        node_name: (!node_name.is_empty()).then(|| node_name.to_string()),
        zone: node
            .and_then(|n| n.metadata.labels.as_ref())
            .and_then(|l| l.get(LABEL_ZONE))
            .filter(|z| !z.is_empty())
            .cloned(),
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
        ..Default::default()
    }
}

/// A new slice of `svc` (upstream's `newEndpointSlice`).
fn new_slice(svc: &Service, ports: Vec<EndpointPort>, address_type: &str) -> EndpointSlice {
    let name = svc.metadata.name.clone().unwrap_or_default();
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: svc.metadata.namespace.clone(),
            labels: Some(slice_labels(svc)),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Service".into(),
                name,
                uid: svc.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        address_type: address_type.into(),
        endpoints: Vec::new(),
        ports: Some(ports),
    }
}

/// Decides the writes for `svc`, whose selector selects `selected`, given
/// its current slices (`existing`, those of this controller) and a node
/// lookup. `max` is the most endpoints a slice holds.
pub fn plan(
    svc: &Service,
    selected: &[Arc<Pod>],
    node: &dyn Fn(&str) -> Option<Arc<Node>>,
    existing: &[Arc<EndpointSlice>],
    max: usize,
) -> Plan {
    let types = address_types(svc);
    let mut plan = Plan::default();
    let mut by_type: BTreeMap<&str, Vec<&EndpointSlice>> = BTreeMap::new();
    for s in existing {
        match types.get(s.address_type.as_str()) {
            Some(t) => by_type.entry(t).or_default().push(s),
            None => plan.delete.push((**s).clone()),
        }
    }
    for t in &types {
        let slices = by_type.remove(t).unwrap_or_default();
        by_address_type(svc, selected, node, &slices, t, max, &mut plan);
    }
    plan.skipped.sort();
    plan.skipped.dedup();
    recycle(svc, &mut plan);
    plan
}

/// The desired endpoints of one port set.
struct Desired {
    ports: Vec<EndpointPort>,
    endpoints: BTreeMap<EndpointKey, Endpoint>,
}

fn by_address_type(
    svc: &Service,
    selected: &[Arc<Pod>],
    node: &dyn Fn(&str) -> Option<Arc<Node>>,
    existing: &[&EndpointSlice],
    address_type: &str,
    max: usize,
    plan: &mut Plan,
) {
    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let mut deletes = Vec::new();
    let mut existing_by_ports: BTreeMap<PortKey, Vec<&EndpointSlice>> = BTreeMap::new();
    for s in existing {
        if owned_by(s, svc) {
            let key = port_key(s.ports.as_deref().unwrap_or_default());
            existing_by_ports.entry(key).or_default().push(s);
        } else {
            deletes.push((*s).clone());
        }
    }

    let mut desired: BTreeMap<PortKey, Desired> = BTreeMap::new();
    for pod in selected {
        // Terminating pods stay, marked terminating.
        if !pods::should_pod_be_in_endpoints(pod, true) {
            continue;
        }
        let ports = endpoint_ports(svc, pod);
        let key = port_key(&ports);
        let entry = desired.entry(key).or_insert_with(|| Desired {
            ports,
            endpoints: BTreeMap::new(),
        });
        let node_name = pods::node_name(pod);
        let n = node(node_name);
        if n.is_none() && !publish {
            // Upstream: skip the pod and retry the Service later, so a pod
            // bound to a vanished node cannot pin the slices forever.
            plan.skipped.push(format!(
                "skipping Pod {} for Service {}/{}: Node {node_name} Not Found",
                pod.metadata.name.as_deref().unwrap_or_default(),
                svc.metadata.namespace.as_deref().unwrap_or_default(),
                svc.metadata.name.as_deref().unwrap_or_default(),
            ));
            continue;
        }
        let ep = pod_endpoint(pod, n.as_deref(), svc, address_type);
        if !ep.addresses.is_empty() {
            entry.endpoints.insert(endpoint_key(&ep), ep);
        }
    }

    let mut creates = Vec::new();
    let mut updates = Vec::new();
    for (key, d) in &mut desired {
        let slices = existing_by_ports.get(key).cloned().unwrap_or_default();
        let (c, u, del) = by_port_mapping(svc, &slices, d, address_type, max);
        creates.extend(c);
        updates.extend(u);
        deletes.extend(del);
    }
    for (key, slices) in &existing_by_ports {
        if !desired.contains_key(key) {
            deletes.extend(slices.iter().map(|s| (*s).clone()));
        }
    }

    // An empty Service keeps one placeholder slice.
    if existing.len() == deletes.len() && creates.is_empty() {
        let placeholder = new_slice(svc, Vec::new(), address_type);
        if deletes.len() == 1 && is_placeholder(&deletes[0], &placeholder) {
            deletes.clear();
        } else {
            creates.push(placeholder);
        }
    }
    plan.create.extend(creates);
    plan.update.extend(updates);
    plan.delete.extend(deletes);
}

/// Upstream's `placeholderSliceCompare`: same namespace, labels, address
/// type, and no endpoints or ports.
fn is_placeholder(slice: &EndpointSlice, placeholder: &EndpointSlice) -> bool {
    slice.metadata.namespace == placeholder.metadata.namespace
        && slice.metadata.labels.clone().unwrap_or_default()
            == placeholder.metadata.labels.clone().unwrap_or_default()
        && slice.address_type == placeholder.address_type
        && slice.endpoints.is_empty()
        && slice.ports.as_ref().is_none_or(Vec::is_empty)
}

/// Upstream's `reconcileByPortMapping`.
fn by_port_mapping(
    svc: &Service,
    existing: &[&EndpointSlice],
    desired: &mut Desired,
    address_type: &str,
    max: usize,
) -> (Vec<EndpointSlice>, Vec<EndpointSlice>, Vec<EndpointSlice>) {
    let want_labels = slice_labels(svc);
    let mut by_name: BTreeMap<String, EndpointSlice> = BTreeMap::new();
    let mut to_update: BTreeSet<String> = BTreeSet::new();
    let mut to_delete: BTreeSet<String> = BTreeSet::new();
    let mut unchanged: BTreeSet<String> = BTreeSet::new();
    let set = &mut desired.endpoints;

    // 1. Keep wanted endpoints where they are; drop the others.
    for s in existing {
        let name = s.metadata.name.clone().unwrap_or_default();
        let mut kept = Vec::new();
        let mut changed = false;
        for ep in &s.endpoints {
            if let Some(want) = set.remove(&endpoint_key(ep)) {
                changed |= !same_endpoint(&want, ep);
                kept.push(want);
            }
        }
        let labels_changed = s.metadata.labels.clone().unwrap_or_default() != want_labels;
        if changed || kept.len() != s.endpoints.len() {
            if kept.is_empty() {
                to_delete.insert(name.clone());
                by_name.insert(name, (*s).clone());
            } else {
                let mut copy = (*s).clone();
                copy.endpoints = kept;
                copy.metadata.labels = Some(want_labels.clone());
                by_name.insert(name.clone(), copy);
                to_update.insert(name);
            }
        } else if labels_changed {
            let mut copy = (*s).clone();
            copy.metadata.labels = Some(want_labels.clone());
            by_name.insert(name.clone(), copy);
            to_update.insert(name);
        } else {
            by_name.insert(name.clone(), (*s).clone());
            unchanged.insert(name);
        }
    }

    // 2. Fill the slices being updated anyway, fullest first.
    if !set.is_empty() && !to_update.is_empty() {
        let mut names: Vec<String> = to_update.iter().cloned().collect();
        names.sort_by_key(|n| std::cmp::Reverse(by_name[n].endpoints.len()));
        for n in names {
            let Some(slice) = by_name.get_mut(&n) else {
                continue;
            };
            while slice.endpoints.len() < max
                && let Some((_, ep)) = set.pop_first()
            {
                slice.endpoints.push(ep);
            }
        }
    }

    // 3. The rest: into the unchanged slice that fits best, else new ones.
    let mut creates = Vec::new();
    while !set.is_empty() {
        let mut fill: Option<EndpointSlice> = None;
        if set.len() < max && !unchanged.is_empty() {
            fill = slice_to_fill(unchanged.iter().map(|n| &by_name[n]), set.len(), max).cloned();
        }
        let mut slice = fill.unwrap_or_else(|| new_slice(svc, desired.ports.clone(), address_type));
        while slice.endpoints.len() < max
            && let Some((_, ep)) = set.pop_first()
        {
            slice.endpoints.push(ep);
        }
        match slice.metadata.name.clone() {
            Some(name) => {
                unchanged.remove(&name);
                to_update.insert(name.clone());
                by_name.insert(name, slice);
            }
            None => creates.push(slice),
        }
    }
    let take = |names: &BTreeSet<String>, by_name: &BTreeMap<String, EndpointSlice>| {
        names
            .iter()
            .filter_map(|n| by_name.get(n).cloned())
            .collect::<Vec<_>>()
    };
    (
        creates,
        take(&to_update, &by_name),
        take(&to_delete, &by_name),
    )
}

/// Upstream's `getSliceToFill`: the slice left fullest by the endpoints.
fn slice_to_fill<'a>(
    slices: impl Iterator<Item = &'a EndpointSlice>,
    count: usize,
    max: usize,
) -> Option<&'a EndpointSlice> {
    let mut best: Option<(&EndpointSlice, usize)> = None;
    for s in slices {
        let Some(diff) = max.checked_sub(count + s.endpoints.len()) else {
            continue;
        };
        if best.is_none_or(|(_, d)| diff < d) {
            best = Some((s, diff));
            if diff == 0 {
                break;
            }
        }
    }
    best.map(|(s, _)| s)
}

/// Upstream's recycling in `finalize`: a slice to delete becomes a slice to
/// create (under its old name), rather than a delete plus a create. Not
/// while the Service is being deleted.
fn recycle(svc: &Service, plan: &mut Plan) {
    if svc.metadata.deletion_timestamp.is_some() {
        plan.create.clear();
        return;
    }
    let mut i = 0;
    while i < plan.delete.len() && !plan.create.is_empty() {
        let old = &plan.delete[i];
        let fits = plan
            .create
            .last()
            .is_some_and(|c| c.address_type == old.address_type);
        if fits && owned_by(old, svc) {
            let old = plan.delete.remove(i);
            if let Some(mut slice) = plan.create.pop() {
                slice.metadata.name = old.metadata.name;
                slice.metadata.resource_version = old.metadata.resource_version;
                plan.update.push(slice);
            }
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests;

//! What the mirrored slices of one Endpoints object should be: its
//! repacked subsets split by address family, one slice per group, labels
//! and annotations copied from the Endpoints.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{EndpointAddress, Endpoints};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::ResourceExt;

use super::{CONTROLLER_NAME, LAST_APPLIED, MAX_ENDPOINTS_PER_SUBSET};
use crate::endpoints::subsets as ep_subsets;
use crate::endpointslice::{LABEL_MANAGED_BY, LABEL_SERVICE_NAME};
use crate::pods::triggertime::LAST_CHANGE_TRIGGER_TIME;

/// A group of mirrored endpoints: sorted ports and address type.
pub(super) type GroupKey = (Vec<(String, i32, String, String)>, String);

fn group_key(ports: &[EndpointPort], address_type: &str) -> GroupKey {
    let mut k: Vec<_> = ports
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
    (k, address_type.to_string())
}

/// What the slices of one Endpoints object should hold.
pub(super) struct Desired {
    ports: Vec<EndpointPort>,
    address_type: String,
    endpoints: Vec<Endpoint>,
}

/// The desired groups of an Endpoints object, with the count of invalid
/// addresses and of all addresses left out.
pub(super) fn desired(ep: &Endpoints) -> (BTreeMap<GroupKey, Desired>, usize, usize) {
    let mut groups: BTreeMap<GroupKey, Desired> = BTreeMap::new();
    let (mut invalid, mut skipped) = (0, 0);
    let subsets = ep_subsets::repack_existing(ep.subsets.as_deref().unwrap_or_default());
    for subset in subsets {
        let ports: Vec<EndpointPort> = subset
            .ports
            .iter()
            .flatten()
            .map(|p| EndpointPort {
                name: Some(p.name.clone().unwrap_or_default()),
                port: Some(p.port),
                protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: p.app_protocol.clone(),
            })
            .collect();
        let ready = subset.addresses.iter().flatten().map(|a| (a, true));
        let not_ready = subset
            .not_ready_addresses
            .iter()
            .flatten()
            .map(|a| (a, false));
        let all: Vec<(&EndpointAddress, bool)> = ready.chain(not_ready).collect();
        let mut added = 0;
        for (addr, ready) in &all {
            if added >= MAX_ENDPOINTS_PER_SUBSET {
                break;
            }
            let Ok(ip) = addr.ip.parse::<IpAddr>() else {
                invalid += 1;
                continue;
            };
            let address_type = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
            let group = groups
                .entry(group_key(&ports, address_type))
                .or_insert_with(|| Desired {
                    ports: ports.clone(),
                    address_type: address_type.into(),
                    endpoints: Vec::new(),
                });
            group.endpoints.push(Endpoint {
                addresses: vec![addr.ip.clone()],
                conditions: Some(EndpointConditions {
                    ready: Some(*ready),
                    ..Default::default()
                }),
                target_ref: addr.target_ref.clone(),
                node_name: addr.node_name.clone(),
                hostname: addr.hostname.clone().filter(|h| !h.is_empty()),
                ..Default::default()
            });
            added += 1;
        }
        skipped += all.len() - added;
    }
    (groups, invalid, skipped)
}

/// A mirrored slice of `ep` (upstream's mirroring `newEndpointSlice`).
fn new_slice(ep: &Endpoints, d: &Desired, name: Option<String>) -> EndpointSlice {
    let ep_name = ep.name_any();
    let mut labels = ep.labels().clone();
    labels.insert(LABEL_SERVICE_NAME.into(), ep_name.clone());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    let annotations = mirrored_annotations(ep);
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: name.is_none().then(|| format!("{ep_name}-")),
            name,
            namespace: ep.namespace(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Endpoints".into(),
                name: ep_name,
                uid: ep.uid().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        address_type: d.address_type.clone(),
        endpoints: d.endpoints.clone(),
        ports: Some(d.ports.clone()),
    }
}

fn mirrored_annotations(ep: &Endpoints) -> BTreeMap<String, String> {
    let mut a = ep.annotations().clone();
    a.remove(LAST_CHANGE_TRIGGER_TIME);
    a.remove(LAST_APPLIED);
    a
}

/// One slice per group: the first existing slice of the group is kept (and
/// updated when it differs), the others deleted; groups without a slice
/// get one; deletions are recycled into creations of the same family.
pub(super) fn plan(
    ep: &Endpoints,
    desired: BTreeMap<GroupKey, Desired>,
    current: &[Arc<EndpointSlice>],
) -> (Vec<EndpointSlice>, Vec<EndpointSlice>, Vec<EndpointSlice>) {
    let mut existing: BTreeMap<GroupKey, Vec<&EndpointSlice>> = BTreeMap::new();
    for s in current {
        let key = group_key(s.ports.as_deref().unwrap_or_default(), &s.address_type);
        existing.entry(key).or_default().push(s);
    }
    let (mut create, mut update, mut delete) = (Vec::new(), Vec::new(), Vec::new());
    let mut used: HashSet<GroupKey> = HashSet::new();
    for (key, d) in &desired {
        used.insert(key.clone());
        let slices = existing.get(key).cloned().unwrap_or_default();
        let Some((first, rest)) = slices.split_first() else {
            create.push(new_slice(ep, d, None));
            continue;
        };
        delete.extend(rest.iter().map(|s| (*s).clone()));
        let want = new_slice(ep, d, first.metadata.name.clone());
        if !same_content(first, &want) {
            let mut want = want;
            want.metadata.resource_version = first.metadata.resource_version.clone();
            update.push(want);
        }
    }
    for (key, slices) in existing {
        if !used.contains(&key) {
            delete.extend(slices.into_iter().cloned());
        }
    }
    // Recycle: rename a creation into a slice being deleted.
    let mut i = 0;
    while i < delete.len() && !create.is_empty() {
        let pos = create
            .iter()
            .position(|c| c.address_type == delete[i].address_type);
        match pos {
            Some(p) => {
                let old = delete.remove(i);
                let mut c = create.remove(p);
                c.metadata.generate_name = None;
                c.metadata.name = old.metadata.name;
                c.metadata.resource_version = old.metadata.resource_version;
                update.push(c);
            }
            None => i += 1,
        }
    }
    (create, update, delete)
}

/// Same endpoints (in any order), labels and annotations.
fn same_content(have: &EndpointSlice, want: &EndpointSlice) -> bool {
    let sorted = |s: &EndpointSlice| {
        let mut eps: Vec<String> = s
            .endpoints
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(r) = e.target_ref.as_mut() {
                    r.resource_version = None;
                }
                serde_json::to_string(&e).unwrap_or_default()
            })
            .collect();
        eps.sort();
        eps
    };
    sorted(have) == sorted(want)
        && have.labels() == want.labels()
        && have.annotations() == want.annotations()
}

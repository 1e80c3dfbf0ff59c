//! What a namespace uses of each quota resource: the sum, over the objects
//! a quota's scopes cover, of what each object uses — measured by the
//! admission crate's quota evaluators, the same ones quota admission
//! charges requests with.

use std::collections::BTreeMap;
use std::sync::Arc;

use ironclad_admission::Amount;
use ironclad_admission::quota::usage::counted_resource;
use ironclad_admission::quota::{matches_scopes, matching_resources, object_count_name, usage_at};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, ResourceQuota, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

/// A resource list being summed.
pub type Usage = BTreeMap<String, Amount>;

/// What one namespace holds, for the evaluators.
pub struct Inputs<'a> {
    /// Its pods.
    pub pods: &'a [Arc<Pod>],
    /// Its services.
    pub services: &'a [Arc<Service>],
    /// Its persistent volume claims.
    pub claims: &'a [Arc<PersistentVolumeClaim>],
    /// Object counts by `count/` name (`count/configmaps`,
    /// `count/deployments.apps`, ...), for the kinds counted by name only.
    pub counts: &'a BTreeMap<String, i64>,
}

/// Kinds whose objects the controller reads in full (their evaluators
/// measure more than a count).
const MEASURED: [(&str, &str); 3] = [
    ("", "pods"),
    ("", "services"),
    ("", "persistentvolumeclaims"),
];

/// Core kinds whose counts upstream's controller always evaluates.
const ALWAYS_COUNTED: [&str; 4] = [
    "configmaps",
    "secrets",
    "replicationcontrollers",
    "resourcequotas",
];

/// The `count/` name a tracked resource is counted under, if it is an
/// object count that needs a list (not pods, services or claims).
pub fn count_key(resource: &str) -> Option<String> {
    let (group, res) = counted_resource(resource)?;
    if MEASURED.contains(&(group.as_str(), res.as_str())) {
        return None;
    }
    Some(object_count_name(&group, &res))
}

/// Sums the usage of `objects` (of `group`/`resource`) into `out` for the
/// names among `names` their evaluator measures; those names are zero when
/// nothing uses them.
fn sum_kind<'a>(
    out: &mut Usage,
    quota: &ResourceQuota,
    names: &[String],
    (group, resource): (&str, &str),
    objects: impl Iterator<Item = Value> + 'a,
    now: Timestamp,
) {
    let matched = matching_resources(group, resource, names);
    if matched.is_empty() {
        return;
    }
    for m in &matched {
        out.entry(m.clone()).or_insert(Amount::ZERO);
    }
    for obj in objects {
        if !matches_scopes(quota, group, resource, &obj) {
            continue;
        }
        let used = usage_at(group, resource, &obj, now);
        for m in &matched {
            if let (Some(v), Some(total)) = (used.get(m), out.get_mut(m)) {
                total.add(*v);
            }
        }
    }
}

fn json<K: serde::Serialize>(items: &[Arc<K>]) -> impl Iterator<Item = Value> + '_ {
    items.iter().filter_map(|o| serde_json::to_value(&**o).ok())
}

/// The usage of everything in `hard` that an evaluator knows; the others
/// are left out (their last value is kept, as upstream).
pub fn compute(
    quota: &ResourceQuota,
    hard: &BTreeMap<String, Quantity>,
    inp: &Inputs<'_>,
) -> Usage {
    let names: Vec<String> = hard.keys().cloned().collect();
    let now = Timestamp::now();
    let mut out = Usage::new();
    sum_kind(&mut out, quota, &names, MEASURED[0], json(inp.pods), now);
    sum_kind(
        &mut out,
        quota,
        &names,
        MEASURED[1],
        json(inp.services),
        now,
    );
    sum_kind(&mut out, quota, &names, MEASURED[2], json(inp.claims), now);
    for name in &names {
        let (Some(key), Some((group, resource))) = (count_key(name), counted_resource(name)) else {
            continue;
        };
        // The kinds upstream always has an evaluator for count zero when
        // not counted; other unserved kinds are left out.
        let always = group.is_empty() && ALWAYS_COUNTED.contains(&resource.as_str());
        let Some(n) = inp.counts.get(&key).or(always.then_some(&0)) else {
            continue;
        };
        // A scoped quota counts no objects but pods.
        let covered = matches_scopes(quota, &group, &resource, &Value::Null);
        out.insert(name.clone(), Amount::from_int(if covered { *n } else { 0 }));
    }
    out
}

#[cfg(test)]
mod tests;

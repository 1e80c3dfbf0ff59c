//! What a pod asks for in total: upstream's `PodRequests`/`PodLimits` —
//! the containers' sum, sidecars (restartable init containers) added as
//! they start, at least the largest init container (with the sidecars
//! started before it), plus overhead — read from pod JSON.

use serde_json::Value;

use crate::json::{arr_at, get, str_at, str_or_empty};
use crate::quantity::{ResourceList, list_from_json};

/// Which reported (in-place resize) resources count besides the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusResources {
    /// The spec alone.
    Ignore,
    /// Quota's view (`UseStatusResources`): per container the larger of
    /// the spec, `status.containerStatuses[].resources` and
    /// `allocatedResources`; only the reported values while a resize is
    /// infeasible.
    Quota,
    /// LimitRanger's view: requests are the larger of the spec and
    /// `allocatedResources` (only the allocation while a resize is
    /// infeasible); limits are the spec.
    LimitRanger,
}

/// How to total a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Whether `spec.overhead` is added (requests: all of it; limits: only
    /// to resources that have a limit).
    pub overhead: bool,
    /// Which reported resources count.
    pub status: StatusResources,
}

/// A container's `resources.requests` (`limits: false`) or
/// `resources.limits`.
pub fn container_list(c: &Value, limits: bool) -> ResourceList {
    let field = if limits { "limits" } else { "requests" };
    list_from_json(get(c, &["resources", field]))
}

/// The pod's total requests.
pub fn pod_requests(pod: &Value, opts: Options) -> ResourceList {
    total(pod, opts, false)
}

/// The pod's total limits.
pub fn pod_limits(pod: &Value, opts: Options) -> ResourceList {
    total(pod, opts, true)
}

/// Adds `b` into `a`.
pub(crate) fn add_into(a: &mut ResourceList, b: &ResourceList) {
    for (k, v) in b {
        match a.get_mut(k) {
            Some(e) => e.add(*v),
            None => {
                a.insert(k.clone(), *v);
            }
        }
    }
}

/// Upstream's `maxResourceList`: for every key of `b`, the larger.
pub(crate) fn max_into(a: &mut ResourceList, b: &ResourceList) {
    for (k, v) in b {
        match a.get(k) {
            Some(e) if v.nanos() <= e.nanos() => {}
            _ => {
                a.insert(k.clone(), *v);
            }
        }
    }
}

fn max_of(lists: &[ResourceList]) -> ResourceList {
    let mut out = ResourceList::new();
    for l in lists {
        max_into(&mut out, l);
    }
    out
}

/// Whether a resize of this pod is infeasible (`status.resize` or the
/// `PodResizePending` condition with reason `Infeasible`).
fn resize_infeasible(pod: &Value) -> bool {
    str_at(pod, &["status", "resize"]) == Some("Infeasible")
        || arr_at(pod, &["status", "conditions"]).iter().any(|c| {
            str_at(c, &["type"]) == Some("PodResizePending")
                && str_at(c, &["reason"]) == Some("Infeasible")
        })
}

fn status_of<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    arr_at(pod, &["status", "containerStatuses"])
        .iter()
        .chain(arr_at(pod, &["status", "initContainerStatuses"]))
        .find(|s| str_or_empty(s, &["name"]) == name)
}

/// One container's effective list, per `opts.status`.
fn effective(pod: &Value, c: &Value, limits: bool, opts: Options, sidecar: bool) -> ResourceList {
    let spec = container_list(c, limits);
    let name = str_or_empty(c, &["name"]);
    let field = if limits { "limits" } else { "requests" };
    match opts.status {
        StatusResources::Ignore => spec,
        StatusResources::Quota => {
            let Some(cs) = status_of(pod, name).filter(|cs| get(cs, &["resources"]).is_some())
            else {
                return spec;
            };
            let reported = list_from_json(get(cs, &["resources", field]));
            let infeasible = resize_infeasible(pod);
            if limits {
                if infeasible {
                    reported
                } else {
                    max_of(&[spec, reported])
                }
            } else {
                let allocated = list_from_json(get(cs, &["allocatedResources"]));
                if infeasible {
                    max_of(&[reported, allocated])
                } else {
                    max_of(&[spec, reported, allocated])
                }
            }
        }
        StatusResources::LimitRanger => {
            if limits || sidecar {
                return spec;
            }
            let Some(cs) = arr_at(pod, &["status", "containerStatuses"])
                .iter()
                .find(|s| str_or_empty(s, &["name"]) == name)
            else {
                return spec;
            };
            let allocated = list_from_json(get(cs, &["allocatedResources"]));
            if resize_infeasible(pod) {
                allocated
            } else {
                max_of(&[spec, allocated])
            }
        }
    }
}

fn total(pod: &Value, opts: Options, limits: bool) -> ResourceList {
    let mut sum = ResourceList::new();
    for c in arr_at(pod, &["spec", "containers"]) {
        add_into(&mut sum, &effective(pod, c, limits, opts, false));
    }
    let mut sidecars = ResourceList::new();
    let mut init_max = ResourceList::new();
    for c in arr_at(pod, &["spec", "initContainers"]) {
        let restartable = str_at(c, &["restartPolicy"]) == Some("Always");
        if restartable {
            let list = effective(pod, c, limits, opts, true);
            add_into(&mut sum, &list);
            add_into(&mut sidecars, &list);
            max_into(&mut init_max, &sidecars);
        } else {
            // Status resources apply to sidecars only (init containers
            // are not resized).
            let mut running = container_list(c, limits);
            add_into(&mut running, &sidecars);
            max_into(&mut init_max, &running);
        }
    }
    max_into(&mut sum, &init_max);
    if opts.overhead {
        let overhead = list_from_json(get(pod, &["spec", "overhead"]));
        for (k, v) in overhead {
            match sum.get_mut(&k) {
                Some(e) => e.add(v),
                None if !limits => {
                    sum.insert(k, v);
                }
                None => {}
            }
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity::list_to_strings;
    use serde_json::json;

    const SPEC: Options = Options {
        overhead: false,
        status: StatusResources::Ignore,
    };

    fn strings(l: ResourceList) -> Vec<(String, String)> {
        list_to_strings(&l).into_iter().collect()
    }

    #[test]
    fn sums_containers_sidecars_and_init() {
        let pod = json!({"spec": {
            "initContainers": [
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "init", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "3"}}}
            ],
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}}
            ],
            "overhead": {"cpu": "10m", "memory": "1Mi"}
        }});
        assert_eq!(
            strings(pod_requests(&pod, SPEC)),
            [("cpu", "2100m"), ("memory", "320Mi")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .to_vec()
        );
        assert_eq!(
            strings(pod_limits(&pod, SPEC)),
            [("cpu", "3"), ("memory", "256Mi")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .to_vec()
        );
        let with_overhead = Options {
            overhead: true,
            ..SPEC
        };
        let r = list_to_strings(&pod_requests(&pod, with_overhead));
        assert_eq!(r["cpu"], "2110m");
        assert_eq!(r["memory"], "321Mi");
        // Overhead only grows limits that exist.
        let pod2 = json!({"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1"}}}], "overhead": {"cpu": "1", "memory": "1Mi"}}});
        let l = list_to_strings(&pod_limits(&pod2, with_overhead));
        assert_eq!(l.get("cpu").map(String::as_str), Some("2"));
        assert!(!l.contains_key("memory"));
    }

    #[test]
    fn reported_resources() {
        let pod = json!({
            "spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}}]},
            "status": {"containerStatuses": [{"name": "a",
                "allocatedResources": {"cpu": "1500m"},
                "resources": {"requests": {"cpu": "1200m"}, "limits": {"cpu": "3"}}}]}
        });
        let quota = Options {
            overhead: true,
            status: StatusResources::Quota,
        };
        assert_eq!(list_to_strings(&pod_requests(&pod, quota))["cpu"], "1500m");
        assert_eq!(list_to_strings(&pod_limits(&pod, quota))["cpu"], "3");
        let lr = Options {
            overhead: false,
            status: StatusResources::LimitRanger,
        };
        assert_eq!(list_to_strings(&pod_requests(&pod, lr))["cpu"], "1500m");
        assert_eq!(list_to_strings(&pod_limits(&pod, lr))["cpu"], "2");
        assert_eq!(list_to_strings(&pod_requests(&pod, SPEC))["cpu"], "1");

        let mut infeasible = pod.clone();
        infeasible["status"]["conditions"] =
            json!([{"type": "PodResizePending", "status": "True", "reason": "Infeasible"}]);
        infeasible["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("4");
        assert_eq!(
            list_to_strings(&pod_requests(&infeasible, quota))["cpu"],
            "1500m"
        );
        assert_eq!(
            list_to_strings(&pod_requests(&infeasible, lr))["cpu"],
            "1500m"
        );
    }

    #[test]
    fn bad_input() {
        for v in [
            json!(null),
            json!({"spec": {"containers": "x"}}),
            json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "lots"}}}]}}),
        ] {
            assert!(pod_requests(&v, SPEC).is_empty());
            assert!(pod_limits(&v, SPEC).is_empty());
        }
    }
}

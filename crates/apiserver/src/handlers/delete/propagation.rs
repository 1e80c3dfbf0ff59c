//! Which dependents an owner's deletion takes along: the `orphan` and
//! `foregroundDeletion` finalizers a DELETE puts on the object for the
//! garbage collector, from the request's propagationPolicy (or the
//! deprecated orphanDependents), the finalizers already there, and the
//! resource's default policy (upstream's `deletionFinalizersForGarbage
//! Collection` and the strategies' `DefaultGarbageCollectionPolicy`).

use ironclad_api::ResourceInfo;
use serde_json::{Value, json};

use super::DeleteOptions;

/// The finalizer that makes the garbage collector orphan the dependents.
pub(crate) const ORPHAN: &str = "orphan";
/// The finalizer that makes the garbage collector delete the blocking
/// dependents before the owner.
pub(crate) const FOREGROUND: &str = "foregroundDeletion";

/// What happens to dependents when nothing else says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultPolicy {
    /// Dependents are orphaned (kept, their ownerReference removed).
    Orphan,
    /// Dependents are deleted by the garbage collector (in the background).
    Delete,
    /// The resource takes no part in garbage collection: DELETE never adds
    /// a garbage collection finalizer.
    Unsupported,
}

/// The default of a resource at the version the request used. Upstream
/// kept orphaning for the versions that did before garbage collection
/// existed: core/v1 ReplicationControllers and batch/v1 Jobs (and the beta
/// versions of the workloads, which are not served here). Events do not
/// take part.
pub(crate) fn default_policy(info: &ResourceInfo) -> DefaultPolicy {
    match (info.group, info.version, info.kind) {
        ("", "v1", "ReplicationController") | ("batch", "v1", "Job") => DefaultPolicy::Orphan,
        ("extensions", "v1beta1", "ReplicaSet" | "Deployment" | "DaemonSet")
        | ("apps", "v1beta1" | "v1beta2", _)
        | ("batch", "v1beta1", "CronJob") => DefaultPolicy::Orphan,
        ("" | "events.k8s.io", _, "Event") => DefaultPolicy::Unsupported,
        _ => DefaultPolicy::Delete,
    }
}

/// The warning upstream gives when a batch/v1 Job is deleted without a
/// policy (its pods stay).
pub(crate) const JOB_ORPHAN_WARNING: &str = "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning";

/// The warning for this request, if it leaves the policy to a default that
/// orphans a Job's pods.
pub(crate) fn default_warning(info: &ResourceInfo, opts: &DeleteOptions) -> Option<String> {
    (info.kind == "Job"
        && opts.propagation_policy.is_none()
        && opts.orphan_dependents.is_none()
        && default_policy(info) == DefaultPolicy::Orphan)
        .then(|| JOB_ORPHAN_WARNING.to_string())
}

/// The object's finalizers.
pub(crate) fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Sets the object's finalizers (removing the field when empty).
pub(crate) fn set_finalizers(obj: &mut Value, finalizers: Vec<String>) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if finalizers.is_empty() {
            m.remove("finalizers");
        } else {
            m.insert("finalizers".into(), json!(finalizers));
        }
    }
}

/// Whether the dependents are to be orphaned: the request decides, then an
/// existing finalizer, then the resource's default.
fn should_orphan(policy: DefaultPolicy, current: &[String], opts: &DeleteOptions) -> bool {
    if policy == DefaultPolicy::Unsupported {
        return false;
    }
    if let Some(orphan) = opts.orphan_dependents {
        return orphan;
    }
    match opts.propagation_policy.as_deref() {
        Some("Orphan") => return true,
        Some("Background" | "Foreground") => return false,
        _ => {}
    }
    for f in current {
        match f.as_str() {
            ORPHAN => return true,
            FOREGROUND => return false,
            _ => {}
        }
    }
    policy == DefaultPolicy::Orphan
}

/// Whether the blocking dependents are to be deleted before the owner.
fn should_delete_in_foreground(
    policy: DefaultPolicy,
    current: &[String],
    opts: &DeleteOptions,
) -> bool {
    if policy == DefaultPolicy::Unsupported || opts.orphan_dependents.is_some() {
        return false;
    }
    match opts.propagation_policy.as_deref() {
        Some("Foreground") => return true,
        Some("Background" | "Orphan") => return false,
        _ => {}
    }
    for f in current {
        match f.as_str() {
            FOREGROUND => return true,
            ORPHAN => return false,
            _ => {}
        }
    }
    false
}

/// The finalizers the object must carry for this delete, when they differ
/// from what it has.
pub(crate) fn gc_finalizers(
    info: &ResourceInfo,
    obj: &Value,
    opts: &DeleteOptions,
) -> Option<Vec<String>> {
    let policy = default_policy(info);
    let current = finalizers(obj);
    let orphan = should_orphan(policy, &current, opts);
    let foreground = should_delete_in_foreground(policy, &current, opts);
    let mut new: Vec<String> = current
        .iter()
        .filter(|f| *f != ORPHAN && *f != FOREGROUND)
        .cloned()
        .collect();
    if orphan {
        new.push(ORPHAN.into());
    }
    if foreground {
        new.push(FOREGROUND.into());
    }
    let same = {
        let mut a = current.clone();
        let mut b = new.clone();
        a.sort();
        a.dedup();
        b.sort();
        b.dedup();
        a == b
    };
    (!same).then_some(new)
}

/// A namespace's finalizers for its first DELETE: only what the request
/// asks for (or what it already has) — namespaces have no default policy.
pub(crate) fn namespace_finalizers(obj: &Value, opts: &DeleteOptions) -> Option<Vec<String>> {
    let current = finalizers(obj);
    let has = |f: &str| current.iter().any(|c| c == f);
    let orphan = match (opts.orphan_dependents, opts.propagation_policy.as_deref()) {
        (Some(o), _) => o,
        (None, Some(p)) => p == "Orphan",
        (None, None) => has(ORPHAN),
    };
    let foreground = match (opts.orphan_dependents, opts.propagation_policy.as_deref()) {
        (Some(o), _) => !o,
        (None, Some(p)) => p == "Foreground",
        (None, None) => has(FOREGROUND),
    };
    if orphan == has(ORPHAN) && foreground == has(FOREGROUND) {
        return None;
    }
    let mut new: Vec<String> = current
        .iter()
        .filter(|f| *f != ORPHAN && *f != FOREGROUND)
        .cloned()
        .collect();
    if orphan {
        new.push(ORPHAN.into());
    }
    if foreground {
        new.push(FOREGROUND.into());
    }
    Some(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_api::registry::lookup;

    fn opts(policy: Option<&str>, orphan: Option<bool>) -> DeleteOptions {
        DeleteOptions {
            propagation_policy: policy.map(str::to_string),
            orphan_dependents: orphan,
            ..Default::default()
        }
    }

    fn with(finalizers: &[&str]) -> Value {
        json!({"metadata": {"finalizers": finalizers}})
    }

    #[test]
    fn defaults_per_resource() {
        let rs = lookup("apps", "v1", "replicasets").unwrap();
        let rc = lookup("", "v1", "replicationcontrollers").unwrap();
        let job = lookup("batch", "v1", "jobs").unwrap();
        let ev = lookup("", "v1", "events").unwrap();
        assert_eq!(default_policy(rs), DefaultPolicy::Delete);
        assert_eq!(default_policy(rc), DefaultPolicy::Orphan);
        assert_eq!(default_policy(job), DefaultPolicy::Orphan);
        assert_eq!(default_policy(ev), DefaultPolicy::Unsupported);
        let none = json!({"metadata": {}});
        assert_eq!(gc_finalizers(rs, &none, &opts(None, None)), None);
        assert_eq!(
            gc_finalizers(rc, &none, &opts(None, None)),
            Some(vec!["orphan".into()])
        );
        assert_eq!(
            gc_finalizers(rc, &none, &opts(Some("Background"), None)),
            None
        );
        assert_eq!(gc_finalizers(ev, &none, &opts(Some("Orphan"), None)), None);
        assert!(default_warning(job, &opts(None, None)).is_some());
        assert!(default_warning(job, &opts(Some("Orphan"), None)).is_none());
    }

    #[test]
    fn the_request_then_existing_finalizers_decide() {
        let rs = lookup("apps", "v1", "replicasets").unwrap();
        assert_eq!(
            gc_finalizers(rs, &with(&["x.io/y"]), &opts(Some("Foreground"), None)),
            Some(vec!["x.io/y".into(), "foregroundDeletion".into()])
        );
        assert_eq!(
            gc_finalizers(
                rs,
                &with(&["foregroundDeletion"]),
                &opts(Some("Orphan"), None)
            ),
            Some(vec!["orphan".into()])
        );
        assert_eq!(
            gc_finalizers(rs, &with(&["orphan"]), &opts(None, None)),
            None,
            "an existing orphan finalizer stays when the request says nothing"
        );
        assert_eq!(
            gc_finalizers(rs, &with(&["orphan"]), &opts(None, Some(false))),
            Some(vec![])
        );
        assert_eq!(
            gc_finalizers(rs, &with(&[]), &opts(None, Some(true))),
            Some(vec!["orphan".into()])
        );
    }

    #[test]
    fn namespaces_only_take_what_is_asked() {
        let none = json!({"metadata": {}});
        assert_eq!(namespace_finalizers(&none, &opts(None, None)), None);
        assert_eq!(
            namespace_finalizers(&none, &opts(Some("Foreground"), None)),
            Some(vec!["foregroundDeletion".into()])
        );
        assert_eq!(
            namespace_finalizers(&none, &opts(None, Some(false))),
            Some(vec!["foregroundDeletion".into()])
        );
    }
}

//! What the controller has asked of the API and not yet seen in its
//! caches (upstream's `ControllerExpectations` and the Job controller's
//! finalizer expectations), so a sync working from a cache that lags its
//! own writes neither creates pods twice nor counts a pod twice.
//!
//! Pods are expected by name (the controller names new pods itself) and
//! by uid; the pod watch marks them seen. Expectations of creations and
//! deletions lapse after five minutes, as upstream's, in case a watch
//! event was lost.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use super::pods::{controller_of, deleting, has_tracking_finalizer};

/// How long unobserved creations and deletions hold a Job's sync back.
const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(300);

/// Expectations of every Job, by Job uid.
#[derive(Debug, Default)]
pub(crate) struct Expectations {
    jobs: Mutex<HashMap<String, Pending>>,
}

#[derive(Debug)]
struct Pending {
    /// Names of pods created and not yet seen.
    creates: HashSet<String>,
    /// Uids of pods deleted and not yet seen deleting or gone.
    deletes: HashSet<String>,
    /// Uids of pods whose tracking finalizer was removed, not yet seen so.
    finalizers: HashSet<String>,
    /// The resourceVersions status writes replaced: a cached Job still at
    /// one of them has not seen our writes.
    replaced_status: HashSet<String>,
    /// When creations or deletions were last expected.
    since: Instant,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            creates: HashSet::new(),
            deletes: HashSet::new(),
            finalizers: HashSet::new(),
            replaced_status: HashSet::new(),
            since: Instant::now(),
        }
    }
}

// === impl Expectations ===

impl Expectations {
    fn with<T>(&self, job: &str, f: impl FnOnce(&mut Pending) -> T) -> T {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        f(jobs.entry(job.to_string()).or_default())
    }

    /// Pods named `names` are about to be created.
    pub fn expect_creations(&self, job: &str, names: impl IntoIterator<Item = String>) {
        self.with(job, |p| {
            p.creates.extend(names);
            p.since = Instant::now();
        });
    }

    /// The creation of `name` failed: it will not be seen.
    pub fn creation_failed(&self, job: &str, name: &str) {
        self.with(job, |p| p.creates.remove(name));
    }

    /// Pods `uids` are about to be deleted.
    pub fn expect_deletions(&self, job: &str, uids: impl IntoIterator<Item = String>) {
        self.with(job, |p| {
            p.deletes.extend(uids);
            p.since = Instant::now();
        });
    }

    /// The deletion of `uid` failed or found nothing.
    pub fn deletion_failed(&self, job: &str, uid: &str) {
        self.with(job, |p| p.deletes.remove(uid));
    }

    /// The tracking finalizers of `uids` are about to be removed.
    pub fn expect_finalizer_removals(&self, job: &str, uids: impl IntoIterator<Item = String>) {
        self.with(job, |p| p.finalizers.extend(uids));
    }

    /// A finalizer removal failed.
    pub fn finalizer_removal_failed(&self, job: &str, uid: &str) {
        self.with(job, |p| p.finalizers.remove(uid));
    }

    /// Pods whose finalizer removal has not been seen yet.
    pub fn expected_finalizer_removals(&self, job: &str) -> HashSet<String> {
        self.with(job, |p| p.finalizers.clone())
    }

    /// Drops finalizer expectations of pods no longer there.
    pub fn retain_finalizer_removals(&self, job: &str, present: &HashSet<String>) {
        self.with(job, |p| p.finalizers.retain(|u| present.contains(u)));
    }

    /// Whether every creation and deletion has been seen (or lapsed).
    pub fn satisfied(&self, job: &str) -> bool {
        self.with(job, |p| {
            (p.creates.is_empty() && p.deletes.is_empty())
                || p.since.elapsed() > EXPECTATIONS_TIMEOUT
        })
    }

    /// A status write replaced `resource_version`.
    pub fn status_written(&self, job: &str, resource_version: Option<String>) {
        self.with(job, |p| p.replaced_status.extend(resource_version));
    }

    /// Whether a cached Job at `resource_version` predates our last status
    /// write (the watch has not delivered it yet).
    pub fn status_stale(&self, job: &str, resource_version: Option<&str>) -> bool {
        self.with(job, |p| {
            if resource_version.is_some_and(|rv| p.replaced_status.contains(rv)) {
                return true;
            }
            p.replaced_status.clear();
            false
        })
    }

    /// Forgets a Job.
    pub fn forget(&self, job: &str) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(job);
    }

    /// Notes a pod seen by the watch (`gone`: deleted from the API).
    pub fn observe(&self, pod: &Pod, gone: bool) {
        let Some(owner) = controller_of(pod).filter(|o| o.kind == "Job") else {
            return;
        };
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(p) = jobs.get_mut(&owner.uid) else {
            return;
        };
        let uid = pod.uid().unwrap_or_default();
        p.creates.remove(&pod.name_any());
        if gone || deleting(pod) {
            p.deletes.remove(&uid);
        }
        if gone || !has_tracking_finalizer(pod) {
            p.finalizers.remove(&uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

    use super::*;
    use crate::job::pods::TRACKING_FINALIZER;

    fn pod(name: &str, finalizer: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(format!("uid-{name}")),
                finalizers: finalizer.then(|| vec![TRACKING_FINALIZER.into()]),
                owner_references: Some(vec![OwnerReference {
                    kind: "Job".into(),
                    uid: "j".into(),
                    controller: Some(true),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn creations_and_deletions_hold_the_job_until_seen() {
        let e = Expectations::default();
        assert!(e.satisfied("j"));
        e.expect_creations("j", ["a".to_string(), "b".to_string()]);
        assert!(!e.satisfied("j"));
        e.observe(&pod("a", true), false);
        e.creation_failed("j", "b");
        assert!(e.satisfied("j"));
        e.expect_deletions("j", ["uid-a".to_string()]);
        assert!(!e.satisfied("j"));
        let mut a = pod("a", true);
        a.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
        e.observe(&a, false);
        assert!(e.satisfied("j"));
    }

    #[test]
    fn finalizer_removals_are_seen_when_the_finalizer_is_gone() {
        let e = Expectations::default();
        e.expect_finalizer_removals("j", ["uid-a".to_string()]);
        e.observe(&pod("a", true), false);
        assert!(e.expected_finalizer_removals("j").contains("uid-a"));
        e.observe(&pod("a", false), false);
        assert!(e.expected_finalizer_removals("j").is_empty());
    }

    #[test]
    fn a_cached_job_at_the_replaced_version_is_stale() {
        let e = Expectations::default();
        e.status_written("j", Some("5".into()));
        e.status_written("j", Some("6".into()));
        assert!(e.status_stale("j", Some("5")));
        assert!(e.status_stale("j", Some("6")));
        assert!(!e.status_stale("j", Some("7")));
        assert!(!e.status_stale("j", Some("5")));
        e.status_written("j", Some("5".into()));
        assert!(e.status_stale("j", Some("5")));
        assert!(!e.status_stale("j", Some("8")));
    }
}

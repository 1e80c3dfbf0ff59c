//! Counting finished pods with the tracking finalizer (upstream's
//! `trackJobStatusAndRemoveFinalizers`): a finished pod is first recorded
//! by uid in `status.uncountedTerminatedPods`, then its finalizer is
//! removed, then it moves from the uncounted list into `succeeded` or
//! `failed`. A pod deleted at any point stays until its finalizer goes,
//! so no finished pod is lost or counted twice.

use std::collections::HashSet;
use std::sync::Arc;

use futures::future::join_all;
use k8s_openapi::api::batch::v1::{Job, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use kube::runtime::events::EventType;

use super::conditions as cond;
use super::indexes;
use super::podcontrol::{PodControl, not_found};
use super::pods::{self, has_tracking_finalizer};
use super::sync::JobSync;
use crate::{Error, Result};

/// Most pods in the uncounted lists at once (upstream's
/// `MaxUncountedPods`), which bounds the status size and one sync's work.
const MAX_UNCOUNTED_PODS: usize = 500;

impl JobSync<'_> {
    /// Records finished pods, removes their finalizers, moves them into
    /// the counters and, once nothing is left to count or stop, sets the
    /// terminal condition. Writes the status when anything changed.
    pub(super) async fn track_status_and_remove_finalizers(
        &mut self,
        mut needs_flush: bool,
    ) -> Result<()> {
        let indexed = self.indexed();
        let completions = self.completions().unwrap_or(0);
        if indexed {
            self.pods
                .sort_by_key(|p| pods::completion_index(p).unwrap_or(-1));
        }
        let mut with_finalizer: HashSet<String> = self
            .pods
            .iter()
            .filter(|p| has_tracking_finalizer(p))
            .filter_map(|p| p.uid())
            .filter(|u| !self.expected_rm_finalizers.contains(u))
            .collect();
        if clean_uncounted(self.status(), &with_finalizer) {
            needs_flush = true;
        }
        let mut to_release: Vec<Arc<Pod>> = Vec::new();
        let mut new_indexes: Vec<i32> = Vec::new();
        let mut uncounted = self
            .status()
            .uncounted_terminated_pods
            .take()
            .unwrap_or_default();
        let mut reached_max = false;
        let failing = self
            .finished
            .as_ref()
            .is_some_and(|c| c.type_ != cond::SUCCESS_CRITERIA_MET);
        for pod in self.pods.clone() {
            let uid = pod.uid().unwrap_or_default();
            if !has_tracking_finalizer(&pod) || self.expected_rm_finalizers.contains(&uid) {
                continue;
            }
            let failed = self.pod_failed(&pod);
            if !self.can_remove_finalizer(&pod, failed) {
                continue;
            }
            to_release.push(pod.clone());
            let ix = pods::completion_index(&pod);
            if pods::succeeded(&pod) && !self.uncounted_failed.contains(&uid) {
                if indexed {
                    if let Some(ix) = ix.filter(|i| *i < completions)
                        && !self.prev_succeeded_indexes.contains(&ix)
                    {
                        new_indexes.push(ix);
                        needs_flush = true;
                    }
                } else if !self.uncounted_succeeded.contains(&uid) {
                    needs_flush = true;
                    uncounted.succeeded.get_or_insert_with(Vec::new).push(uid);
                }
            } else if (failed || failing)
                && !self.uncounted_failed.contains(&uid)
                && (!indexed || ix.is_some_and(|i| i < completions))
            {
                let policy = self.spec().pod_failure_policy.as_ref();
                if super::failure_policy::judge(policy, &pod).counts {
                    needs_flush = true;
                    uncounted.failed.get_or_insert_with(Vec::new).push(uid);
                }
            }
            let pending = new_indexes.len() + len(&uncounted.succeeded) + len(&uncounted.failed);
            if pending >= MAX_UNCOUNTED_PODS {
                reached_max = true;
                break;
            }
        }
        self.status().uncounted_terminated_pods = Some(uncounted);
        if indexed {
            self.succeeded_indexes.extend(new_indexes);
            let s = indexes::format(&self.succeeded_indexes);
            let total = i32::try_from(self.succeeded_indexes.len()).unwrap_or(i32::MAX);
            let st = self.status();
            if st.completed_indexes.as_deref().unwrap_or("") != s {
                needs_flush = true;
            }
            st.succeeded = (total > 0).then_some(total);
            st.completed_indexes = (!s.is_empty()).then_some(s);
        }
        if let Some(f) = self.finished.clone() {
            let (reason, message) = (
                f.reason.clone().unwrap_or_default(),
                f.message.clone().unwrap_or_default(),
            );
            if f.type_ == cond::FAILURE_TARGET {
                self.status()
                    .conditions
                    .get_or_insert_with(Vec::new)
                    .push(f);
                needs_flush = true;
                self.finished = Some(cond::new(cond::FAILED, "True", &reason, &message, self.now));
            } else if f.type_ == cond::SUCCESS_CRITERIA_MET {
                if cond::find_true(&self.job, cond::SUCCESS_CRITERIA_MET).is_none() {
                    self.status()
                        .conditions
                        .get_or_insert_with(Vec::new)
                        .push(f);
                    needs_flush = true;
                }
                self.finished = Some(cond::new(
                    cond::COMPLETE,
                    "True",
                    &reason,
                    &message,
                    self.now,
                ));
            }
        }
        needs_flush = self
            .flush_and_remove_finalizers(to_release, &mut with_finalizer, needs_flush)
            .await?;
        let finished = !reached_max && self.enact_finished();
        if finished {
            needs_flush = true;
        }
        if needs_flush {
            self.write_status().await?;
            if finished {
                self.record_finished().await;
            }
        }
        Ok(())
    }

    fn status(&mut self) -> &mut JobStatus {
        self.job.status.get_or_insert_with(Default::default)
    }

    /// Upstream's `canRemoveFinalizer`: the Job is being deleted or is
    /// finishing, or the pod succeeded or counts as failed.
    fn can_remove_finalizer(&self, pod: &Pod, failed: bool) -> bool {
        self.job.metadata.deletion_timestamp.is_some()
            || self.finished.is_some()
            || pods::succeeded(pod)
            || failed
    }

    /// Writes the new uncounted pods (and interim condition), removes the
    /// finalizers, then counts the pods whose finalizer is gone. Returns
    /// whether the status still needs a write.
    async fn flush_and_remove_finalizers(
        &mut self,
        to_release: Vec<Arc<Pod>>,
        with_finalizer: &mut HashSet<String>,
        needs_flush: bool,
    ) -> Result<bool> {
        let mut needs_flush = needs_flush;
        if needs_flush {
            self.write_status().await?;
            self.sh.backoff.update(&self.uid, self.backoff.clone());
            needs_flush = false;
        }
        let mut rm_err = None;
        if !to_release.is_empty() {
            let uids = to_release.iter().filter_map(|p| p.uid());
            self.sh
                .expectations
                .expect_finalizer_removals(&self.uid, uids);
            let control = PodControl::new(
                self.sh.client.clone(),
                &self.job.namespace().unwrap_or_default(),
            );
            let results = join_all(to_release.iter().map(|p| {
                let (control, name) = (&control, p.name_any());
                async move { control.remove_tracking_finalizer(&name).await }
            }))
            .await;
            for (p, res) in to_release.iter().zip(results) {
                let uid = p.uid().unwrap_or_default();
                match res {
                    Ok(()) => {
                        with_finalizer.remove(&uid);
                    }
                    Err(e) => {
                        self.sh
                            .expectations
                            .finalizer_removal_failed(&self.uid, &uid);
                        if not_found(&e) {
                            with_finalizer.remove(&uid);
                        } else {
                            rm_err.get_or_insert(e);
                        }
                    }
                }
            }
        }
        if clean_uncounted(self.status(), with_finalizer) {
            needs_flush = true;
        }
        if let Some(e) = rm_err {
            if needs_flush {
                self.write_status().await?;
            }
            return Err(Error::Api(e));
        }
        Ok(needs_flush)
    }

    /// Sets the terminal condition once no pod is left uncounted or
    /// terminating (upstream's `enactJobFinished`).
    fn enact_finished(&mut self) -> bool {
        let Some(f) = self.finished.clone() else {
            return false;
        };
        let st = self.status();
        let uncounted = st
            .uncounted_terminated_pods
            .as_ref()
            .map_or(0, |u| len(&u.succeeded) + len(&u.failed));
        if uncounted > 0 || self.terminating > 0 {
            return false;
        }
        let now = self.now;
        let (reason, message) = (
            f.reason.clone().unwrap_or_default(),
            f.message.clone().unwrap_or_default(),
        );
        let st = self.status();
        let list = st.conditions.get_or_insert_with(Vec::new);
        cond::ensure(list, &f.type_, &f.status, &reason, &message, now);
        if f.type_ == cond::COMPLETE {
            st.completion_time = f.last_transition_time.clone();
        }
        true
    }

    async fn record_finished(&self) {
        let Some(f) = self.finished.as_ref() else {
            return;
        };
        if f.type_ == cond::COMPLETE {
            let succeeded = self
                .job
                .status
                .as_ref()
                .and_then(|s| s.succeeded)
                .unwrap_or(0);
            if self.completions().is_some_and(|c| succeeded > c) {
                self.sh
                    .event(
                        &self.job,
                        EventType::Warning,
                        "TooManySucceededPods",
                        "Too many succeeded pods running after completion count reached".into(),
                    )
                    .await;
            }
            self.sh
                .event(
                    &self.job,
                    EventType::Normal,
                    "Completed",
                    "Job completed".into(),
                )
                .await;
        } else {
            self.sh
                .event(
                    &self.job,
                    EventType::Warning,
                    f.reason.as_deref().unwrap_or(cond::FAILED),
                    f.message.clone().unwrap_or_default(),
                )
                .await;
        }
    }

    /// Replaces the status (optimistic: a cache that lagged gets a 409 and
    /// the sync runs again) and keeps the written Job as the working copy.
    async fn write_status(&mut self) -> Result<()> {
        let api: Api<Job> = Api::namespaced(
            self.sh.client.clone(),
            &self.job.namespace().unwrap_or_default(),
        );
        let mut body = self.job.clone();
        tidy(body.status.get_or_insert_with(Default::default));
        let replaced = self.job.metadata.resource_version.clone();
        let written = api
            .replace_status(&self.job.name_any(), &PostParams::default(), &body)
            .await?;
        self.sh.expectations.status_written(&self.uid, replaced);
        let mut job = written;
        // Keep the working status (the server's copy is the same, tidied).
        job.status = self.job.status.take();
        self.job = job;
        Ok(())
    }
}

/// Counts uncounted pods whose finalizer is gone. Returns whether the
/// status changed.
fn clean_uncounted(status: &mut JobStatus, with_finalizer: &HashSet<String>) -> bool {
    let u = status
        .uncounted_terminated_pods
        .get_or_insert_with(UncountedTerminatedPods::default);
    let mut changed = false;
    let mut moved = |list: &mut Option<Vec<String>>| -> i32 {
        let before = len(list);
        if let Some(l) = list.as_mut() {
            l.retain(|uid| with_finalizer.contains(uid));
        }
        let gone = before - len(list);
        if gone > 0 {
            changed = true;
        }
        i32::try_from(gone).unwrap_or(i32::MAX)
    };
    let s = moved(&mut u.succeeded);
    let f = moved(&mut u.failed);
    if s > 0 {
        status.succeeded = Some(status.succeeded.unwrap_or(0) + s);
    }
    if f > 0 {
        status.failed = Some(status.failed.unwrap_or(0) + f);
    }
    changed
}

/// Empty lists and zero counters are left out, as upstream's `omitempty`.
fn tidy(st: &mut JobStatus) {
    if let Some(u) = st.uncounted_terminated_pods.as_mut() {
        if u.succeeded.as_ref().is_some_and(Vec::is_empty) {
            u.succeeded = None;
        }
        if u.failed.as_ref().is_some_and(Vec::is_empty) {
            u.failed = None;
        }
    }
    for n in [&mut st.active, &mut st.succeeded, &mut st.failed] {
        if *n == Some(0) {
            *n = None;
        }
    }
    if st.conditions.as_ref().is_some_and(Vec::is_empty) {
        st.conditions = None;
    }
}

fn len(l: &Option<Vec<String>>) -> usize {
    l.as_ref().map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_moves_uids_without_finalizer_into_counters() {
        let mut st = JobStatus {
            succeeded: Some(2),
            uncounted_terminated_pods: Some(UncountedTerminatedPods {
                succeeded: Some(vec!["a".into(), "b".into()]),
                failed: Some(vec!["c".into()]),
            }),
            ..Default::default()
        };
        let with: HashSet<String> = ["b".to_string()].into();
        assert!(clean_uncounted(&mut st, &with));
        assert_eq!((st.succeeded, st.failed), (Some(3), Some(1)));
        let u = st.uncounted_terminated_pods.as_ref().unwrap();
        assert_eq!(u.succeeded.as_deref(), Some(&["b".to_string()][..]));
        assert!(!clean_uncounted(&mut st, &with));
        tidy(&mut st);
        assert_eq!(st.uncounted_terminated_pods.unwrap().failed, None);
    }
}

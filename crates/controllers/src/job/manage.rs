//! Keeping the right number of a Job's pods running (upstream's
//! `manageJob`): creating pods in slow-start batches after the backoff,
//! deleting the surplus (and all of a suspended Job's), and stopping the
//! pods of a Job that failed or met its success criteria.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::runtime::events::EventType;

use super::indexes;
use super::podcontrol::{new_pod, not_found};
use super::pods::{self, has_tracking_finalizer};
use super::sync::{JobSync, earliest};
use crate::Error;

/// Most pods created or deleted in one sync (upstream's
/// `MaxPodCreateDeletePerSync`).
const MAX_POD_CREATE_DELETE_PER_SYNC: usize = 500;

impl JobSync<'_> {
    /// Keeps `min(parallelism, remaining completions)` pods active (none
    /// when suspended), waiting out the backoff before replacing failures.
    /// Returns the new active count.
    pub(super) async fn manage(&mut self, mut active: i32) -> (i32, Option<Error>) {
        if self.suspended() {
            let all = self.active.len();
            let to_delete = self.pods_for_removal(all);
            let (ready, removed, err) = self.delete_job_pods(&to_delete).await;
            self.terminating += removed;
            self.ready -= ready;
            return (active - removed, err);
        }
        let parallelism = self.spec().parallelism.unwrap_or(1);
        let want = match self.completions() {
            None if self.succeeded > 0 => active,
            None => parallelism,
            Some(c) => (c - self.succeeded).clamp(0, parallelism),
        };
        let rm_at_least = usize::try_from(active - want).unwrap_or(0);
        let mut to_delete = self.pods_for_removal(rm_at_least);
        to_delete.truncate(MAX_POD_CREATE_DELETE_PER_SYNC);
        if !to_delete.is_empty() {
            let (ready, removed, err) = self.delete_job_pods(&to_delete).await;
            self.terminating += removed;
            self.ready -= ready;
            return (active - removed, err);
        }
        let terminating = if self.only_replace_failed() {
            self.terminating
        } else {
            0
        };
        let diff = want - terminating - active;
        if diff <= 0 {
            return (active, None);
        }
        let cfg = &self.sh.config;
        let wait = self
            .backoff
            .remaining(self.now, cfg.backoff_base, cfg.backoff_max);
        if !wait.is_zero() {
            self.requeue = earliest(self.requeue, wait);
            return (active, None);
        }
        let diff = usize::try_from(diff)
            .unwrap_or(0)
            .min(MAX_POD_CREATE_DELETE_PER_SYNC);
        let new_pods: Vec<Pod> = if self.indexed() {
            let mut taken = self.succeeded_indexes.clone();
            taken.extend(self.active.iter().filter_map(|p| pods::completion_index(p)));
            if self.only_replace_failed() {
                taken.extend(
                    self.pods
                        .iter()
                        .filter(|p| pods::terminating(p))
                        .filter_map(|p| pods::completion_index(p)),
                );
            }
            let completions = self.completions().unwrap_or(0);
            indexes::first_pending(&taken, diff, completions)
                .into_iter()
                .map(|ix| new_pod(&self.job, Some(ix)))
                .collect()
        } else {
            (0..diff).map(|_| new_pod(&self.job, None)).collect()
        };
        let (created, err) = self.create_pods(new_pods).await;
        active += created;
        (active, err)
    }

    /// Creates pods in batches of 1, 2, 4, … ("slow start"), stopping at
    /// the first batch with a failure. Returns how many were created.
    async fn create_pods(&mut self, new_pods: Vec<Pod>) -> (i32, Option<Error>) {
        let names = new_pods.iter().map(|p| p.name_any());
        self.sh.expectations.expect_creations(&self.uid, names);
        let control = self.pod_control();
        let mut created = 0;
        let mut first_err = None;
        let mut rest = new_pods.as_slice();
        let mut batch = 1;
        while !rest.is_empty() {
            let (now, later) = rest.split_at(batch.min(rest.len()));
            rest = later;
            let results = join_all(now.iter().map(|p| control.create(p))).await;
            let mut failed = false;
            for (pod, res) in now.iter().zip(results) {
                let name = pod.name_any();
                match res {
                    Ok(made) => {
                        created += 1;
                        self.sh
                            .event_related(
                                &self.job,
                                EventType::Normal,
                                "SuccessfulCreate",
                                format!("Created pod: {name}"),
                                Some(&made),
                            )
                            .await;
                    }
                    Err(e) => {
                        failed = true;
                        self.sh.expectations.creation_failed(&self.uid, &name);
                        self.sh
                            .event(
                                &self.job,
                                EventType::Warning,
                                "FailedCreate",
                                format!("Error creating: {e}"),
                            )
                            .await;
                        first_err.get_or_insert(Error::Api(e));
                    }
                }
            }
            if failed {
                for p in rest {
                    self.sh
                        .expectations
                        .creation_failed(&self.uid, &p.name_any());
                }
                break;
            }
            batch *= 2;
        }
        (created, first_err)
    }

    /// The active pods to remove first, at least `at_least` of them; for
    /// Indexed Jobs also those with a repeated, missing or out-of-range
    /// index (upstream's `activePodsForRemoval`).
    fn pods_for_removal(&self, at_least: usize) -> Vec<Arc<Pod>> {
        let mut rm: Vec<Arc<Pod>> = Vec::new();
        let mut left: Vec<Arc<Pod>> = Vec::new();
        if self.indexed() {
            let completions = self.completions().unwrap_or(0);
            let mut by_index: BTreeMap<i32, Vec<Arc<Pod>>> = Default::default();
            for p in &self.active {
                match pods::completion_index(p) {
                    Some(i) if i < completions => by_index.entry(i).or_default().push(p.clone()),
                    _ => rm.push(p.clone()),
                }
            }
            for (_, mut same) in by_index {
                same.sort_by(|a, b| pods::removal_order(a, b));
                if let Some(keep) = same.pop() {
                    left.push(keep);
                }
                rm.extend(same);
            }
        } else {
            left = self.active.clone();
        }
        if rm.len() < at_least {
            left.sort_by(|a, b| pods::removal_order(a, b));
            let more = (at_least - rm.len()).min(left.len());
            rm.extend(left.into_iter().take(more));
        }
        rm
    }

    /// Deletes pods the Job no longer wants, first removing their tracking
    /// finalizer so they are not counted as failures. Returns (ready
    /// removed, removed, error).
    async fn delete_job_pods(&self, targets: &[Arc<Pod>]) -> (i32, i32, Option<Error>) {
        let uids = targets.iter().filter_map(|p| p.uid());
        self.sh.expectations.expect_deletions(&self.uid, uids);
        let control = self.pod_control();
        let results = join_all(targets.iter().map(|p| {
            let control = &control;
            async move {
                let name = p.name_any();
                if has_tracking_finalizer(p)
                    && let Err(e) = control.remove_tracking_finalizer(&name).await
                {
                    return Err(e);
                }
                control.delete(&name).await
            }
        }))
        .await;
        self.tally_deletions(targets, results, true).await
    }

    /// Deletes the active pods of a Job that failed or met its success
    /// criteria, keeping their finalizers so they are counted.
    pub(super) async fn delete_active_pods(
        &self,
        targets: &[Arc<Pod>],
    ) -> (i32, i32, Option<Error>) {
        let control = self.pod_control();
        let results = join_all(targets.iter().map(|p| {
            let (control, name) = (&control, p.name_any());
            async move { control.delete(&name).await }
        }))
        .await;
        self.tally_deletions(targets, results, false).await
    }

    async fn tally_deletions(
        &self,
        targets: &[Arc<Pod>],
        results: Vec<kube::Result<()>>,
        expected: bool,
    ) -> (i32, i32, Option<Error>) {
        let (mut ready, mut removed, mut first_err) = (0, 0, None);
        for (p, res) in targets.iter().zip(results) {
            let name = p.name_any();
            match res {
                Ok(()) => {
                    removed += 1;
                    if pods::ready(p) {
                        ready += 1;
                    }
                    self.sh
                        .event_related(
                            &self.job,
                            EventType::Normal,
                            "SuccessfulDelete",
                            format!("Deleted pod: {name}"),
                            Some(p),
                        )
                        .await;
                }
                Err(e) if not_found(&e) => {
                    removed += 1;
                    if expected {
                        self.sh
                            .expectations
                            .deletion_failed(&self.uid, &p.uid().unwrap_or_default());
                    }
                }
                Err(e) => {
                    if expected {
                        self.sh
                            .expectations
                            .deletion_failed(&self.uid, &p.uid().unwrap_or_default());
                    }
                    self.sh
                        .event(
                            &self.job,
                            EventType::Warning,
                            "FailedDelete",
                            format!("Error deleting: {e}"),
                        )
                        .await;
                    first_err.get_or_insert(Error::Api(e));
                }
            }
        }
        (ready, removed, first_err)
    }
}

//! One sync of one Job (upstream's `syncJob`): count what finished,
//! decide whether the Job failed or completed, and otherwise let
//! `manage.rs` keep the right number of pods running.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;

use super::backoff::BackoffRecord;
use super::clock::since;
use super::conditions::{self as cond};
use super::podcontrol::PodControl;
use super::pods::{self, has_tracking_finalizer};
use super::{Shared, indexes};
use crate::{Error, Result};

/// How long a sync waits for the cache to catch up with its own status
/// write before looking again (the watch event usually comes first).
const STALE_RETRY: Duration = Duration::from_millis(200);

/// The state of one sync.
pub(super) struct JobSync<'a> {
    pub(super) sh: &'a Shared,
    pub(super) uid: String,
    /// A working copy; its status is what gets written.
    pub(super) job: Job,
    pub(super) pods: Vec<Arc<Pod>>,
    pub(super) active: Vec<Arc<Pod>>,
    pub(super) ready: i32,
    pub(super) terminating: i32,
    pub(super) uncounted_succeeded: HashSet<String>,
    pub(super) uncounted_failed: HashSet<String>,
    pub(super) expected_rm_finalizers: HashSet<String>,
    pub(super) succeeded: i32,
    pub(super) failed: i32,
    pub(super) prev_succeeded_indexes: BTreeSet<i32>,
    pub(super) succeeded_indexes: BTreeSet<i32>,
    pub(super) finished: Option<JobCondition>,
    pub(super) backoff: BackoffRecord,
    pub(super) requeue: Option<Duration>,
    pub(super) now: Timestamp,
}

/// Syncs `job`; the returned action says when to look again.
pub(super) async fn reconcile(job: Arc<Job>, sh: Arc<Shared>) -> Result<Action> {
    let stores_ready =
        futures::future::join(sh.jobs.wait_until_ready(), sh.pods.wait_until_ready()).await;
    if stores_ready.0.is_err() || stores_ready.1.is_err() {
        return Err(Error::Invalid("the job controller's caches stopped".into()));
    }
    let uid = job.uid().unwrap_or_default();
    if managed_elsewhere(&job) {
        return Ok(Action::await_change());
    }
    if sh
        .expectations
        .status_stale(&uid, job.metadata.resource_version.as_deref())
    {
        tracing::debug!(job = %job.name_any(), rv = ?job.metadata.resource_version, "job sync: cache older than our status write; waiting");
        return Ok(Action::requeue(STALE_RETRY));
    }
    if cond::is_finished(&job) {
        sh.backoff.remove(&uid);
        super::orphans::release_finished(&sh, &job).await?;
        return Ok(Action::await_change());
    }
    let mode = spec(&job)
        .completion_mode
        .as_deref()
        .unwrap_or("NonIndexed");
    if mode != "NonIndexed" && mode != "Indexed" {
        sh.event(
            &job,
            EventType::Warning,
            "UnknownCompletionMode",
            "Skipped Job sync because completion mode is unknown".into(),
        )
        .await;
        return Ok(Action::await_change());
    }
    let now = sh.config.clock.now();
    let sync = JobSync {
        sh: &sh,
        uid,
        job: (*job).clone(),
        pods: Vec::new(),
        active: Vec::new(),
        ready: 0,
        terminating: 0,
        uncounted_succeeded: HashSet::new(),
        uncounted_failed: HashSet::new(),
        expected_rm_finalizers: HashSet::new(),
        succeeded: 0,
        failed: 0,
        prev_succeeded_indexes: BTreeSet::new(),
        succeeded_indexes: BTreeSet::new(),
        finished: None,
        backoff: BackoffRecord::default(),
        requeue: None,
        now,
    };
    sync.run().await
}

/// A Job whose `spec.managedBy` names another controller.
fn managed_elsewhere(job: &Job) -> bool {
    spec(job)
        .managed_by
        .as_deref()
        .is_some_and(|m| m != "kubernetes.io/job-controller")
}

fn spec(job: &Job) -> &JobSpec {
    static EMPTY: std::sync::OnceLock<JobSpec> = std::sync::OnceLock::new();
    job.spec
        .as_ref()
        .unwrap_or_else(|| EMPTY.get_or_init(JobSpec::default))
}

/// The first of two optional delays.
pub(super) fn earliest(a: Option<Duration>, b: Duration) -> Option<Duration> {
    Some(a.map_or(b, |a| a.min(b)))
}

// === impl JobSync ===

impl JobSync<'_> {
    pub(super) fn spec(&self) -> &JobSpec {
        spec(&self.job)
    }

    pub(super) fn indexed(&self) -> bool {
        self.spec().completion_mode.as_deref() == Some("Indexed")
    }

    pub(super) fn completions(&self) -> Option<i32> {
        self.spec().completions
    }

    pub(super) fn suspended(&self) -> bool {
        self.spec().suspend == Some(true)
    }

    /// Only Failed pods are replaced (`podReplacementPolicy: Failed`, or a
    /// pod failure policy): terminating pods are not failures yet.
    pub(super) fn only_replace_failed(&self) -> bool {
        self.spec().pod_replacement_policy.as_deref() == Some("Failed")
            || self.spec().pod_failure_policy.is_some()
    }

    /// Upstream's `isPodFailed`: Failed, or being deleted unfinished when
    /// terminating pods count as failures.
    pub(super) fn pod_failed(&self, p: &Pod) -> bool {
        if pods::phase(p) == "Failed" {
            return true;
        }
        !self.only_replace_failed() && pods::deleting(p) && !pods::succeeded(p)
    }

    pub(super) fn index_in_range(&self, p: &Pod) -> bool {
        let completions = self.completions().unwrap_or(0);
        pods::completion_index(p).is_some_and(|i| i < completions)
    }

    pub(super) fn ns(&self) -> String {
        self.job.namespace().unwrap_or_default()
    }

    pub(super) fn pod_control(&self) -> PodControl {
        PodControl::new(self.sh.client.clone(), &self.ns())
    }

    pub(super) fn status_mut(&mut self) -> &mut k8s_openapi::api::batch::v1::JobStatus {
        self.job.status.get_or_insert_with(Default::default)
    }

    async fn run(mut self) -> Result<Action> {
        let uncounted = self
            .status_mut()
            .uncounted_terminated_pods
            .get_or_insert_with(Default::default)
            .clone();
        self.uncounted_succeeded = uncounted.succeeded.into_iter().flatten().collect();
        self.uncounted_failed = uncounted.failed.into_iter().flatten().collect();
        let satisfied = self.sh.expectations.satisfied(&self.uid);
        self.pods = self.claim_pods().await?;
        self.active = self
            .pods
            .iter()
            .filter(|p| pods::active(p))
            .cloned()
            .collect();
        self.ready = count(self.active.iter().filter(|p| pods::ready(p)));
        self.terminating = count(self.pods.iter().filter(|p| pods::terminating(p)));
        let present: HashSet<String> = self.pods.iter().filter_map(|p| p.uid()).collect();
        self.sh
            .expectations
            .retain_finalizer_removals(&self.uid, &present);
        self.expected_rm_finalizers = self.sh.expectations.expected_finalizer_removals(&self.uid);
        let mut active = count(self.active.iter());

        let (new_succeeded, new_failed) = self.new_finished_pods();
        let status = self.job.status.clone().unwrap_or_default();
        self.succeeded = status.succeeded.unwrap_or(0)
            + count(new_succeeded.iter())
            + count(self.uncounted_succeeded.iter());
        let policy = self.spec().pod_failure_policy.as_ref();
        let counted_failures = new_failed
            .iter()
            .filter(|p| super::failure_policy::judge(policy, p).counts);
        self.failed = status.failed.unwrap_or(0)
            + count(counted_failures)
            + count(self.uncounted_failed.iter());

        if status.start_time.is_none() && !self.suspended() {
            let now = self.now;
            self.status_mut().start_time = Some(Time(now));
        }
        {
            let s: Vec<&Pod> = new_succeeded.iter().map(|p| &**p).collect();
            let f: Vec<&Pod> = new_failed.iter().map(|p| &**p).collect();
            self.backoff = self.sh.backoff.next_record(&self.uid, &s, &f);
        }

        self.decide_failure();
        if self.indexed() {
            self.count_indexes();
            if self.finished.is_none()
                && let Some(msg) = super::success::matched(self.spec(), &self.succeeded_indexes)
            {
                self.finished = Some(cond::new(
                    cond::SUCCESS_CRITERIA_MET,
                    "True",
                    cond::REASON_SUCCESS_POLICY,
                    &msg,
                    self.now,
                ));
            }
        }

        let mut suspend_changed = false;
        let mut manage_err = None;
        if self.finished.is_some() {
            let targets = self.active.clone();
            let (deleted_ready, deleted, err) = self.delete_active_pods(&targets).await;
            if deleted != active || !satisfied {
                // Pods not yet in the cache or not yet stopped: not done.
                self.finished = None;
            }
            active -= deleted;
            self.terminating += deleted;
            self.ready -= deleted_ready;
            manage_err = err;
        } else {
            let mut managed = false;
            if satisfied && self.job.metadata.deletion_timestamp.is_none() {
                let (a, err) = self.manage(active).await;
                active = a;
                manage_err = err;
                managed = true;
            }
            let complete = match self.completions() {
                None => self.succeeded > 0 && active == 0,
                Some(c) => self.succeeded >= c && active == 0,
            };
            if complete {
                self.finished = Some(cond::new(
                    cond::SUCCESS_CRITERIA_MET,
                    "True",
                    cond::REASON_COMPLETIONS_REACHED,
                    "Reached expected number of succeeded pods",
                    self.now,
                ));
            } else if managed {
                suspend_changed = self.note_suspension().await;
            }
        }

        let status = self.job.status.clone().unwrap_or_default();
        let needs_update = suspend_changed
            || active != status.active.unwrap_or(0)
            || Some(self.ready) != status.ready
            || Some(self.terminating) != status.terminating;
        let (ready, terminating) = (self.ready, self.terminating);
        let st = self.status_mut();
        st.active = (active > 0).then_some(active);
        st.ready = Some(ready);
        st.terminating = Some(terminating);
        self.track_status_and_remove_finalizers(needs_update)
            .await?;
        if let Some(e) = manage_err {
            return Err(e);
        }
        tracing::debug!(
            job = %self.job.name_any(),
            satisfied,
            active,
            succeeded = self.succeeded,
            failed = self.failed,
            finished = ?self.finished.as_ref().map(|c| c.type_.as_str()),
            requeue = ?self.requeue,
            "job synced"
        );
        let resync = self.sh.resync;
        Ok(Action::requeue(
            earliest(self.requeue, resync).unwrap_or(resync),
        ))
    }

    /// Sets `finished` to a failure when the backoff limit or the active
    /// deadline is passed; otherwise asks to look again at the deadline.
    fn decide_failure(&mut self) {
        self.finished = cond::find_true(&self.job, cond::SUCCESS_CRITERIA_MET).cloned();
        if self.finished.is_none()
            && let Some(target) = cond::find_true(&self.job, cond::FAILURE_TARGET)
        {
            let (reason, message) = reason_message(target);
            self.finished = Some(cond::new(cond::FAILED, "True", &reason, &message, self.now));
        }
        if self.finished.is_none()
            && let Some(message) = self.fail_job_message()
        {
            self.finished = Some(cond::new(
                cond::FAILURE_TARGET,
                "True",
                cond::REASON_POD_FAILURE_POLICY,
                &message,
                self.now,
            ));
        }
        if self.finished.is_some() {
            return;
        }
        let limit = self.spec().backoff_limit.unwrap_or(6);
        if self.failed > limit || self.past_backoff_limit_on_failure(limit) {
            self.finished = Some(cond::new(
                cond::FAILURE_TARGET,
                "True",
                cond::REASON_BACKOFF_LIMIT_EXCEEDED,
                "Job has reached the specified backoff limit",
                self.now,
            ));
        } else if let Some(left) = self.deadline_left() {
            if left.is_zero() {
                self.finished = Some(cond::new(
                    cond::FAILURE_TARGET,
                    "True",
                    cond::REASON_DEADLINE_EXCEEDED,
                    "Job was active longer than specified deadline",
                    self.now,
                ));
            } else {
                self.requeue = earliest(self.requeue, left);
            }
        }
    }

    /// The message of the first FailJob rule a failed pod matches.
    fn fail_job_message(&self) -> Option<String> {
        let policy = self.spec().pod_failure_policy.as_ref()?;
        self.pods
            .iter()
            .filter(|p| self.pod_failed(p))
            .find_map(|p| super::failure_policy::judge(Some(policy), p).fail_job)
    }

    /// Time left before `activeDeadlineSeconds`, when it applies.
    fn deadline_left(&self) -> Option<Duration> {
        let ads = self.spec().active_deadline_seconds?;
        if self.suspended() {
            return None;
        }
        let start = self.job.status.as_ref()?.start_time.as_ref()?.0;
        let allowed = Duration::from_secs(u64::try_from(ads).unwrap_or(0));
        Some(allowed.saturating_sub(since(self.now, start)))
    }

    /// With `restartPolicy: OnFailure`, container restarts of running
    /// pods count against the backoff limit.
    fn past_backoff_limit_on_failure(&self, limit: i32) -> bool {
        let on_failure = self
            .spec()
            .template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            == Some("OnFailure");
        if !on_failure {
            return false;
        }
        let restarts: i32 = self
            .pods
            .iter()
            .filter(|p| matches!(pods::phase(p), "Running" | "Pending"))
            .filter_map(|p| p.status.as_ref())
            .flat_map(|s| {
                s.init_container_statuses
                    .iter()
                    .flatten()
                    .chain(s.container_statuses.iter().flatten())
            })
            .map(|c| c.restart_count)
            .sum();
        if limit == 0 {
            restarts > 0
        } else {
            restarts >= limit
        }
    }

    /// Succeeded and failed pods not yet in the status (they still carry
    /// the finalizer and are not in the uncounted lists).
    fn new_finished_pods(&self) -> (Vec<Arc<Pod>>, Vec<Arc<Pod>>) {
        let valid = |p: &Pod, uncounted: &HashSet<String>| {
            let uid = p.uid().unwrap_or_default();
            has_tracking_finalizer(p)
                && !uncounted.contains(&uid)
                && !self.expected_rm_finalizers.contains(&uid)
                && (!self.indexed() || self.index_in_range(p))
        };
        let succeeded = self
            .pods
            .iter()
            .filter(|p| valid(p, &self.uncounted_succeeded) && pods::succeeded(p))
            .cloned()
            .collect();
        let failed = self
            .pods
            .iter()
            .filter(|p| valid(p, &self.uncounted_failed) && self.pod_failed(p))
            .cloned()
            .collect();
        (succeeded, failed)
    }

    /// Indexed Jobs: completed indexes from the status plus succeeded pods
    /// still to be counted.
    fn count_indexes(&mut self) {
        let completions = self.completions().unwrap_or(0);
        let recorded = self
            .job
            .status
            .as_ref()
            .and_then(|s| s.completed_indexes.as_deref())
            .unwrap_or("");
        self.prev_succeeded_indexes = indexes::parse(recorded, completions);
        let mut all = self.prev_succeeded_indexes.clone();
        all.extend(
            self.pods
                .iter()
                .filter(|p| pods::succeeded(p) && has_tracking_finalizer(p))
                .filter_map(|p| pods::completion_index(p))
                .filter(|i| *i < completions),
        );
        self.succeeded = count(all.iter());
        self.succeeded_indexes = all;
    }

    /// Keeps the Suspended condition in step with `spec.suspend`; a resumed
    /// Job restarts its active deadline.
    async fn note_suspension(&mut self) -> bool {
        let now = self.now;
        let suspended = self.suspended();
        let st = self.status_mut();
        let list = st.conditions.get_or_insert_with(Vec::new);
        let changed = if suspended {
            cond::ensure(
                list,
                cond::SUSPENDED,
                "True",
                "JobSuspended",
                "Job suspended",
                now,
            )
        } else {
            cond::ensure(
                list,
                cond::SUSPENDED,
                "False",
                "JobResumed",
                "Job resumed",
                now,
            )
        };
        if list.is_empty() {
            st.conditions = None;
        }
        if !changed {
            return false;
        }
        if suspended {
            let job = self.job.clone();
            self.sh
                .event(&job, EventType::Normal, "Suspended", "Job suspended".into())
                .await;
        } else {
            self.status_mut().start_time = Some(Time(now));
            let job = self.job.clone();
            self.sh
                .event(&job, EventType::Normal, "Resumed", "Job resumed".into())
                .await;
        }
        true
    }
}

fn count<T>(it: impl Iterator<Item = T>) -> i32 {
    i32::try_from(it.count()).unwrap_or(i32::MAX)
}

fn reason_message(c: &JobCondition) -> (String, String) {
    (
        c.reason.clone().unwrap_or_default(),
        c.message.clone().unwrap_or_default(),
    )
}

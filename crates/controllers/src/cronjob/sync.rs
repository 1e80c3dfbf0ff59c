//! One sync of one CronJob (upstream's `sync`, `cleanupFinishedJobs` and
//! `syncCronJob`): reap finished Jobs past the history limits, reconcile
//! `status.active` with the Jobs that exist, and start the Job for the
//! most recent unmet schedule time as the concurrency policy allows.

use std::sync::Arc;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::jiff::tz::TimeZone;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;

use super::Shared;
use super::jobs::{
    active_list, already_exists, delete_from_active_list, finished_type, in_active_list,
    job_from_template, job_name, job_ref, not_found,
};
use super::schedule::{Schedule, load_zone};
use super::times::{Missed, most_recent, next_requeue};
use crate::job::is_finished;
use crate::{Error, Result};

/// Syncs `cj`; the action says when its next start time is.
pub(super) async fn reconcile(cj: Arc<CronJob>, sh: Arc<Shared>) -> Result<Action> {
    if sh.cronjobs.wait_until_ready().await.is_err() || sh.jobs.wait_until_ready().await.is_err() {
        return Err(Error::Invalid(
            "the cronjob controller's caches stopped".into(),
        ));
    }
    let jobs = jobs_of(&sh, &cj);
    let mut copy = (*cj).clone();
    let mut s = CronSync {
        sh: &sh,
        now: sh.config.clock.now(),
    };
    let cleaned = s.cleanup_finished_jobs(&mut copy, &jobs).await;
    let (requeue, synced, sync_err) = s.sync(&mut copy, &jobs).await;
    if cleaned || synced {
        let api: Api<CronJob> = Api::namespaced(sh.client.clone(), &ns(&cj));
        api.replace_status(&cj.name_any(), &PostParams::default(), &copy)
            .await?;
    }
    match (requeue, sync_err) {
        (Some(d), _) => Ok(Action::requeue(d)),
        (None, Some(e)) => Err(e),
        (None, None) => Ok(Action::await_change()),
    }
}

fn ns(cj: &CronJob) -> String {
    cj.namespace().unwrap_or_default()
}

/// The Jobs whose controller reference names this CronJob (by name, as
/// upstream: Jobs whose labels no longer match still count).
fn jobs_of(sh: &Shared, cj: &CronJob) -> Vec<Arc<Job>> {
    let ns = ns(cj);
    let name = cj.name_any();
    sh.jobs
        .state()
        .into_iter()
        .filter(|j| j.namespace().as_deref() == Some(ns.as_str()))
        .filter(|j| {
            j.owner_references()
                .iter()
                .any(|o| o.controller == Some(true) && o.kind == "CronJob" && o.name == name)
        })
        .collect()
}

struct CronSync<'a> {
    sh: &'a Shared,
    now: Timestamp,
}

// === impl CronSync ===

impl CronSync<'_> {
    async fn event(&self, cj: &CronJob, type_: EventType, reason: &str, note: String) {
        self.sh.event(cj, type_, reason, note).await;
    }

    /// Deletes the oldest finished Jobs beyond the history limits.
    /// Returns whether the status changed.
    async fn cleanup_finished_jobs(&self, cj: &mut CronJob, jobs: &[Arc<Job>]) -> bool {
        let spec = cj.spec.clone().unwrap_or_default();
        if spec.successful_jobs_history_limit.is_none() && spec.failed_jobs_history_limit.is_none()
        {
            return false;
        }
        let mut succeeded: Vec<&Job> = Vec::new();
        let mut failed: Vec<&Job> = Vec::new();
        for j in jobs {
            match finished_type(j) {
                Some("Complete") => succeeded.push(j),
                Some(_) => failed.push(j),
                None => {}
            }
        }
        let mut changed = false;
        if let Some(limit) = spec.successful_jobs_history_limit {
            changed |= self.remove_oldest(cj, succeeded, limit).await;
        }
        if let Some(limit) = spec.failed_jobs_history_limit {
            changed |= self.remove_oldest(cj, failed, limit).await;
        }
        changed
    }

    async fn remove_oldest(&self, cj: &mut CronJob, mut jobs: Vec<&Job>, keep: i32) -> bool {
        let excess = jobs
            .len()
            .saturating_sub(usize::try_from(keep).unwrap_or(0));
        if excess == 0 {
            return false;
        }
        let start = |j: &Job| {
            j.status
                .as_ref()
                .and_then(|s| s.start_time.as_ref())
                .map(|t| t.0)
        };
        jobs.sort_by(|a, b| match (start(a), start(b)) {
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
            (x, y) if x == y => a.name_any().cmp(&b.name_any()),
            (x, y) => x.cmp(&y),
        });
        let mut changed = false;
        for j in jobs.into_iter().take(excess) {
            changed |= self.delete_job(cj, j).await;
        }
        changed
    }

    /// Deletes a Job (propagation Background) and drops it from the active
    /// list. Returns whether it did.
    async fn delete_job(&self, cj: &mut CronJob, job: &Job) -> bool {
        let api: Api<Job> = Api::namespaced(self.sh.client.clone(), &ns(cj));
        match api
            .delete(&job.name_any(), &DeleteParams::background())
            .await
        {
            Ok(_) => {}
            Err(e) if not_found(&e) => {}
            Err(e) => {
                self.event(
                    cj,
                    EventType::Warning,
                    "FailedDelete",
                    format!("Deleted job: {e}"),
                )
                .await;
                return false;
            }
        }
        delete_from_active_list(cj, &job.uid().unwrap_or_default());
        self.event(
            cj,
            EventType::Normal,
            "SuccessfulDelete",
            format!("Deleted job {}", job.name_any()),
        )
        .await;
        true
    }

    /// Upstream's `syncCronJob`: returns (when to requeue, whether the
    /// status changed, error).
    async fn sync(
        &mut self,
        cj: &mut CronJob,
        jobs: &[Arc<Job>],
    ) -> (Option<std::time::Duration>, bool, Option<Error>) {
        let mut changed = false;
        let children: Vec<String> = jobs.iter().filter_map(|j| j.uid()).collect();
        for j in jobs {
            let uid = j.uid().unwrap_or_default();
            let found = in_active_list(cj, &uid);
            if !found && !is_finished(j) {
                // Not ours yet: perhaps a status write we have not seen.
                let api: Api<CronJob> = Api::namespaced(self.sh.client.clone(), &ns(cj));
                match api.get(&cj.name_any()).await {
                    Ok(fresh) if in_active_list(&fresh, &uid) => {
                        *cj = fresh;
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => return (None, changed, Some(e.into())),
                }
                self.event(
                    cj,
                    EventType::Warning,
                    "UnexpectedJob",
                    format!(
                        "Saw a job that the controller did not create or forgot: {}",
                        j.name_any()
                    ),
                )
                .await;
            } else if found && is_finished(j) {
                delete_from_active_list(cj, &uid);
                let condition = finished_type(j).unwrap_or_default();
                self.event(
                    cj,
                    EventType::Normal,
                    "SawCompletedJob",
                    format!(
                        "Saw completed job: {}, condition: {condition}",
                        j.name_any()
                    ),
                )
                .await;
                changed = true;
            } else if finished_type(j) == Some("Complete") {
                let done = j.status.as_ref().and_then(|s| s.completion_time.clone());
                let st = cj.status.get_or_insert_with(Default::default);
                let newer = match (&st.last_successful_time, &done) {
                    (None, Some(_)) => true,
                    (Some(last), Some(d)) => d.0 > last.0,
                    _ => false,
                };
                if newer {
                    st.last_successful_time = done;
                    changed = true;
                }
            }
        }
        // Active Jobs that no longer exist (asking the API, not the cache).
        let active: Vec<ObjectReference> = cj
            .status
            .as_ref()
            .and_then(|s| s.active.clone())
            .unwrap_or_default();
        for r in active {
            let uid = r.uid.clone().unwrap_or_default();
            if children.contains(&uid) {
                continue;
            }
            let name = r.name.clone().unwrap_or_default();
            let api: Api<Job> = Api::namespaced(
                self.sh.client.clone(),
                r.namespace.as_deref().unwrap_or(&ns(cj)),
            );
            match api.get_opt(&name).await {
                Ok(None) => {
                    self.event(
                        cj,
                        EventType::Normal,
                        "MissingJob",
                        format!("Active job went missing: {name}"),
                    )
                    .await;
                    delete_from_active_list(cj, &uid);
                    changed = true;
                }
                Ok(Some(_)) => {}
                Err(e) => return (None, changed, Some(e.into())),
            }
        }
        if cj.metadata.deletion_timestamp.is_some() {
            return (None, changed, None);
        }
        let spec = cj.spec.clone().unwrap_or_default();
        let tz = match spec.time_zone.as_deref() {
            None => TimeZone::UTC,
            Some(name) => match load_zone(name) {
                Ok(tz) => tz,
                Err(e) => {
                    self.event(
                        cj,
                        EventType::Warning,
                        "UnknownTimeZone",
                        format!("invalid timeZone: {name:?}: {e}"),
                    )
                    .await;
                    return (None, changed, None);
                }
            },
        };
        if spec.suspend == Some(true) {
            return (None, changed, None);
        }
        if spec.schedule.contains("TZ") {
            self.event(
                cj,
                EventType::Warning,
                "UnsupportedSchedule",
                format!(
                    "CRON_TZ or TZ used in schedule {:?} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                    spec.schedule
                ),
            )
            .await;
        }
        let schedule = match Schedule::parse(&spec.schedule, tz.clone()) {
            Ok(s) => s,
            Err(e) => {
                self.event(
                    cj,
                    EventType::Warning,
                    "UnparseableSchedule",
                    format!("unparseable schedule: {:?} : {e}", spec.schedule),
                )
                .await;
                return (None, changed, None);
            }
        };
        let requeue = |cj: &CronJob, now| Some(next_requeue(cj, now, &schedule));
        let recent = match most_recent(cj, self.now, &schedule, true) {
            Ok(r) => r,
            Err(e) => {
                self.event(
                    cj,
                    EventType::Warning,
                    "InvalidSchedule",
                    format!("invalid schedule: {} : {e}", spec.schedule),
                )
                .await;
                return (None, changed, None);
            }
        };
        let Some(scheduled) = recent.most_recent.filter(|t| *t <= self.now) else {
            return (requeue(cj, self.now), changed, None);
        };
        if recent.missed == Missed::Many {
            self.event(
                cj,
                EventType::Warning,
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew".into(),
            )
            .await;
        }
        if let Some(d) = spec.starting_deadline_seconds {
            let too_late = crate::job::clock::add(
                scheduled,
                std::time::Duration::from_secs(u64::try_from(d).unwrap_or(0)),
            ) < self.now;
            if too_late {
                let when = scheduled
                    .strftime("%a, %d %b %Y %H:%M:%S +0000")
                    .to_string();
                self.event(
                    cj,
                    EventType::Warning,
                    "MissSchedule",
                    format!("Missed scheduled time to start a job: {when}"),
                )
                .await;
                return (requeue(cj, self.now), changed, None);
            }
        }
        let name = job_name(&cj.name_any(), scheduled);
        let processed = cj
            .status
            .as_ref()
            .and_then(|s| s.active.as_ref())
            .is_some_and(|a| a.iter().any(|r| r.name.as_deref() == Some(name.as_str())))
            || cj
                .status
                .as_ref()
                .and_then(|s| s.last_schedule_time.as_ref())
                .is_some_and(|t| t.0 == scheduled);
        if processed {
            return (requeue(cj, self.now), changed, None);
        }
        let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
        let active_now = cj
            .status
            .as_ref()
            .and_then(|s| s.active.as_ref())
            .map_or(0, Vec::len);
        if policy == "Forbid" && active_now > 0 {
            self.event(
                cj,
                EventType::Normal,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid".into(),
            )
            .await;
            return (requeue(cj, self.now), changed, None);
        }
        if policy == "Replace" {
            let active = cj
                .status
                .as_ref()
                .and_then(|s| s.active.clone())
                .unwrap_or_default();
            for r in active {
                let api: Api<Job> = Api::namespaced(
                    self.sh.client.clone(),
                    r.namespace.as_deref().unwrap_or(&ns(cj)),
                );
                let job = match api.get(r.name.as_deref().unwrap_or_default()).await {
                    Ok(j) => j,
                    Err(e) => {
                        self.event(cj, EventType::Warning, "FailedGet", format!("Get job: {e}"))
                            .await;
                        return (None, changed, Some(e.into()));
                    }
                };
                if !self.delete_job(cj, &job).await {
                    let msg = format!("could not replace job {}/{}", ns(cj), job.name_any());
                    return (None, changed, Some(Error::Invalid(msg)));
                }
                changed = true;
            }
        }
        let request = job_from_template(cj, scheduled, &tz);
        let api: Api<Job> = Api::namespaced(self.sh.client.clone(), &ns(cj));
        let created = match api.create(&PostParams::default(), &request).await {
            Ok(j) => {
                self.event(
                    cj,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("Created job {}", j.name_any()),
                )
                .await;
                j
            }
            Err(e) if already_exists(&e) => {
                let existing = match api.get(&request.name_any()).await {
                    Ok(j) => j,
                    Err(e) => return (None, changed, Some(e.into())),
                };
                let ours = existing
                    .owner_references()
                    .iter()
                    .any(|o| o.controller == Some(true) && o.uid == cj.uid().unwrap_or_default());
                if !ours || in_active_list(cj, &existing.uid().unwrap_or_default()) {
                    return (None, changed, None);
                }
                existing
            }
            Err(e) => {
                self.event(
                    cj,
                    EventType::Warning,
                    "FailedCreate",
                    format!("Error creating job: {e}"),
                )
                .await;
                return (None, changed, Some(e.into()));
            }
        };
        active_list(cj).push(job_ref(&created));
        cj.status
            .get_or_insert_with(Default::default)
            .last_schedule_time = Some(Time(scheduled));
        (requeue(cj, self.now), true, None)
    }
}

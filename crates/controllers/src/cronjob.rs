//! The CronJob controller, as upstream's `cronjob-controller` (v2, 1.33)
//! behaves: for each CronJob, at each time its schedule (five-field cron or
//! a descriptor, in `spec.timeZone`) comes due, a Job named
//! `<cronjob>-<minutes since the epoch>` is created from the Job template,
//! unless the CronJob is suspended, the start is later than
//! `startingDeadlineSeconds`, or `concurrencyPolicy: Forbid` finds a run
//! still active (`Replace` deletes it instead). `status.active`,
//! `lastScheduleTime` and `lastSuccessfulTime` follow the Jobs, and
//! finished Jobs beyond the history limits are deleted.
//!
//! The clock is injectable ([`CronJobConfig::clock`]) so tests drive time.

mod jobs;
mod schedule;
mod sync;
mod times;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, stream};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Config as ApplierConfig, applier};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, watcher};
use kube::{Client, Resource, ResourceExt};

pub use jobs::{SCHEDULED_TIMESTAMP_ANNOTATION, job_name};
pub use schedule::{Schedule, load_zone};

use crate::job::clock::{Clock, SystemClock};
use crate::{Context, Error, Result};

/// Settings of the CronJob controller.
#[derive(Clone)]
pub struct CronJobConfig {
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// CronJobs synced at once (upstream's `--concurrent-cron-job-syncs`, 5).
    pub concurrency: u16,
}

impl Default for CronJobConfig {
    fn default() -> Self {
        CronJobConfig {
            clock: Arc::new(SystemClock),
            concurrency: 5,
        }
    }
}

/// What every sync shares.
pub(crate) struct Shared {
    client: Client,
    cronjobs: Store<CronJob>,
    jobs: Store<Job>,
    recorder: Recorder,
    config: CronJobConfig,
}

// === impl Shared ===

impl Shared {
    async fn event(&self, cj: &CronJob, type_: EventType, reason: &str, note: String) {
        let ev = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: reason.into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &cj.object_ref(&())).await {
            tracing::debug!(cronjob = %cj.name_any(), error = %e, "cronjob controller: recording an event failed");
        }
    }
}

/// Runs the CronJob controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    run_with(ctx, CronJobConfig::default()).await
}

/// [`run`] with explicit settings (tests bring a fake clock).
pub async fn run_with(ctx: Context, config: CronJobConfig) -> Result<()> {
    let client = ctx.client.clone();
    let (cronjobs, cj_writer) = reflector::store::<CronJob>();
    let (jobs, job_writer) = reflector::store::<Job>();
    let concurrency = config.concurrency;
    let reporter = Reporter {
        controller: "cronjob-controller".into(),
        instance: None,
    };
    let sh = Arc::new(Shared {
        recorder: Recorder::new(client.clone(), reporter),
        client: client.clone(),
        cronjobs: cronjobs.clone(),
        jobs,
        config,
    });
    let cj_events = reflector::reflector(
        cj_writer,
        watcher(
            Api::<CronJob>::all(client.clone()),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .touched_objects()
    .filter_map(|r| async move {
        match r {
            Ok(cj) => Some(ObjectRef::from_obj(&cj)),
            Err(e) => {
                tracing::warn!(error = %e, "cronjob controller: cronjob watch");
                None
            }
        }
    });
    // A Job's change wakes the CronJob controlling it.
    let job_events = reflector::reflector(
        job_writer,
        watcher(Api::<Job>::all(client), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects()
    .filter_map(|r| async move {
        let job = match r {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(error = %e, "cronjob controller: job watch");
                return None;
            }
        };
        let ns = job.namespace().unwrap_or_default();
        job.owner_references()
            .iter()
            .find(|o| o.controller == Some(true) && o.kind == "CronJob")
            .map(|o| ObjectRef::new(&o.name).within(&ns))
    });
    let jumps = {
        let cronjobs = cronjobs.clone();
        sh.config.clock.jumps().flat_map(move |()| {
            stream::iter(
                cronjobs
                    .state()
                    .iter()
                    .map(|c| ObjectRef::from_obj(&**c))
                    .collect::<Vec<_>>(),
            )
        })
    };
    let queue =
        stream::select(stream::select(cj_events, job_events), jumps).map(Ok::<_, Infallible>);
    applier(
        |cj, sh| Box::pin(sync::reconcile(cj, sh)),
        |_, _, _| Action::requeue(Duration::from_secs(1)),
        sh,
        cronjobs,
        queue,
        ApplierConfig::default().concurrency(concurrency),
    )
    .for_each(|r| async move {
        match r {
            Ok(_) | Err(kube::runtime::controller::Error::ObjectNotFound(_)) => {}
            Err(e) => tracing::warn!(error = %e, "cronjob controller: sync failed"),
        }
    })
    .await;
    Err(Error::Invalid(
        "cronjob controller: the watches ended".into(),
    ))
}

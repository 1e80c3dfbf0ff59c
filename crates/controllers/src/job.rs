//! The Job controller, as upstream's `job-controller` (1.33) behaves: a
//! Job's pods are created from its template (owned by the Job, with the
//! `batch.kubernetes.io/job-tracking` finalizer), `min(parallelism,
//! remaining completions)` at a time, Indexed or not; finished pods are
//! counted through `status.uncountedTerminatedPods` before their finalizer
//! goes ([`tracking`]); failed pods are replaced after an exponential
//! backoff until `backoffLimit` is passed; `activeDeadlineSeconds`,
//! `suspend`, the pod failure policy and the success policy are honoured; the Job ends with
//! SuccessCriteriaMet then Complete, or FailureTarget then Failed. Beside
//! it runs the TTL-after-finished loop ([`ttl`]).
//!
//! Start reading at [`run`]; one sync of one Job is in `sync.rs`.
//!
//! Not done: `backoffLimitPerIndex` (and the FailIndex action that needs
//! it): such Jobs run with the plain backoff limit.

mod backoff;
mod claim;
pub mod clock;
mod conditions;
mod expectations;
mod failure_policy;
mod indexes;
mod manage;
mod orphans;
mod podcontrol;
mod pods;
mod success;
mod sync;
mod tracking;
mod ttl;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{StreamExt, stream};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Config as ApplierConfig, applier};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, Event as WatchEvent, watcher};
use kube::{Client, Resource, ResourceExt};
use tokio::sync::mpsc;

pub use clock::{Clock, FakeClock, SystemClock};
pub use conditions::is_finished;
pub use pods::{COMPLETION_INDEX_ANNOTATION, TRACKING_FINALIZER};

use backoff::BackoffStore;
use expectations::Expectations;
use ironclad_api::selector::LabelSelector;

use crate::{Context, Error, Result};

/// Settings of the Job controller.
#[derive(Clone)]
pub struct JobConfig {
    /// The first delay before replacing a failed pod; doubled per further
    /// failure (upstream's `DefaultJobPodFailureBackOff`, 10 s).
    pub backoff_base: Duration,
    /// The longest such delay (upstream's `MaxJobPodFailureBackOff`, 6 min).
    pub backoff_max: Duration,
    /// Jobs synced at once (upstream's `--concurrent-job-syncs`, 5).
    pub concurrency: u16,
    /// The time source.
    pub clock: Arc<dyn Clock>,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(360),
            concurrency: 5,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for JobConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobConfig")
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// Runs the Job controller (and TTL-after-finished) until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    run_with(ctx, JobConfig::default()).await
}

/// [`run`] with explicit settings (tests shorten the backoff).
pub async fn run_with(ctx: Context, config: JobConfig) -> Result<()> {
    let clock = config.clock.clone();
    futures::try_join!(
        run_jobs(ctx.clone(), config),
        ttl::run(ctx.client.clone(), clock)
    )?;
    Ok(())
}

/// What every sync shares: the client, the caches, the expectations and
/// backoff records, the event recorder and the settings.
pub(crate) struct Shared {
    client: Client,
    jobs: Store<Job>,
    pods: Store<Pod>,
    /// The job cache has been filled once.
    jobs_synced: AtomicBool,
    expectations: Expectations,
    backoff: BackoffStore,
    recorder: Recorder,
    config: JobConfig,
    resync: Duration,
}

/// Work for the orphan worker.
enum Orphans {
    /// A pod that may have a finalizer nobody will remove.
    Pod(ObjectRef<Pod>),
    /// Look at every pod (after the job cache was refilled).
    Sweep,
}

// === impl Shared ===

impl Shared {
    /// Records an event about `job`; failing to is only logged.
    async fn event(&self, job: &Job, type_: EventType, reason: &str, note: String) {
        self.event_related(job, type_, reason, note, None).await;
    }

    /// Records an event about `job` concerning `pod` too (events about
    /// different pods stay apart instead of folding into one series).
    async fn event_related(
        &self,
        job: &Job,
        type_: EventType,
        reason: &str,
        note: String,
        pod: Option<&Pod>,
    ) {
        let ev = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: reason.into(),
            secondary: pod.map(|p| p.object_ref(&())),
        };
        if let Err(e) = self.recorder.publish(&ev, &job.object_ref(&())).await {
            tracing::debug!(job = %job.name_any(), error = %e, "job controller: recording an event failed");
        }
    }

    /// The Jobs a pod event concerns, noting what the event tells the
    /// expectations and the orphan worker.
    fn pod_event(
        &self,
        ev: std::result::Result<WatchEvent<Pod>, watcher::Error>,
        orphans: &mpsc::UnboundedSender<Orphans>,
    ) -> Vec<ObjectRef<Job>> {
        let (pod, gone) = match ev {
            Ok(WatchEvent::Apply(p) | WatchEvent::InitApply(p)) => (p, false),
            Ok(WatchEvent::Delete(p)) => (p, true),
            Ok(WatchEvent::Init | WatchEvent::InitDone) => return Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "job controller: pod watch");
                return Vec::new();
            }
        };
        self.expectations.observe(&pod, gone);
        let ns = pod.namespace().unwrap_or_default();
        if !gone && self.jobs_synced.load(Ordering::Acquire) && orphans::maybe_orphan(self, &pod) {
            let _ = orphans.send(Orphans::Pod(ObjectRef::from_obj(&pod)));
        }
        if let Some(o) = pods::controller_of(&pod) {
            return if o.kind == "Job" {
                vec![ObjectRef::new(&o.name).within(&ns)]
            } else {
                Vec::new()
            };
        }
        if gone || pods::deleting(&pod) {
            return Vec::new();
        }
        // An orphan: the Jobs that select it may adopt it.
        self.jobs
            .state()
            .iter()
            .filter(|j| j.namespace().as_deref() == Some(ns.as_str()))
            .filter(|j| {
                let sel = j.spec.as_ref().and_then(|s| s.selector.as_ref());
                LabelSelector::from_k8s_opt(sel)
                    .is_ok_and(|s| !s.is_empty() && s.matches(pod.labels()))
            })
            .map(|j| ObjectRef::from_obj(&**j))
            .collect()
    }

    /// The Jobs a job event concerns; a deleted Job's pods lose their
    /// tracking finalizers.
    fn job_event(
        &self,
        ev: std::result::Result<WatchEvent<Job>, watcher::Error>,
        orphans: &mpsc::UnboundedSender<Orphans>,
    ) -> Vec<ObjectRef<Job>> {
        match ev {
            Ok(WatchEvent::Apply(j) | WatchEvent::InitApply(j)) => vec![ObjectRef::from_obj(&j)],
            Ok(WatchEvent::Delete(j)) => {
                let uid = j.uid().unwrap_or_default();
                self.expectations.forget(&uid);
                self.backoff.remove(&uid);
                for p in self.pods.state() {
                    if pods::controller_of(&p).is_some_and(|o| o.uid == uid)
                        && pods::has_tracking_finalizer(&p)
                    {
                        let _ = orphans.send(Orphans::Pod(ObjectRef::from_obj(&*p)));
                    }
                }
                Vec::new()
            }
            Ok(WatchEvent::InitDone) => {
                self.jobs_synced.store(true, Ordering::Release);
                let _ = orphans.send(Orphans::Sweep);
                Vec::new()
            }
            Ok(WatchEvent::Init) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "job controller: job watch");
                Vec::new()
            }
        }
    }
}

/// The Job controller proper: watches of Jobs and pods feeding caches and
/// a queue of Jobs to sync, synced by `applier` (at most
/// `config.concurrency` at once, never one Job twice at once).
async fn run_jobs(ctx: Context, config: JobConfig) -> Result<()> {
    let client = ctx.client.clone();
    let (jobs, job_writer) = reflector::store::<Job>();
    let (pods, pod_writer) = reflector::store::<Pod>();
    let reporter = Reporter {
        controller: "job-controller".into(),
        instance: None,
    };
    let concurrency = config.concurrency;
    let sh = Arc::new(Shared {
        recorder: Recorder::new(client.clone(), reporter),
        client: client.clone(),
        jobs: jobs.clone(),
        pods,
        jobs_synced: AtomicBool::new(false),
        expectations: Expectations::default(),
        backoff: BackoffStore::default(),
        config,
        resync: ctx.config.resync_period,
    });
    let (orphan_tx, orphan_rx) = mpsc::unbounded_channel();

    let job_events = {
        let (sh, tx) = (sh.clone(), orphan_tx.clone());
        reflector::reflector(
            job_writer,
            watcher(Api::<Job>::all(client.clone()), watcher::Config::default()),
        )
        .default_backoff()
        .flat_map(move |ev| stream::iter(sh.job_event(ev, &tx)))
    };
    let pod_events = {
        let (sh, tx) = (sh.clone(), orphan_tx);
        reflector::reflector(
            pod_writer,
            watcher(Api::<Pod>::all(client), watcher::Config::default()),
        )
        .default_backoff()
        .flat_map(move |ev| stream::iter(sh.pod_event(ev, &tx)))
    };
    let jumps = {
        let jobs = jobs.clone();
        sh.config.clock.jumps().flat_map(move |()| {
            stream::iter(
                jobs.state()
                    .iter()
                    .map(|j| ObjectRef::from_obj(&**j))
                    .collect::<Vec<_>>(),
            )
        })
    };
    let queue =
        stream::select(stream::select(job_events, pod_events), jumps).map(Ok::<_, Infallible>);
    let syncs = applier(
        |job, sh| Box::pin(sync::reconcile(job, sh)),
        error_policy,
        sh.clone(),
        jobs,
        queue,
        ApplierConfig::default().concurrency(concurrency),
    )
    .for_each(|r| async move {
        match r {
            Ok(_) | Err(kube::runtime::controller::Error::ObjectNotFound(_)) => {}
            Err(e) => tracing::warn!(error = %e, "job controller: sync failed"),
        }
    });
    let orphans = async {
        let mut rx = orphan_rx;
        let (tx2, rx2) = mpsc::unbounded_channel();
        let forward = async {
            while let Some(work) = rx.recv().await {
                match work {
                    Orphans::Pod(key) => {
                        let _ = tx2.send(key);
                    }
                    Orphans::Sweep => {
                        for p in sh.pods.state() {
                            if orphans::maybe_orphan(&sh, &p) {
                                let _ = tx2.send(ObjectRef::from_obj(&*p));
                            }
                        }
                    }
                }
            }
        };
        futures::join!(forward, orphans::run(&sh, rx2));
    };
    futures::join!(syncs, orphans);
    Err(Error::Invalid("job controller: the watches ended".into()))
}

/// A failed sync runs again soon: at once after a write conflict (the
/// cache lagged), after a second otherwise.
fn error_policy(_job: Arc<Job>, err: &Error, _sh: Arc<Shared>) -> Action {
    match err {
        Error::Api(e) if podcontrol::conflict(e) => Action::requeue(Duration::from_millis(100)),
        _ => Action::requeue(Duration::from_secs(1)),
    }
}

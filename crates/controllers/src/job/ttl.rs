//! Deleting finished Jobs after `ttlSecondsAfterFinished` (upstream's
//! ttl-after-finished controller, run here beside the Job controller):
//! once the TTL has passed since the Job's terminal condition, the Job is
//! read again from the API and, if that copy agrees, deleted with
//! propagation Foreground and its uid as precondition, as upstream does.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, stream};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Config as ApplierConfig, applier};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, watcher};
use kube::{Client, ResourceExt};

use super::clock::{Clock, add, since};
use super::conditions::{finish_time, is_finished};
use super::podcontrol::not_found;
use crate::{Error, Result};

struct Ttl {
    client: Client,
    clock: Arc<dyn Clock>,
}

/// Runs the TTL-after-finished loop until aborted.
pub(super) async fn run(client: Client, clock: Arc<dyn Clock>) -> Result<()> {
    let (store, writer) = reflector::store::<Job>();
    let jobs: Api<Job> = Api::all(client.clone());
    let events = reflector::reflector(writer, watcher(jobs, watcher::Config::default()))
        .default_backoff()
        .touched_objects()
        .filter_map(|r| async move {
            match r {
                Ok(job) => Some(ObjectRef::from_obj(&job)),
                Err(e) => {
                    tracing::warn!(error = %e, "ttl-after-finished: job watch");
                    None
                }
            }
        });
    let jumps = {
        let store = store.clone();
        clock.jumps().flat_map(move |()| stream::iter(all(&store)))
    };
    let queue = stream::select(events, jumps).map(Ok::<_, Infallible>);
    let ctx = Arc::new(Ttl { client, clock });
    applier(
        |job, ctx| Box::pin(reconcile(job, ctx)),
        |_, _, _| Action::requeue(Duration::from_secs(1)),
        ctx,
        store,
        queue,
        ApplierConfig::default(),
    )
    .for_each(|r| async move {
        if let Err(e) = r {
            tracing::debug!(error = %e, "ttl-after-finished");
        }
    })
    .await;
    Err(Error::Invalid(
        "ttl-after-finished: the job watch ended".into(),
    ))
}

fn all(store: &Store<Job>) -> Vec<ObjectRef<Job>> {
    store
        .state()
        .iter()
        .map(|j| ObjectRef::from_obj(&**j))
        .collect()
}

/// How long until the Job's TTL expires; `None` when it has no TTL, has
/// not finished, or is already being deleted.
fn time_left(job: &Job, clock: &dyn Clock) -> Result<Option<Duration>> {
    let Some(ttl) = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished) else {
        return Ok(None);
    };
    if job.metadata.deletion_timestamp.is_some() || !is_finished(job) {
        return Ok(None);
    }
    let finished = finish_time(job).ok_or_else(|| {
        Error::Invalid(format!(
            "job {}: finished without a condition transition time",
            job.name_any()
        ))
    })?;
    let expire = add(
        finished,
        Duration::from_secs(u64::try_from(ttl).unwrap_or(0)),
    );
    Ok(Some(since(expire, clock.now())))
}

async fn reconcile(job: Arc<Job>, ctx: Arc<Ttl>) -> Result<Action> {
    match time_left(&job, &*ctx.clock)? {
        None => return Ok(Action::await_change()),
        Some(left) if !left.is_zero() => return Ok(Action::requeue(left)),
        Some(_) => {}
    }
    let api: Api<Job> = Api::namespaced(ctx.client.clone(), &job.namespace().unwrap_or_default());
    let Some(fresh) = api.get_opt(&job.name_any()).await? else {
        return Ok(Action::await_change());
    };
    match time_left(&fresh, &*ctx.clock)? {
        None => return Ok(Action::await_change()),
        Some(left) if !left.is_zero() => return Ok(Action::requeue(left)),
        Some(_) => {}
    }
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: fresh.uid(),
            resource_version: None,
        }),
        ..DeleteParams::foreground()
    };
    tracing::debug!(job = %fresh.name_any(), "ttl-after-finished: deleting the finished job");
    match api.delete(&fresh.name_any(), &dp).await {
        Ok(_) => Ok(Action::await_change()),
        Err(e) if not_found(&e) => Ok(Action::await_change()),
        Err(e) => Err(e.into()),
    }
}

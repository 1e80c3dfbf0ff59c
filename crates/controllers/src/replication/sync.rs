//! One sync of one owner (upstream's `syncReplicaSet`): claim its pods,
//! create or delete pods when its expectations allow, write its status.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};

use super::owner::ReplicaOwner;
use super::status;
use crate::podcontrol::{
    AdoptionCheck, EventSink, EventType, Expectations, OwnerInfo, apierr, claim, controller_of,
    create_pod, pods,
};
use crate::{Error, Result};

/// At most this many pods are created or deleted in one sync (upstream's
/// `BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// What every sync of one controller shares.
pub struct Shared<O: ReplicaOwner> {
    /// The API client.
    pub client: Client,
    /// The owners' cache.
    pub owners: Store<O>,
    /// The pods' cache.
    pub pods: Store<Pod>,
    /// Creations and deletions not yet seen in the pods' cache.
    pub expectations: Expectations,
    /// Where Events go.
    pub events: EventSink,
}

/// Syncs `owner`.
pub async fn reconcile<O: ReplicaOwner>(owner: Arc<O>, ctx: Arc<Shared<O>>) -> Result<Action> {
    // Acting on an incomplete cache of pods would create them all again.
    ctx.pods
        .wait_until_ready()
        .await
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let info = OwnerInfo::of(&*owner);
    let selector = match owner.selector() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(owner = %info.name, error = %e, "invalid selector; not syncing");
            return Ok(Action::await_change());
        }
    };
    let in_ns: Vec<Arc<Pod>> = ctx
        .pods
        .state()
        .into_iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(info.namespace.as_str()))
        .collect();
    let active_uids: HashSet<&str> = in_ns
        .iter()
        .filter(|p| pods::is_active(p))
        .filter_map(|p| p.metadata.uid.as_deref())
        .collect();
    let needs_sync = ctx
        .expectations
        .satisfied(&info.uid, |uid| active_uids.contains(uid));
    let active: Vec<Arc<Pod>> = in_ns
        .iter()
        .filter(|p| pods::is_active(p))
        .cloned()
        .collect();

    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &info.namespace);
    let owner_api: Api<O> = Api::namespaced(ctx.client.clone(), &info.namespace);
    let mut check = AdoptionCheck::new(owner_api.clone(), info.clone());
    let claimed = claim(&pod_api, &info, &selector, active, &mut check).await?;

    let manage_err = if needs_sync && !info.deleting {
        manage_replicas(&ctx, &*owner, &info, &pod_api, &claimed, &in_ns)
            .await
            .err()
    } else {
        None
    };

    let msg = manage_err.as_ref().map(error_text);
    let new_status = status::calculate(&*owner, &claimed, msg.as_deref());
    let updated = status::update(&owner_api, &*owner, new_status).await?;
    if let Some(e) = manage_err {
        return Err(e);
    }
    let s = updated.replica_status();
    let min_ready = updated.min_ready_seconds();
    if min_ready > 0
        && s.ready_replicas == updated.replicas()
        && s.available_replicas != updated.replicas()
    {
        let secs = u64::try_from(min_ready).unwrap_or(0);
        return Ok(Action::requeue(Duration::from_secs(secs)));
    }
    Ok(Action::await_change())
}

/// What a failed create or delete says in conditions and Events.
fn error_text(e: &Error) -> String {
    match e {
        Error::Api(e) => apierr::message(e),
        e => e.to_string(),
    }
}

/// Creates or deletes pods so that `owner` has as many as it wants.
async fn manage_replicas<O: ReplicaOwner>(
    ctx: &Shared<O>,
    owner: &O,
    info: &OwnerInfo,
    pod_api: &Api<Pod>,
    claimed: &[Arc<Pod>],
    in_ns: &[Arc<Pod>],
) -> Result<()> {
    let want = usize::try_from(owner.replicas().max(0)).unwrap_or(0);
    let have = claimed.len();
    if have < want {
        let diff = (want - have).min(BURST_REPLICAS);
        ctx.expectations.expect_creations(&info.uid, diff);
        let (created, err) = slow_start_batch(diff, || create_one(ctx, owner, info, pod_api)).await;
        // Creates never attempted or failed will never be observed.
        for _ in created..diff {
            ctx.expectations.creation_observed(&info.uid);
        }
        return err.map_or(Ok(()), Err);
    }
    if have > want {
        let diff = (have - want).min(BURST_REPLICAS);
        let mut victims = claimed.to_vec();
        if diff < victims.len() {
            let related = related_pods(ctx, owner, in_ns);
            pods::rank_for_deletion(&mut victims, &related, Timestamp::now());
        }
        victims.truncate(diff);
        ctx.expectations.expect_deletions(
            &info.uid,
            victims.iter().filter_map(|p| p.metadata.uid.clone()),
        );
        let results = join_all(
            victims
                .iter()
                .map(|p| delete_one(ctx, owner, info, pod_api, p)),
        )
        .await;
        return results
            .into_iter()
            .find_map(Result::err)
            .map_or(Ok(()), Err);
    }
    Ok(())
}

async fn create_one<O: ReplicaOwner>(
    ctx: &Shared<O>,
    owner: &O,
    info: &OwnerInfo,
    pod_api: &Api<Pod>,
) -> Result<()> {
    let Some(template) = owner.template() else {
        return Err(Error::Invalid(format!("{} has no pod template", info.name)));
    };
    match create_pod(pod_api, template, &info.name, info.controller_ref()).await {
        Ok(pod) => {
            ctx.events.record(
                owner,
                EventType::Normal,
                "SuccessfulCreate",
                "Create",
                format!("Created pod: {}", pod.name_any()),
            );
            Ok(())
        }
        // Every create fails in a terminating namespace; nothing to report.
        Err(Error::Api(e)) if apierr::namespace_terminating(&e) => Ok(()),
        Err(e) => {
            ctx.events.record(
                owner,
                EventType::Warning,
                "FailedCreate",
                "Create",
                format!("Error creating: {}", error_text(&e)),
            );
            Err(e)
        }
    }
}

async fn delete_one<O: ReplicaOwner>(
    ctx: &Shared<O>,
    owner: &O,
    info: &OwnerInfo,
    pod_api: &Api<Pod>,
    pod: &Pod,
) -> Result<()> {
    let name = pod.name_any();
    match pod_api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {
            ctx.events.record(
                owner,
                EventType::Normal,
                "SuccessfulDelete",
                "Delete",
                format!("Deleted pod: {name}"),
            );
            Ok(())
        }
        Err(e) => {
            // The cache will not show this deletion: stop expecting it.
            ctx.expectations
                .deletion_observed(&info.uid, pod.metadata.uid.as_deref().unwrap_or_default());
            if apierr::is_not_found(&e) {
                return Ok(());
            }
            ctx.events.record(
                owner,
                EventType::Warning,
                "FailedDelete",
                "Delete",
                format!("Error deleting: {}", apierr::message(&e)),
            );
            Err(e.into())
        }
    }
}

/// Runs `count` calls of `f` in batches of 1, 2, 4, ... until a batch
/// has a failure, so that a controller whose pods all fail (quota, bad
/// template) sends one request rather than hundreds. Returns how many
/// succeeded and the first failure.
pub async fn slow_start_batch<F, Fut>(count: usize, mut f: F) -> (usize, Option<Error>)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut remaining = count;
    let mut successes = 0;
    let mut batch = remaining.min(1);
    while batch > 0 {
        let results = join_all((0..batch).map(|_| f())).await;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(()) => successes += 1,
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if first_err.is_some() {
            return (successes, first_err);
        }
        remaining -= batch;
        batch = (2 * batch).min(remaining);
    }
    (successes, None)
}

/// The pods of every owner that shares this owner's controller (the
/// ReplicaSets of one Deployment), by their selectors: ranking prefers
/// deleting pods whose node runs more of them.
fn related_pods<O: ReplicaOwner>(ctx: &Shared<O>, owner: &O, in_ns: &[Arc<Pod>]) -> Vec<Arc<Pod>> {
    let Some(parent) = controller_of(owner.meta()) else {
        return Vec::new();
    };
    let ns = owner.meta().namespace.as_deref();
    let selectors: Vec<_> = ctx
        .owners
        .state()
        .into_iter()
        .filter(|o| o.meta().namespace.as_deref() == ns)
        .filter(|o| controller_of(o.meta()).is_some_and(|r| r.uid == parent.uid))
        .filter_map(|o| o.selector().ok())
        .collect();
    in_ns
        .iter()
        .filter(|p| selectors.iter().any(|s| s.matches(p.labels())))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn slow_start_doubles_and_stops_at_the_first_failing_batch() {
        let calls = AtomicUsize::new(0);
        let (ok, err) = slow_start_batch(10, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await;
        assert_eq!(
            (ok, err.is_none(), calls.load(Ordering::SeqCst)),
            (10, true, 10)
        );

        // Batches 1, 2, 4: the 4th call fails, so the batch of 4 is the last.
        let calls = AtomicUsize::new(0);
        let (ok, err) = slow_start_batch(10, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 3 {
                    Err(Error::Invalid("quota".into()))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(
            (ok, err.is_some(), calls.load(Ordering::SeqCst)),
            (6, true, 7)
        );
    }
}

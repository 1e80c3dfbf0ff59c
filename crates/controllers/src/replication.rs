//! The ReplicationController and ReplicaSet controllers: one controller,
//! generic over the owner kind (upstream's replicaset controller, which
//! serves both). Each owner keeps `spec.replicas` active pods from its
//! template: it adopts matching orphans and releases pods it no longer
//! selects, creates missing pods in slow-start batches and deletes extra
//! ones (unhealthy and newer first), never acting again before its cache
//! shows what it did (expectations), and reports counts and failures in
//! its status.
//!
//! Start with [`run`]; [`sync::reconcile`] is one sync of one owner.

mod owner;
mod status;
pub mod sync;

use std::sync::Arc;

use futures::{StreamExt, stream};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Api;
use kube::ResourceExt;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::watcher;

pub use owner::{ReplicaCondition, ReplicaOwner, ReplicaStatus};
pub use status::REPLICA_FAILURE;

use crate::podcontrol::{Change, EventSink, Expectations, controller_of, informer, runner};
use crate::{Context, Result};
use sync::Shared;

/// Owners synced at once (upstream's `--concurrent-replicaset-syncs`).
const CONCURRENCY: u16 = 5;

/// Runs the ReplicationController controller until aborted.
pub async fn run_replication_controllers(ctx: Context) -> Result<()> {
    run::<ReplicationController>(ctx).await
}

/// Runs the ReplicaSet controller until aborted.
pub async fn run_replica_sets(ctx: Context) -> Result<()> {
    run::<ReplicaSet>(ctx).await
}

/// Runs the controller of owners `O` until aborted: watches the owners
/// and every pod into caches and syncs each owner its changes concern,
/// plus everything every resync period.
pub async fn run<O: ReplicaOwner>(ctx: Context) -> Result<()> {
    let client = ctx.client.clone();
    let (owners, owner_writer) = reflector::store::<O>();
    let (pods, pod_writer) = reflector::store::<Pod>();
    let (events, publish_events) = EventSink::new(client.clone(), O::CONTROLLER);
    let shared = Arc::new(Shared {
        client: client.clone(),
        owners: owners.clone(),
        pods,
        expectations: Expectations::new(),
        events,
    });

    let s = shared.clone();
    let owner_changes = informer(
        Api::<O>::all(client.clone()),
        watcher::Config::default(),
        owner_writer,
        move |change| match change {
            Change::Applied { new, .. } => vec![ObjectRef::from_obj(new)],
            Change::Deleted(o) => {
                s.expectations
                    .forget(o.uid().as_deref().unwrap_or_default());
                Vec::new()
            }
            Change::Relisted => Vec::new(),
        },
    );
    let s = shared.clone();
    let pod_changes = informer(
        Api::<Pod>::all(client),
        watcher::Config::default(),
        pod_writer,
        move |change| owners_for_pod(&s, change),
    );
    let queue = stream::select_all([
        owner_changes.boxed(),
        pod_changes.boxed(),
        runner::resync(owners.clone(), ctx.config.resync_period).boxed(),
    ]);
    let work = runner::run(
        O::CONTROLLER,
        owners,
        queue,
        shared,
        sync::reconcile::<O>,
        CONCURRENCY,
    );
    futures::join!(work, publish_events);
    Ok(())
}

/// The owners a pod's change concerns (upstream's addPod, updatePod and
/// deletePod handlers), observing creations on the way.
fn owners_for_pod<O: ReplicaOwner>(s: &Shared<O>, change: Change<'_, Pod>) -> Vec<ObjectRef<O>> {
    let kind = O::kind(&());
    let ours = |p: &Pod| {
        controller_of(&p.metadata)
            .filter(|r| r.kind == kind)
            .cloned()
    };
    match change {
        Change::Applied { old, new } => {
            let ns = new.namespace().unwrap_or_default();
            let cur = ours(new);
            if old.is_none()
                && let Some(r) = &cur
            {
                s.expectations.creation_observed(&r.uid);
            }
            let mut out: Vec<ObjectRef<O>> =
                cur.iter().filter_map(|r| resolve(s, r, &ns)).collect();
            let old_ref = old.as_deref().and_then(ours);
            if let Some(r) = &old_ref
                && cur.as_ref().is_none_or(|c| c.uid != r.uid)
            {
                out.extend(resolve(s, r, &ns));
            }
            let labels_changed = old.as_ref().is_none_or(|o| o.labels() != new.labels());
            let ref_changed = old
                .as_ref()
                .is_some_and(|o| controller_of(&o.metadata) != controller_of(&new.metadata));
            if controller_of(&new.metadata).is_none() && (labels_changed || ref_changed) {
                out.extend(matching_owners(s, new));
            }
            out
        }
        Change::Deleted(p) => {
            let ns = p.namespace().unwrap_or_default();
            ours(p)
                .and_then(|r| resolve(s, &r, &ns))
                .into_iter()
                .collect()
        }
        Change::Relisted => s
            .owners
            .state()
            .iter()
            .map(|o| ObjectRef::from_obj(&**o))
            .collect(),
    }
}

/// The owner a controller reference names, if the cache has it with that
/// uid.
fn resolve<O: ReplicaOwner>(s: &Shared<O>, r: &OwnerReference, ns: &str) -> Option<ObjectRef<O>> {
    let key = ObjectRef::new(&r.name).within(ns);
    s.owners
        .get(&key)
        .filter(|o| o.meta().uid.as_deref() == Some(r.uid.as_str()))
        .map(|_| key)
}

/// The owners in the pod's namespace whose selector matches it (for an
/// orphan that may be adopted).
fn matching_owners<O: ReplicaOwner>(s: &Shared<O>, pod: &Pod) -> Vec<ObjectRef<O>> {
    let ns = pod.metadata.namespace.as_deref();
    s.owners
        .state()
        .iter()
        .filter(|o| o.meta().namespace.as_deref() == ns)
        .filter(|o| o.selector().is_ok_and(|sel| sel.matches(pod.labels())))
        .map(|o| ObjectRef::from_obj(&**o))
        .collect()
}

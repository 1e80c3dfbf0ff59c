//! The Deployment controller (upstream's `pkg/controller/deployment`): a
//! Deployment owns ReplicaSets, one per pod template it has had, named
//! `<deployment>-<pod-template-hash>` and numbered by the
//! `deployment.kubernetes.io/revision` annotation. A template change
//! creates (or, on rollback, revives) the new ReplicaSet and moves the
//! replicas to it: RollingUpdate within maxSurge and maxUnavailable, or
//! Recreate (old pods gone first). Scaling mid-rollout is proportional;
//! a paused Deployment scales but does not roll; old ReplicaSets beyond
//! revisionHistoryLimit are deleted; the status carries what `kubectl
//! rollout status` reads, with the Available and Progressing conditions
//! (progressDeadlineSeconds).
//!
//! Start with [`run`]; [`sync::reconcile`] is one sync.

mod conditions;
mod hash;
mod newrs;
mod recreate;
mod rolling;
mod scale;
mod status;
pub mod sync;
pub mod util;

use std::sync::Arc;

use futures::{StreamExt, stream};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};

pub use hash::compute_hash;

use crate::podcontrol::{Change, EventSink, controller_of, informer, runner};
use crate::{Context, Result};
use sync::Shared;

/// The reporting controller of its Events.
const CONTROLLER: &str = "deployment-controller";
/// Deployments synced at once (upstream's
/// `--concurrent-deployment-syncs`).
const CONCURRENCY: u16 = 5;

/// Runs the controller until aborted: watches Deployments, ReplicaSets
/// and pods into caches and syncs each Deployment their changes concern,
/// plus everything every resync period.
pub async fn run(ctx: Context) -> Result<()> {
    let client = ctx.client.clone();
    let (deployments, d_writer) = reflector::store::<Deployment>();
    let (replica_sets, rs_writer) = reflector::store::<ReplicaSet>();
    let (pods, pod_writer) = reflector::store::<Pod>();
    let (events, publish_events) = EventSink::new(client.clone(), CONTROLLER);
    let shared = Arc::new(Shared {
        client: client.clone(),
        replica_sets: replica_sets.clone(),
        pods,
        events,
    });

    let d_changes = informer(
        Api::<Deployment>::all(client.clone()),
        watcher::Config::default(),
        d_writer,
        |change| match change {
            Change::Applied { new, .. } => vec![ObjectRef::from_obj(new)],
            Change::Deleted(_) | Change::Relisted => Vec::new(),
        },
    );
    let ds = deployments.clone();
    let rs_changes = informer(
        Api::<ReplicaSet>::all(client.clone()),
        watcher::Config::default(),
        rs_writer,
        move |change| deployments_for_rs(&ds, change),
    );
    let ds = deployments.clone();
    let rss = replica_sets;
    let pod_changes = informer(
        Api::<Pod>::all(client),
        watcher::Config::default(),
        pod_writer,
        move |change| match change {
            Change::Deleted(p) => recreate_deployment_of(&ds, &rss, p).into_iter().collect(),
            _ => Vec::new(),
        },
    );
    let queue = stream::select_all([
        d_changes.boxed(),
        rs_changes.boxed(),
        pod_changes.boxed(),
        runner::resync(deployments.clone(), ctx.config.resync_period).boxed(),
    ]);
    let work = runner::run(
        CONTROLLER,
        deployments,
        queue,
        shared,
        sync::reconcile,
        CONCURRENCY,
    );
    futures::join!(work, publish_events);
    Ok(())
}

/// The Deployments a ReplicaSet's change concerns: its controller (and
/// the one it had), or for an orphan every Deployment that selects it.
fn deployments_for_rs(
    ds: &Store<Deployment>,
    change: Change<'_, ReplicaSet>,
) -> Vec<ObjectRef<Deployment>> {
    let ours = |rs: &ReplicaSet| {
        controller_of(&rs.metadata)
            .filter(|r| r.kind == "Deployment")
            .cloned()
    };
    match change {
        Change::Applied { old, new } => {
            let ns = new.namespace().unwrap_or_default();
            let cur = ours(new);
            let mut out: Vec<_> = cur.iter().filter_map(|r| resolve(ds, r, &ns)).collect();
            if let Some(r) = old.as_deref().and_then(ours)
                && cur.as_ref().is_none_or(|c| c.uid != r.uid)
            {
                out.extend(resolve(ds, &r, &ns));
            }
            let labels_changed = old.as_ref().is_none_or(|o| o.labels() != new.labels());
            let ref_changed = old
                .as_ref()
                .is_some_and(|o| controller_of(&o.metadata) != controller_of(&new.metadata));
            if controller_of(&new.metadata).is_none() && (labels_changed || ref_changed) {
                out.extend(selecting(ds, new));
            }
            out
        }
        Change::Deleted(rs) => {
            let ns = rs.namespace().unwrap_or_default();
            ours(rs)
                .and_then(|r| resolve(ds, &r, &ns))
                .into_iter()
                .collect()
        }
        Change::Relisted => ds
            .state()
            .iter()
            .map(|d| ObjectRef::from_obj(&**d))
            .collect(),
    }
}

/// The Deployment a controller reference names, if cached with that uid.
fn resolve(ds: &Store<Deployment>, r: &OwnerReference, ns: &str) -> Option<ObjectRef<Deployment>> {
    let key = ObjectRef::new(&r.name).within(ns);
    ds.get(&key)
        .filter(|d| d.metadata.uid.as_deref() == Some(r.uid.as_str()))
        .map(|_| key)
}

/// The Deployments of the ReplicaSet's namespace whose non-empty selector
/// matches it.
fn selecting(ds: &Store<Deployment>, rs: &ReplicaSet) -> Vec<ObjectRef<Deployment>> {
    let ns = rs.metadata.namespace.as_deref();
    ds.state()
        .iter()
        .filter(|d| d.metadata.namespace.as_deref() == ns)
        .filter(|d| {
            let sel = d.spec.as_ref().map(|s| &s.selector);
            ironclad_api::selector::LabelSelector::from_k8s_opt(sel)
                .is_ok_and(|s| !s.is_empty() && s.matches(rs.labels()))
        })
        .map(|d| ObjectRef::from_obj(&**d))
        .collect()
}

/// The Recreate Deployment whose ReplicaSet controlled a deleted pod: it
/// may now create its new pods.
fn recreate_deployment_of(
    ds: &Store<Deployment>,
    rss: &Store<ReplicaSet>,
    pod: &Pod,
) -> Option<ObjectRef<Deployment>> {
    let ns = pod.namespace().unwrap_or_default();
    let r = controller_of(&pod.metadata).filter(|r| r.kind == "ReplicaSet")?;
    let rs = rss.get(&ObjectRef::new(&r.name).within(&ns))?;
    let dr = controller_of(&rs.metadata).filter(|r| r.kind == "Deployment")?;
    let key = resolve(ds, dr, &ns)?;
    let d = ds.get(&key)?;
    (util::strategy_type(&d) == "Recreate").then_some(key)
}

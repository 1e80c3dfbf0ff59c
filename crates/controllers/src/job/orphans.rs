//! Tracking finalizers nobody will count: pods whose Job is gone, has
//! finished, or never owned them keep `batch.kubernetes.io/job-tracking`
//! until this removes it (upstream's orphan queue and `syncOrphanPod`).

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::mpsc;

use super::Shared;
use super::conditions::is_finished;
use super::podcontrol::{PodControl, not_found};
use super::pods::{controller_of, has_tracking_finalizer};
use crate::Result;

/// Removes the tracking finalizer from pods of a finished Job that still
/// carry it (a backup: the sync that finishes a Job removes them all).
pub(super) async fn release_finished(sh: &Shared, job: &Job) -> Result<()> {
    let uid = job.uid().unwrap_or_default();
    let ns = job.namespace().unwrap_or_default();
    let control = PodControl::new(sh.client.clone(), &ns);
    for p in sh.pods.state() {
        let owned = controller_of(&p).is_some_and(|o| o.uid == uid);
        if owned && has_tracking_finalizer(&p) && p.namespace().as_deref() == Some(&ns) {
            match control.remove_tracking_finalizer(&p.name_any()).await {
                Ok(()) => {}
                Err(e) if not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Whether a pod seen by the watch may be an orphan with a finalizer,
/// judged from the caches (the worker checks again before acting).
pub(super) fn maybe_orphan(sh: &Shared, pod: &Pod) -> bool {
    if !has_tracking_finalizer(pod) {
        return false;
    }
    match controller_of(pod) {
        None => true,
        Some(o) if o.kind != "Job" || o.api_version != "batch/v1" => false,
        Some(o) => {
            let key = ObjectRef::<Job>::new(&o.name).within(&pod.namespace().unwrap_or_default());
            match sh.jobs.get(&key) {
                Some(job) => job.uid().as_deref() == Some(o.uid.as_str()) && is_finished(&job),
                None => true,
            }
        }
    }
}

/// Works through pods that may be orphans, once both caches are filled.
pub(super) async fn run(sh: &Shared, mut queue: mpsc::UnboundedReceiver<ObjectRef<Pod>>) {
    if sh.jobs.wait_until_ready().await.is_err() || sh.pods.wait_until_ready().await.is_err() {
        return;
    }
    // Pods queued before the caches were full are judged again now.
    for p in sh.pods.state() {
        if maybe_orphan(sh, &p) {
            let _ = sync_orphan(sh, &ObjectRef::from_obj(&*p)).await;
        }
    }
    while let Some(key) = queue.recv().await {
        if let Err(e) = sync_orphan(sh, &key).await {
            tracing::warn!(pod = %key, error = %e, "job controller: removing an orphan's tracking finalizer failed");
        }
    }
}

/// Removes the tracking finalizer of `key` if no unfinished Job of ours
/// controls it.
async fn sync_orphan(sh: &Shared, key: &ObjectRef<Pod>) -> Result<()> {
    let Some(pod) = sh.pods.get(key) else {
        return Ok(());
    };
    if !has_tracking_finalizer(&pod) {
        return Ok(());
    }
    let ns = pod.namespace().unwrap_or_default();
    if let Some(o) = controller_of(&pod) {
        if o.kind != "Job" || o.api_version != "batch/v1" {
            return Ok(());
        }
        // Ask the API, not the cache: a Job the cache has not seen yet
        // must keep its pods' finalizers.
        let api: Api<Job> = Api::namespaced(sh.client.clone(), &ns);
        if let Some(job) = api.get_opt(&o.name).await?
            && job.uid().as_deref() == Some(o.uid.as_str())
        {
            let managed_elsewhere = job
                .spec
                .as_ref()
                .and_then(|s| s.managed_by.as_deref())
                .is_some_and(|m| m != "kubernetes.io/job-controller");
            if managed_elsewhere || !is_finished(&job) {
                return Ok(());
            }
        }
    }
    match PodControl::new(sh.client.clone(), &ns)
        .remove_tracking_finalizer(&pod.name_any())
        .await
    {
        Err(e) if !not_found(&e) => Err(e.into()),
        _ => Ok(()),
    }
}

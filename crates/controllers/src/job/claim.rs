//! Which pods are a Job's (upstream's `ControllerRefManager.ClaimPods`):
//! those it controls and still selects, plus orphans it selects, which it
//! adopts (with the tracking finalizer); controlled pods it no longer
//! selects are released.

use std::sync::Arc;

use ironclad_api::selector::LabelSelector;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;

use super::podcontrol::{controller_ref, not_found};
use super::pods::{self, TRACKING_FINALIZER};
use super::sync::JobSync;
use crate::{Error, Result};

impl JobSync<'_> {
    /// The Job's pods: those it controls and still selects, plus orphans it
    /// selects, adopted; controlled pods it no longer selects are released.
    pub(super) async fn claim_pods(&self) -> Result<Vec<Arc<Pod>>> {
        let selector = LabelSelector::from_k8s_opt(self.spec().selector.as_ref())
            .map_err(|e| Error::Invalid(format!("job {}: selector: {e}", self.job.name_any())))?;
        let ns = self.ns();
        let job_deleting = self.job.metadata.deletion_timestamp.is_some();
        let mut claimed = Vec::new();
        let mut orphans = Vec::new();
        let mut release = Vec::new();
        for p in self.sh.pods.state() {
            if p.namespace().as_deref() != Some(ns.as_str()) {
                continue;
            }
            let matches = selector.matches(p.labels());
            match pods::controller_of(&p) {
                Some(o) if o.uid == self.uid => {
                    if matches {
                        claimed.push(p);
                    } else if !job_deleting {
                        release.push(p);
                    }
                }
                Some(_) => {}
                None if matches && !job_deleting && !pods::deleting(&p) => orphans.push(p),
                None => {}
            }
        }
        let control = self.pod_control();
        for p in release {
            if let Err(e) = control.release(&p, &self.job).await
                && !not_found(&e)
            {
                return Err(e.into());
            }
        }
        if !orphans.is_empty() && self.can_adopt().await? {
            for p in orphans {
                match control.adopt(&p, &self.job).await {
                    Ok(()) => {
                        let mut p = (*p).clone();
                        p.metadata.owner_references = Some(vec![controller_ref(&self.job)]);
                        p.finalizers_mut().push(TRACKING_FINALIZER.to_string());
                        claimed.push(Arc::new(p));
                    }
                    Err(e) if not_found(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(claimed)
    }

    /// Adoption re-reads the Job: only the live, undeleted Job may adopt.
    async fn can_adopt(&self) -> Result<bool> {
        let api: Api<Job> = Api::namespaced(self.sh.client.clone(), &self.ns());
        let fresh = api.get_opt(&self.job.name_any()).await?;
        Ok(fresh.is_some_and(|j| {
            j.metadata.uid.as_deref() == Some(self.uid.as_str())
                && j.metadata.deletion_timestamp.is_none()
        }))
    }
}

//! The Recreate strategy (upstream's `recreate.go`): scale every old
//! ReplicaSet to zero, wait until none of their pods is left running,
//! then create and scale up the new one.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;

use super::conditions as cond;
use super::sync::Sync;
use super::util;
use crate::Result;
use crate::podcontrol::pods;

impl Sync {
    /// One step of a Recreate rollout.
    pub async fn rollout_recreate(
        &mut self,
        rs_list: &mut Vec<ReplicaSet>,
        pod_map: &HashMap<String, Vec<Arc<Pod>>>,
    ) -> Result<()> {
        // No new ReplicaSet yet, so that nothing scales up before the old
        // pods are gone.
        let (mut new_rs, old) = self.all_rss_and_sync_revision(rs_list, false).await?;
        let mut scaled = false;
        for rs in old.iter().filter(|rs| util::rs_replicas(rs) > 0) {
            scaled |= self.scale_rs_and_record(rs, 0).await?.0;
        }
        if scaled || old_pods_running(new_rs.as_ref(), &old, pod_map) {
            return self.sync_rollout_status(&old, new_rs.as_ref()).await;
        }
        if new_rs.is_none() {
            new_rs = self.all_rss_and_sync_revision(rs_list, true).await?.0;
        }
        if let Some(rs) = &new_rs {
            let want = util::replicas(&self.d);
            self.scale_rs_and_record(rs, want).await?;
        }
        let current = self.d.status.clone().unwrap_or_default();
        if cond::complete(&self.d, &current) {
            self.cleanup(&old).await?;
        }
        self.sync_rollout_status(&old, new_rs.as_ref()).await
    }
}

/// Whether any pod of an old ReplicaSet may still run: one it reports, or
/// one in the cache not yet finished (terminating pods count).
fn old_pods_running(
    new_rs: Option<&ReplicaSet>,
    old: &[ReplicaSet],
    pod_map: &HashMap<String, Vec<Arc<Pod>>>,
) -> bool {
    if old.iter().map(util::rs_status_replicas).sum::<i32>() > 0 {
        return true;
    }
    let new_uid = new_rs.and_then(|rs| rs.metadata.uid.as_deref());
    pod_map
        .iter()
        .filter(|(uid, _)| Some(uid.as_str()) != new_uid)
        .flat_map(|(_, list)| list)
        .any(|p| !matches!(pods::phase(p), "Succeeded" | "Failed"))
}

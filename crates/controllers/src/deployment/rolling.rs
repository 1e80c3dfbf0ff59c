//! The RollingUpdate strategy (upstream's `rolling.go`): scale the new
//! ReplicaSet up within maxSurge, scale old ones down within
//! maxUnavailable, unhealthy pods first, step by step as pods become
//! available.

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::conditions as cond;
use super::sync::Sync;
use super::util;
use crate::Result;

impl Sync {
    /// One step of a rolling update.
    pub async fn rollout_rolling(&mut self, rs_list: &mut Vec<ReplicaSet>) -> Result<()> {
        let (new_rs, old) = self.all_rss_and_sync_revision(rs_list, true).await?;
        let Some(new_rs) = new_rs else {
            return Ok(());
        };
        if self.reconcile_new_rs(&old, &new_rs).await? {
            return self.sync_rollout_status(&old, Some(&new_rs)).await;
        }
        let (scaled_down, old) = self.reconcile_old_rss(old, &new_rs).await?;
        if scaled_down {
            return self.sync_rollout_status(&old, Some(&new_rs)).await;
        }
        let current = self.d.status.clone().unwrap_or_default();
        if cond::complete(&self.d, &current) {
            self.cleanup(&old).await?;
        }
        self.sync_rollout_status(&old, Some(&new_rs)).await
    }

    /// Scales the new ReplicaSet toward the Deployment's size as far as
    /// maxSurge allows; whether it scaled.
    async fn reconcile_new_rs(&self, old: &[ReplicaSet], new_rs: &ReplicaSet) -> Result<bool> {
        let want = util::replicas(&self.d);
        let have = util::rs_replicas(new_rs);
        if have == want {
            return Ok(false);
        }
        if have > want {
            return Ok(self.scale_rs_and_record(new_rs, want).await?.0);
        }
        let mut all: Vec<&ReplicaSet> = old.iter().collect();
        all.push(new_rs);
        let to = self.new_rs_new_replicas(&all, new_rs)?;
        Ok(self.scale_rs_and_record(new_rs, to).await?.0)
    }

    /// Scales old ReplicaSets down as far as maxUnavailable allows;
    /// whether any scaled, and the old ReplicaSets as they now are.
    async fn reconcile_old_rss(
        &self,
        mut old: Vec<ReplicaSet>,
        new_rs: &ReplicaSet,
    ) -> Result<(bool, Vec<ReplicaSet>)> {
        let old_pods: i32 = old.iter().map(util::rs_replicas).sum();
        if old_pods == 0 {
            return Ok((false, old));
        }
        let all_pods = old_pods + util::rs_replicas(new_rs);
        let min_available = util::replicas(&self.d) - util::max_unavailable(&self.d);
        let new_unavailable = util::rs_replicas(new_rs) - util::rs_available(new_rs);
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok((false, old));
        }
        // Unhealthy replicas first: removing them costs no availability,
        // and they would otherwise block the rollout.
        let cleaned = match self.cleanup_unhealthy(&mut old, max_scaled_down).await {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "cleaning up unhealthy replicas");
                return Ok((false, old));
            }
        };
        let scaled = match self.scale_down_old_for_rolling(&old, new_rs).await {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "scaling down old replica sets");
                return Ok((cleaned > 0, old));
            }
        };
        Ok((cleaned + scaled > 0, old))
    }

    /// Scales old ReplicaSets down by their unavailable replicas, oldest
    /// first, at most `max` in all; how many.
    async fn cleanup_unhealthy(&self, old: &mut [ReplicaSet], max: i32) -> Result<i32> {
        old.sort_by(util::by_creation);
        let mut total = 0;
        for rs in old.iter_mut() {
            if total >= max {
                break;
            }
            let size = util::rs_replicas(rs);
            let available = util::rs_available(rs);
            if size == 0 || size == available {
                continue;
            }
            let down = (max - total).min(size - available);
            let (_, updated) = self.scale_rs_and_record(rs, size - down).await?;
            *rs = updated;
            total += down;
        }
        Ok(total)
    }

    /// Scales old ReplicaSets down, oldest first, by as many pods as are
    /// available above the minimum; how many.
    async fn scale_down_old_for_rolling(
        &self,
        old: &[ReplicaSet],
        new_rs: &ReplicaSet,
    ) -> Result<i32> {
        let min_available = util::replicas(&self.d) - util::max_unavailable(&self.d);
        let available: i32 = old.iter().chain([new_rs]).map(util::rs_available).sum();
        if available <= min_available {
            return Ok(0);
        }
        let mut sorted: Vec<&ReplicaSet> = old.iter().collect();
        sorted.sort_by(|a, b| util::by_creation(a, b));
        let to_scale = available - min_available;
        let mut total = 0;
        for rs in sorted {
            if total >= to_scale {
                break;
            }
            let size = util::rs_replicas(rs);
            if size == 0 {
                continue;
            }
            let down = size.min(to_scale - total);
            self.scale_rs_and_record(rs, size - down).await?;
            total += down;
        }
        Ok(total)
    }
}

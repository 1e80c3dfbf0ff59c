//! The Deployment's status: counts summed over its ReplicaSets, the
//! Available condition, and during rollouts the Progressing condition
//! with its deadline (upstream's `calculateStatus`,
//! `syncDeploymentStatus` and `syncRolloutStatus`).

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;

use super::conditions::{self as cond, reason};
use super::sync::Sync;
use super::util;
use crate::Result;

/// Upstream leaves zero counts out of the JSON (`omitempty`).
fn nonzero(v: i32) -> Option<i32> {
    (v != 0).then_some(v)
}

impl Sync {
    /// The status the Deployment has with these ReplicaSets.
    fn calculate_status(
        &self,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> DeploymentStatus {
        let all = || old.iter().chain(new_rs);
        let available: i32 = all().map(util::rs_available).sum();
        let total: i32 = all().map(util::rs_replicas).sum();
        let cur = self.d.status.clone().unwrap_or_default();
        let mut status = DeploymentStatus {
            observed_generation: self.d.metadata.generation,
            replicas: nonzero(all().map(util::rs_status_replicas).sum()),
            updated_replicas: nonzero(new_rs.map_or(0, util::rs_status_replicas)),
            ready_replicas: nonzero(all().map(util::rs_ready).sum()),
            available_replicas: nonzero(available),
            unavailable_replicas: nonzero((total - available).max(0)),
            collision_count: cur.collision_count,
            conditions: cur.conditions.clone(),
            terminating_replicas: cur.terminating_replicas,
        };
        let want = util::replicas(&self.d);
        let c = if available >= want - util::max_unavailable(&self.d) {
            cond::new(
                cond::AVAILABLE,
                "True",
                reason::MINIMUM_REPLICAS_AVAILABLE,
                "Deployment has minimum availability.".into(),
            )
        } else {
            cond::new(
                cond::AVAILABLE,
                "False",
                reason::MINIMUM_REPLICAS_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
            )
        };
        cond::set(&mut status, c);
        status
    }

    /// Writes the counts and Available (scaling, paused, deleting).
    pub async fn sync_status(
        &mut self,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<()> {
        let status = self.calculate_status(old, new_rs);
        if self.d.status.as_ref() == Some(&status) {
            return Ok(());
        }
        self.d.status = Some(status);
        self.write_status().await
    }

    /// Writes the status of a rollout: counts, Available, Progressing
    /// against the deadline, and the ReplicaSets' failures; asks to be
    /// synced again when the deadline may pass with no change.
    pub async fn sync_rollout_status(
        &mut self,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<()> {
        let mut status = self.calculate_status(old, new_rs);
        let deadline = cond::progress_deadline(&self.d);
        if deadline.is_none() {
            cond::remove(&mut status, cond::PROGRESSING);
        }
        let cur_status = self.d.status.clone().unwrap_or_default();
        let current = cond::get(&cur_status, cond::PROGRESSING);
        let complete_before = status.replicas == status.updated_replicas
            && current.is_some_and(|c| c.reason.as_deref() == Some(reason::NEW_RS_AVAILABLE));
        if deadline.is_some() && !complete_before {
            let what = match new_rs {
                Some(rs) => format!("ReplicaSet \"{}\"", rs.name_any()),
                None => format!("Deployment \"{}\"", self.d.name_any()),
            };
            if cond::complete(&self.d, &status) {
                let c = cond::new(
                    cond::PROGRESSING,
                    "True",
                    reason::NEW_RS_AVAILABLE,
                    format!("{what} has successfully progressed."),
                );
                cond::set(&mut status, c);
            } else if cond::progressing(&self.d, &status) {
                let mut c = cond::new(
                    cond::PROGRESSING,
                    "True",
                    reason::RS_UPDATED,
                    format!("{what} is progressing."),
                );
                // Progress renews lastUpdateTime even with the same reason.
                if let Some(cur) = current {
                    if cur.status == "True" {
                        c.last_transition_time = cur.last_transition_time.clone();
                    }
                    cond::remove(&mut status, cond::PROGRESSING);
                }
                cond::set(&mut status, c);
            } else if cond::timed_out(&self.d, &status) {
                let c = cond::new(
                    cond::PROGRESSING,
                    "False",
                    reason::TIMED_OUT,
                    format!("{what} has timed out progressing."),
                );
                cond::set(&mut status, c);
            }
        }
        match replica_failure(old, new_rs) {
            Some(c) => cond::set(&mut status, c),
            None => cond::remove(&mut status, cond::REPLICA_FAILURE),
        }
        if self.d.status.as_ref() == Some(&status) {
            self.requeue = self.requeue_stuck(&status);
            return Ok(());
        }
        self.d.status = Some(status);
        self.write_status().await
    }

    /// When to check a rollout that shows no progress against its
    /// deadline (upstream's `requeueStuckDeployment`).
    fn requeue_stuck(&self, new: &DeploymentStatus) -> Option<Duration> {
        let deadline = cond::progress_deadline(&self.d)?;
        let cur_status = self.d.status.clone().unwrap_or_default();
        let current = cond::get(&cur_status, cond::PROGRESSING)?;
        if cond::complete(&self.d, new) || current.reason.as_deref() == Some(reason::TIMED_OUT) {
            return None;
        }
        let updated = current.last_update_time.as_ref()?.0;
        let at = updated + SignedDuration::from_secs(i64::from(deadline));
        let after = at.duration_since(Timestamp::now());
        if after < SignedDuration::from_secs(1) {
            return Some(Duration::from_millis(500));
        }
        // A second more, so that the check does not come early.
        Some(Duration::try_from(after).unwrap_or_default() + Duration::from_secs(1))
    }
}

/// The ReplicaFailure of the new ReplicaSet, else of an old one, as a
/// Deployment condition.
fn replica_failure(old: &[ReplicaSet], new_rs: Option<&ReplicaSet>) -> Option<DeploymentCondition> {
    let failure = |rs: &ReplicaSet| {
        rs.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == cond::REPLICA_FAILURE)
            .map(|c| DeploymentCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_update_time: c.last_transition_time.clone(),
                last_transition_time: c.last_transition_time.clone(),
            })
    };
    new_rs
        .and_then(failure)
        .or_else(|| old.iter().chain(new_rs).find_map(failure))
}

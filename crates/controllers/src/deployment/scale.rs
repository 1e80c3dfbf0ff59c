//! Sizes: scaling one ReplicaSet (recording the Deployment's size in
//! it), scaling for a changed `spec.replicas` (proportionally during a
//! rolling update), and deleting old history (upstream's `scale`,
//! `scaleReplicaSet` and `cleanupDeployment`).

use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::ResourceExt;
use kube::api::{DeleteParams, PostParams};

use super::sync::Sync;
use super::util;
use crate::Result;
use crate::podcontrol::{EventType, apierr};

impl Sync {
    /// Scales `rs` to `to`, recording the Deployment's size in it; whether
    /// it was resized, and the ReplicaSet as it now is.
    pub async fn scale_rs(&self, rs: &ReplicaSet, to: i32) -> Result<(bool, ReplicaSet)> {
        let want = util::replicas(&self.d);
        let max = want + util::max_surge(&self.d);
        let from = util::rs_replicas(rs);
        let resize = from != to;
        if !resize && !util::replicas_annotations_need_update(rs, want, max) {
            return Ok((false, rs.clone()));
        }
        let mut copy = rs.clone();
        copy.spec.get_or_insert_with(Default::default).replicas = Some(to);
        util::set_replicas_annotations(&mut copy, want, max);
        let updated = self
            .rs_api
            .replace(&copy.name_any(), &PostParams::default(), &copy)
            .await?;
        if resize {
            let dir = if from < to { "up" } else { "down" };
            self.event(
                EventType::Normal,
                "ScalingReplicaSet",
                "Scale",
                format!(
                    "Scaled {dir} replica set {} from {from} to {to}",
                    rs.name_any()
                ),
            );
        }
        Ok((resize, updated))
    }

    /// Like [`Sync::scale_rs`], doing nothing when the size is right.
    pub async fn scale_rs_and_record(
        &self,
        rs: &ReplicaSet,
        to: i32,
    ) -> Result<(bool, ReplicaSet)> {
        if util::rs_replicas(rs) == to {
            return Ok((false, rs.clone()));
        }
        self.scale_rs(rs, to).await
    }

    /// Scales for a changed `spec.replicas`: the one active ReplicaSet to
    /// the full size, old ones to zero once the new one is saturated, or
    /// all of them in proportion during a rolling update (upstream's
    /// `scale`).
    pub async fn scale(&self, new_rs: Option<&ReplicaSet>, old: &[ReplicaSet]) -> Result<()> {
        let want = util::replicas(&self.d);
        if let Some(rs) = find_active_or_latest(new_rs, old) {
            if util::rs_replicas(&rs) != want {
                self.scale_rs_and_record(&rs, want).await?;
            }
            return Ok(());
        }
        if new_rs.is_some_and(|rs| self.is_saturated(rs)) {
            for rs in old.iter().filter(|rs| util::rs_replicas(rs) > 0) {
                self.scale_rs_and_record(rs, 0).await?;
            }
            return Ok(());
        }
        if !util::is_rolling(&self.d) {
            return Ok(());
        }
        let mut active: Vec<ReplicaSet> = old
            .iter()
            .chain(new_rs)
            .filter(|rs| util::rs_replicas(rs) > 0)
            .cloned()
            .collect();
        let total: i32 = active.iter().map(util::rs_replicas).sum();
        let allowed = if want > 0 {
            want + util::max_surge(&self.d)
        } else {
            0
        };
        let to_add = allowed - total;
        match to_add.cmp(&0) {
            std::cmp::Ordering::Greater => active.sort_by(util::by_size_newer),
            std::cmp::Ordering::Less => active.sort_by(util::by_size_older),
            std::cmp::Ordering::Equal => {}
        }
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::with_capacity(active.len());
        for rs in &active {
            if to_add != 0 {
                let p = self.proportion(rs, to_add, added);
                sizes.push(util::rs_replicas(rs) + p);
                added += p;
            } else {
                sizes.push(util::rs_replicas(rs));
            }
        }
        for (i, rs) in active.iter().enumerate() {
            if i == 0 && to_add != 0 {
                sizes[0] = (sizes[0] + to_add - added).max(0);
            }
            self.scale_rs(rs, sizes[i]).await?;
        }
        Ok(())
    }

    /// Whether the new ReplicaSet has the Deployment's full size, recorded
    /// and available.
    fn is_saturated(&self, rs: &ReplicaSet) -> bool {
        let want = util::replicas(&self.d);
        util::rs_replicas(rs) == want
            && util::desired_replicas_annotation(rs) == Some(want)
            && util::rs_available(rs) == want
    }

    /// This ReplicaSet's share of `to_add` (upstream's `GetProportion`).
    fn proportion(&self, rs: &ReplicaSet, to_add: i32, added: i32) -> i32 {
        let size = util::rs_replicas(rs);
        if size == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let fraction = self.fraction(rs);
        let allowed = to_add - added;
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    fn fraction(&self, rs: &ReplicaSet) -> i32 {
        let want = util::replicas(&self.d);
        let size = util::rs_replicas(rs);
        if want == 0 {
            return -size;
        }
        let max_now = want + util::max_surge(&self.d);
        let before = match util::max_replicas_annotation(rs) {
            Some(m) if m != 0 => m,
            _ => {
                let replicas = self.d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                if replicas == 0 {
                    return 0;
                }
                replicas
            }
        };
        let new_size = f64::from(size) * f64::from(max_now) / f64::from(before);
        // Rounds half away from zero, as Go's math.Round; sizes fit i32.
        #[allow(clippy::cast_possible_truncation)]
        let rounded = new_size.round() as i32;
        rounded - size
    }

    /// Deletes the oldest old ReplicaSets beyond revisionHistoryLimit that
    /// have no pods left (upstream's `cleanupDeployment`).
    pub async fn cleanup(&self, old: &[ReplicaSet]) -> Result<()> {
        let Some(limit) = self
            .d
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .filter(|l| *l != i32::MAX)
        else {
            return Ok(());
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        let diff = i32::try_from(cleanable.len()).unwrap_or(i32::MAX) - limit;
        if diff <= 0 {
            return Ok(());
        }
        cleanable.sort_by(|a, b| util::by_revision(a, b));
        for rs in cleanable
            .into_iter()
            .take(usize::try_from(diff).unwrap_or(0))
        {
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if util::rs_status_replicas(rs) != 0
                || util::rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
            {
                continue;
            }
            match self
                .rs_api
                .delete(&rs.name_any(), &DeleteParams::default())
                .await
            {
                Ok(_) => {}
                Err(e) if apierr::is_not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// The one active ReplicaSet, or the newest when none is active (upstream's
/// `FindActiveOrLatest`); None with several active.
fn find_active_or_latest(new_rs: Option<&ReplicaSet>, old: &[ReplicaSet]) -> Option<ReplicaSet> {
    if new_rs.is_none() && old.is_empty() {
        return None;
    }
    let mut old: Vec<&ReplicaSet> = old.iter().collect();
    old.sort_by(|a, b| util::by_creation(b, a));
    let active: Vec<&ReplicaSet> = old
        .iter()
        .copied()
        .chain(new_rs)
        .filter(|rs| util::rs_replicas(rs) > 0)
        .collect();
    match active.len() {
        0 => new_rs.or(old.first().copied()).cloned(),
        1 => Some(active[0].clone()),
        _ => None,
    }
}

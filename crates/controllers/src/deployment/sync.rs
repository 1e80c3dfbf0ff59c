//! One sync of one Deployment (upstream's `syncDeployment`): claim its
//! ReplicaSets, find or create the new one, scale, roll out by strategy,
//! clean up old history and write the status.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ironclad_api::selector::LabelSelector;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};

use super::conditions::{self as cond, reason};
use super::hash::compute_hash;
use super::util;
use crate::podcontrol::{
    AdoptionCheck, EventSink, EventType, OwnerInfo, apierr, claim, controller_of,
};
use crate::{Error, Result};

/// What every sync shares.
pub struct Shared {
    /// The API client.
    pub client: Client,
    /// The ReplicaSets' cache.
    pub replica_sets: Store<ReplicaSet>,
    /// The pods' cache (for Recreate: old pods must be gone first).
    pub pods: Store<Pod>,
    /// Where Events go.
    pub events: EventSink,
}

/// Syncs `d`.
pub async fn reconcile(d: Arc<Deployment>, ctx: Arc<Shared>) -> Result<Action> {
    let not_ready =
        |e: kube::runtime::reflector::store::WriterDropped| Error::Invalid(e.to_string());
    ctx.replica_sets
        .wait_until_ready()
        .await
        .map_err(not_ready)?;
    ctx.pods.wait_until_ready().await.map_err(not_ready)?;
    let ns = d.namespace().unwrap_or_default();
    let mut s = Sync {
        rs_api: Api::namespaced(ctx.client.clone(), &ns),
        d_api: Api::namespaced(ctx.client.clone(), &ns),
        ctx,
        d: (*d).clone(),
        requeue: None,
    };
    match s.run().await {
        Ok(()) => Ok(s.requeue.map_or_else(Action::await_change, Action::requeue)),
        // A write raced another: the cache is behind and the newer version
        // is on its way; sync again soon rather than report a failure.
        Err(Error::Api(e)) if apierr::is_conflict(&e) => {
            tracing::debug!(deployment = %d.name_any(), "conflict; syncing again");
            Ok(Action::requeue(Duration::from_millis(250)))
        }
        Err(e) => Err(e),
    }
}

/// The state of one sync: the Deployment as this sync has written it.
pub(super) struct Sync {
    pub ctx: Arc<Shared>,
    pub d: Deployment,
    pub rs_api: Api<ReplicaSet>,
    pub d_api: Api<Deployment>,
    /// When to look again although nothing changes (progress deadline).
    pub requeue: Option<Duration>,
}

impl Sync {
    async fn run(&mut self) -> Result<()> {
        let selector = self
            .d
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        if selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && selector
                .match_expressions
                .as_ref()
                .is_none_or(|e| e.is_empty())
        {
            self.event(
                EventType::Warning,
                "SelectingAll",
                "Select",
                "This deployment is selecting all pods. A non-empty selector is required.".into(),
            );
            let generation = self.d.metadata.generation.unwrap_or(0);
            let status = self.d.status.get_or_insert_with(Default::default);
            if status.observed_generation.unwrap_or(0) < generation {
                status.observed_generation = Some(generation);
                self.write_status().await?;
            }
            return Ok(());
        }
        let mut rs_list = self.claim_replica_sets().await?;
        let pod_map = self.pod_map(&rs_list);
        if self.d.metadata.deletion_timestamp.is_some() {
            let (new_rs, old) = self.all_rss_and_sync_revision(&mut rs_list, false).await?;
            return self.sync_status(&old, new_rs.as_ref()).await;
        }
        self.check_paused_conditions().await?;
        if self.paused() {
            return self.sync(&mut rs_list).await;
        }
        if self.is_scaling_event(&mut rs_list).await? {
            return self.sync(&mut rs_list).await;
        }
        match util::strategy_type(&self.d) {
            "Recreate" => self.rollout_recreate(&mut rs_list, &pod_map).await,
            "RollingUpdate" => self.rollout_rolling(&mut rs_list).await,
            other => Err(Error::Invalid(format!(
                "unexpected deployment strategy type: {other}"
            ))),
        }
    }

    pub fn paused(&self) -> bool {
        self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false)
    }

    pub fn event(&self, type_: EventType, reason: &str, action: &str, note: String) {
        self.ctx.events.record(&self.d, type_, reason, action, note);
    }

    /// Writes the working copy's status (and annotations, which the
    /// Deployment status subresource takes too) and keeps what the
    /// server returned, so that later writes of this sync are not stale.
    pub async fn write_status(&mut self) -> Result<()> {
        let name = self.d.name_any();
        self.d = self
            .d_api
            .replace_status(&name, &PostParams::default(), &self.d)
            .await?;
        Ok(())
    }

    /// The ReplicaSets of the namespace this Deployment controls, after
    /// adopting matching orphans and releasing those it no longer selects.
    async fn claim_replica_sets(&self) -> Result<Vec<ReplicaSet>> {
        let info = OwnerInfo::of(&self.d);
        let selector = self.selector()?;
        let all: Vec<Arc<ReplicaSet>> = self
            .ctx
            .replica_sets
            .state()
            .into_iter()
            .filter(|rs| rs.metadata.namespace.as_deref() == Some(info.namespace.as_str()))
            .collect();
        let mut check = AdoptionCheck::new(self.d_api.clone(), info.clone());
        let claimed = claim(&self.rs_api, &info, &selector, all, &mut check).await?;
        Ok(claimed.into_iter().map(|rs| (*rs).clone()).collect())
    }

    fn selector(&self) -> Result<LabelSelector> {
        let sel = self.d.spec.as_ref().map(|s| &s.selector);
        LabelSelector::from_k8s_opt(sel).map_err(|e| Error::Invalid(e.to_string()))
    }

    /// The pods the Deployment selects, by the uid of the ReplicaSet of
    /// `rs_list` that controls them.
    fn pod_map(&self, rs_list: &[ReplicaSet]) -> HashMap<String, Vec<Arc<Pod>>> {
        let mut map: HashMap<String, Vec<Arc<Pod>>> = rs_list
            .iter()
            .filter_map(|rs| rs.metadata.uid.clone())
            .map(|uid| (uid, Vec::new()))
            .collect();
        let Ok(selector) = self.selector() else {
            return map;
        };
        let ns = self.d.metadata.namespace.as_deref();
        for pod in self.ctx.pods.state() {
            if pod.metadata.namespace.as_deref() != ns || !selector.matches(pod.labels()) {
                continue;
            }
            if let Some(r) = controller_of(&pod.metadata)
                && let Some(list) = map.get_mut(&r.uid)
            {
                list.push(pod);
            }
        }
        map
    }

    /// Marks pausing and resuming in the Progressing condition, so that a
    /// paused rollout never times out (upstream's `checkPausedConditions`).
    async fn check_paused_conditions(&mut self) -> Result<()> {
        if cond::progress_deadline(&self.d).is_none() {
            return Ok(());
        }
        let status = self.d.status.clone().unwrap_or_default();
        let progressing = cond::get(&status, cond::PROGRESSING);
        if progressing.is_some_and(|c| c.reason.as_deref() == Some(reason::TIMED_OUT)) {
            return Ok(());
        }
        let paused_cond = progressing.is_some_and(|c| c.reason.as_deref() == Some(reason::PAUSED));
        let c = match (self.paused(), paused_cond) {
            (true, false) => cond::new(
                cond::PROGRESSING,
                "Unknown",
                reason::PAUSED,
                "Deployment is paused".into(),
            ),
            (false, true) => cond::new(
                cond::PROGRESSING,
                "Unknown",
                reason::RESUMED,
                "Deployment is resumed".into(),
            ),
            _ => return Ok(()),
        };
        cond::set(self.d.status.get_or_insert_with(Default::default), c);
        self.write_status().await
    }

    /// Whether the Deployment was scaled (an active ReplicaSet records
    /// another size) rather than changed.
    async fn is_scaling_event(&mut self, rs_list: &mut Vec<ReplicaSet>) -> Result<bool> {
        let (new_rs, old) = self.all_rss_and_sync_revision(rs_list, false).await?;
        let want = util::replicas(&self.d);
        Ok(old
            .iter()
            .chain(new_rs.iter())
            .filter(|rs| util::rs_replicas(rs) > 0)
            .any(|rs| util::desired_replicas_annotation(rs).is_some_and(|d| d != want)))
    }

    /// Scales (and, when paused, cleans up) without rolling out.
    async fn sync(&mut self, rs_list: &mut Vec<ReplicaSet>) -> Result<()> {
        let (new_rs, old) = self.all_rss_and_sync_revision(rs_list, false).await?;
        self.scale(new_rs.as_ref(), &old).await?;
        if self.paused() {
            self.cleanup(&old).await?;
        }
        self.sync_status(&old, new_rs.as_ref()).await
    }

    /// The new ReplicaSet (created when `create` and missing) and all the
    /// old ones, the new one's annotations and the Deployment's revision
    /// brought up to date (upstream's `getAllReplicaSetsAndSyncRevision`).
    pub async fn all_rss_and_sync_revision(
        &mut self,
        rs_list: &mut Vec<ReplicaSet>,
        create: bool,
    ) -> Result<(Option<ReplicaSet>, Vec<ReplicaSet>)> {
        rs_list.sort_by(util::by_creation);
        let template = self.template();
        let new_idx = rs_list.iter().position(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| util::equal_ignore_hash(t, &template))
        });
        let old: Vec<ReplicaSet> = rs_list
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != new_idx)
            .map(|(_, rs)| rs.clone())
            .collect();
        let new_revision = util::max_revision(&old) + 1;
        let new_rs = match new_idx {
            Some(i) => Some(self.sync_new_rs(rs_list, i, new_revision).await?),
            None if create => {
                let rs = self.create_new_rs(&old, new_revision).await?;
                rs_list.push(rs.clone());
                Some(rs)
            }
            None => None,
        };
        Ok((new_rs, old))
    }

    pub fn template(&self) -> k8s_openapi::api::core::v1::PodTemplateSpec {
        self.d
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default()
    }

    fn min_ready_seconds(&self) -> i32 {
        self.d
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    /// Brings the existing new ReplicaSet's annotations and
    /// minReadySeconds up to date, else the Deployment's revision.
    async fn sync_new_rs(
        &mut self,
        rs_list: &mut [ReplicaSet],
        idx: usize,
        new_revision: i64,
    ) -> Result<ReplicaSet> {
        let mut copy = rs_list[idx].clone();
        let annotations_changed =
            util::set_new_rs_annotations(&self.d, &mut copy, new_revision, true);
        let mrs = self.min_ready_seconds();
        let spec = copy.spec.get_or_insert_with(Default::default);
        if annotations_changed || spec.min_ready_seconds.unwrap_or(0) != mrs {
            spec.min_ready_seconds = Some(mrs);
            let updated = self
                .rs_api
                .replace(&copy.name_any(), &PostParams::default(), &copy)
                .await?;
            rs_list[idx] = updated.clone();
            return Ok(updated);
        }
        let rev = copy
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(util::REVISION))
            .cloned()
            .unwrap_or_default();
        let mut needs_update = util::set_deployment_revision(&mut self.d, &rev);
        let has_deadline = cond::progress_deadline(&self.d).is_some();
        let status = self.d.status.get_or_insert_with(Default::default);
        if has_deadline && cond::get(status, cond::PROGRESSING).is_none() {
            let c = cond::new(
                cond::PROGRESSING,
                "True",
                reason::FOUND_NEW_RS,
                format!("Found new replica set \"{}\"", copy.name_any()),
            );
            cond::set(status, c);
            needs_update = true;
        }
        if needs_update {
            self.write_status().await?;
        }
        Ok(copy)
    }

    /// Creates the new ReplicaSet `<deployment>-<pod-template-hash>`
    /// (upstream's `getNewReplicaSet` when none exists).
    async fn create_new_rs(&mut self, old: &[ReplicaSet], new_revision: i64) -> Result<ReplicaSet> {
        let mut template = self.template();
        let collisions = self.d.status.as_ref().and_then(|s| s.collision_count);
        let hash = compute_hash(&template, collisions);
        template
            .metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert(util::HASH_LABEL.into(), hash.clone());
        let mut selector = self
            .d
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        selector
            .match_labels
            .get_or_insert_with(Default::default)
            .insert(util::HASH_LABEL.into(), hash.clone());
        let name = format!("{}-{hash}", self.d.name_any());
        let mut new_rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: self.d.metadata.namespace.clone(),
                owner_references: Some(vec![OwnerInfo::of(&self.d).controller_ref()]),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: Some(self.min_ready_seconds()),
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let mut all: Vec<&ReplicaSet> = old.iter().collect();
        all.push(&new_rs);
        let count = self.new_rs_new_replicas(&all, &new_rs)?;
        if let Some(spec) = new_rs.spec.as_mut() {
            spec.replicas = Some(count);
        }
        util::set_new_rs_annotations(&self.d, &mut new_rs, new_revision, false);
        let (created, already_exists) =
            match self.rs_api.create(&PostParams::default(), &new_rs).await {
                Ok(rs) => (rs, false),
                Err(e) if apierr::is_already_exists(&e) => {
                    // A slow cache, or a hash collision.
                    let key = kube::runtime::reflector::ObjectRef::new(&name)
                        .within(self.d.metadata.namespace.as_deref().unwrap_or_default());
                    let Some(existing) = self.ctx.replica_sets.get(&key) else {
                        return Err(e.into());
                    };
                    let ours = controller_of(&existing.metadata)
                        .is_some_and(|r| Some(&r.uid) == self.d.metadata.uid.as_ref());
                    let same = existing
                        .spec
                        .as_ref()
                        .and_then(|s| s.template.as_ref())
                        .is_some_and(|t| util::equal_ignore_hash(t, &self.template()));
                    if ours && same {
                        ((*existing).clone(), true)
                    } else {
                        let status = self.d.status.get_or_insert_with(Default::default);
                        status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                        self.write_status().await?;
                        return Err(e.into());
                    }
                }
                Err(e) if apierr::namespace_terminating(&e) => return Err(e.into()),
                Err(e) => {
                    let msg = format!(
                        "Failed to create new replica set \"{name}\": {}",
                        apierr::message(&e)
                    );
                    if cond::progress_deadline(&self.d).is_some() {
                        let c = cond::new(
                            cond::PROGRESSING,
                            "False",
                            reason::FAILED_RS_CREATE,
                            msg.clone(),
                        );
                        cond::set(self.d.status.get_or_insert_with(Default::default), c);
                        // The failure is the news; a failed status write adds none.
                        let _ = self.write_status().await;
                    }
                    self.event(EventType::Warning, reason::FAILED_RS_CREATE, "Create", msg);
                    return Err(e.into());
                }
            };
        if !already_exists && count > 0 {
            self.event(
                EventType::Normal,
                "ScalingReplicaSet",
                "Scale",
                format!(
                    "Scaled up replica set {} from 0 to {count}",
                    created.name_any()
                ),
            );
        }
        let mut needs_update =
            util::set_deployment_revision(&mut self.d, &new_revision.to_string());
        if !already_exists && cond::progress_deadline(&self.d).is_some() {
            let c = cond::new(
                cond::PROGRESSING,
                "True",
                reason::NEW_RS_CREATED,
                format!("Created new replica set \"{}\"", created.name_any()),
            );
            cond::set(self.d.status.get_or_insert_with(Default::default), c);
            needs_update = true;
        }
        if needs_update {
            self.write_status().await?;
        }
        Ok(created)
    }

    /// How big the new ReplicaSet may be now (upstream's
    /// `NewRSNewReplicas`). A rolling update counts, for each ReplicaSet,
    /// the larger of its size and the pods it still reports, so that pods
    /// an old ReplicaSet has not yet removed count against maxSurge too
    /// (upstream counts sizes only, letting the new pods of one step
    /// overlap the old pods of the last for a moment).
    pub fn new_rs_new_replicas(&self, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> Result<i32> {
        let want = util::replicas(&self.d);
        match util::strategy_type(&self.d) {
            "RollingUpdate" => {
                let current: i32 = all
                    .iter()
                    .map(|rs| util::rs_replicas(rs).max(util::rs_status_replicas(rs)))
                    .sum();
                let max_total = want + util::max_surge(&self.d);
                let have = util::rs_replicas(new_rs);
                if current >= max_total {
                    return Ok(have);
                }
                Ok(have + (max_total - current).min(want - have))
            }
            "Recreate" => Ok(want),
            other => Err(Error::Invalid(format!(
                "deployment type {other} isn't supported"
            ))),
        }
    }

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
    async fn scale(&self, new_rs: Option<&ReplicaSet>, old: &[ReplicaSet]) -> Result<()> {
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

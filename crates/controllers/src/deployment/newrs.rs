//! The new ReplicaSet: found by template among the Deployment's
//! ReplicaSets (its annotations and the Deployment's revision kept up to
//! date) or created as `<deployment>-<pod-template-hash>` (upstream's
//! `getNewReplicaSet`).

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::api::PostParams;

use super::conditions::{self as cond, reason};
use super::hash::compute_hash;
use super::sync::Sync;
use super::util;
use crate::podcontrol::{EventType, OwnerInfo, apierr, controller_of};
use crate::{Error, Result};

impl Sync {
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

    pub fn template(&self) -> PodTemplateSpec {
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
}

//! One sync of one Deployment (upstream's `syncDeployment`): claim its
//! ReplicaSets, find or create the new one, scale, roll out by strategy,
//! clean up old history and write the status.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ironclad_api::selector::LabelSelector;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};

use super::conditions::{self as cond, reason};
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
}

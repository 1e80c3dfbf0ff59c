//! What the collector does for one work item (upstream's
//! `attemptToDeleteItem`, `processDeletingDependentsItem` and
//! `attemptToOrphanWorker`): every decision is checked against the live
//! object and a live GET of each owner (uid included), never the graph
//! alone.

use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Client;
use kube::api::PropagationPolicy;
use kube::runtime::events::{Event, EventType, Recorder};
use serde_json::json;

mod writes;

use super::graph::{FOREGROUND, Graph, InvalidOwner, Node, ORPHAN, ObjectRef, Work};
use super::resources::{Resource, Resources};
use crate::{Error, Result};

/// How many dependents are orphaned at once.
const ORPHAN_CONCURRENCY: usize = 8;

/// What became of a work item.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing more to do.
    Done,
    /// Done; these items are to be looked at now.
    Enqueue(Vec<Work>),
    /// Look at it again later: a virtual node not yet observed.
    Poll,
    /// The object does not exist (upstream's virtual delete event).
    Absent(ObjectRef),
}

/// An owner reference, classified.
enum Owner {
    /// The owner exists and is not deleting its dependents.
    Solid,
    /// The owner does not exist.
    Dangling,
    /// The owner exists and is deleting its dependents in the foreground.
    Waiting,
}

/// The collector: the client, the resources and the graph.
pub struct Collector {
    client: Client,
    resources: Resources,
    graph: Mutex<Graph>,
    recorder: Recorder,
}

impl Collector {
    /// A collector over `resources`.
    pub fn new(client: Client, resources: Resources) -> Arc<Collector> {
        let recorder = Recorder::new(client.clone(), "garbage-collector-controller".into());
        Arc::new(Collector {
            client,
            resources,
            graph: Mutex::new(Graph::default()),
            recorder,
        })
    }

    /// The graph (held briefly, never across an await).
    pub fn graph(&self) -> MutexGuard<'_, Graph> {
        self.graph.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Works on one item.
    pub async fn process(&self, work: &Work) -> Result<Outcome> {
        match work {
            Work::Delete(uid) => self.attempt_to_delete(uid).await,
            Work::Orphan(uid) => self.attempt_to_orphan(uid).await,
        }
    }

    /// Reports an ownerReference to an owner in another namespace on the
    /// dependent, as upstream's OwnerRefInvalidNamespace event.
    pub async fn report_invalid(&self, invalid: &InvalidOwner) {
        let namespace = invalid.dependent.namespace.as_deref().unwrap_or("");
        tracing::warn!(dependent = %invalid.dependent, owner = %invalid.owner, "ownerRef names an owner outside the dependent's namespace");
        let note = format!(
            "ownerRef {} does not exist in namespace {namespace:?}",
            invalid.owner
        );
        self.event(&invalid.dependent, "OwnerRefInvalidNamespace", note)
            .await;
    }

    async fn event(&self, regarding: &ObjectRef, reason: &str, note: String) {
        let reference = ObjectReference {
            api_version: Some(regarding.api_version.clone()),
            kind: Some(regarding.kind.clone()),
            namespace: regarding.namespace.clone(),
            name: Some(regarding.name.clone()),
            uid: Some(regarding.uid.clone()),
            ..Default::default()
        };
        let ev = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some(note),
            action: "GarbageCollect".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &reference).await {
            tracing::debug!(error = %e, "garbage collector: event not recorded");
        }
    }

    fn resource(&self, api_version: &str, kind: &str) -> Result<&Resource> {
        self.resources
            .for_kind(api_version, kind)
            .ok_or_else(|| Error::Invalid(format!("no served resource for {api_version} {kind}")))
    }

    /// The object's live metadata, if it exists.
    async fn get(&self, identity: &ObjectRef) -> Result<Option<ObjectMeta>> {
        let r = self.resource(&identity.api_version, &identity.kind)?;
        let api = r.api(&self.client, identity.namespace.as_deref());
        Ok(api
            .get_metadata_opt(&identity.name)
            .await?
            .map(|m| m.metadata))
    }

    async fn attempt_to_delete(&self, uid: &str) -> Result<Outcome> {
        let Some(item) = self.graph().node(uid).cloned() else {
            return Ok(Outcome::Done);
        };
        if item.state.being_deleted && !item.state.deleting_dependents() {
            return Ok(Outcome::Done);
        }
        let latest = match self.get(&item.identity).await? {
            Some(m) if m.uid.as_deref() == Some(uid) => m,
            _ => return Ok(Outcome::Absent(item.identity)),
        };
        let outcome = if item.state.deleting_dependents() {
            self.deleting_dependents(&item).await?
        } else {
            self.collect(&item, &latest).await?
        };
        match outcome {
            Outcome::Done if !item.observed => Ok(Outcome::Poll),
            other => Ok(other),
        }
    }

    /// Deletes the item if none of its owners is solid; drops its
    /// references to gone owners otherwise.
    async fn collect(&self, item: &Node, latest: &ObjectMeta) -> Result<Outcome> {
        let references = latest.owner_references.clone().unwrap_or_default();
        if references.is_empty() {
            return Ok(Outcome::Done);
        }
        let mut solid = Vec::new();
        let mut gone = Vec::new();
        let mut waiting = Vec::new();
        for r in &references {
            match self.classify(item, r).await? {
                Some(Owner::Solid) => solid.push(r),
                Some(Owner::Dangling) => gone.push(r.uid.clone()),
                Some(Owner::Waiting) => waiting.push(r.uid.clone()),
                None => return Ok(Outcome::Done),
            }
        }
        let rv = latest.resource_version.clone();
        if !solid.is_empty() {
            if gone.is_empty() && waiting.is_empty() {
                return Ok(Outcome::Done);
            }
            tracing::debug!(item = %item.identity, ?gone, ?waiting, "removing references to owners that are gone or deleting");
            let kept: Vec<&OwnerReference> = references
                .iter()
                .filter(|r| !gone.contains(&r.uid) && !waiting.contains(&r.uid))
                .collect();
            self.patch_meta(
                &item.identity,
                json!({"metadata": {"ownerReferences": kept, "resourceVersion": rv}}),
            )
            .await?;
            return Ok(Outcome::Done);
        }
        let has_dependents = !self.graph().dependents(&item.identity.uid).is_empty();
        let policy = if !waiting.is_empty() && has_dependents {
            // An owner waits for this item; if a dependent of this item
            // also waits for its own, stop blocking to break cycles.
            let cycle = self
                .graph()
                .dependents(&item.identity.uid)
                .iter()
                .any(|d| d.state.deleting_dependents());
            if cycle {
                let unblocked: Vec<OwnerReference> = references
                    .iter()
                    .cloned()
                    .map(|mut r| {
                        if r.block_owner_deletion == Some(true) {
                            r.block_owner_deletion = Some(false);
                        }
                        r
                    })
                    .collect();
                self.patch_meta(
                    &item.identity,
                    json!({"metadata": {"ownerReferences": unblocked}}),
                )
                .await?;
            }
            PropagationPolicy::Foreground
        } else {
            let finalizers = latest.finalizers.as_deref().unwrap_or_default();
            if finalizers.iter().any(|f| f == ORPHAN) {
                PropagationPolicy::Orphan
            } else if finalizers.iter().any(|f| f == FOREGROUND) {
                PropagationPolicy::Foreground
            } else {
                PropagationPolicy::Background
            }
        };
        tracing::debug!(item = %item.identity, ?policy, "deleting an object whose owners are gone");
        self.delete(&item.identity, policy, rv, &references).await?;
        Ok(Outcome::Done)
    }

    /// Classifies one owner reference by a live GET of the owner; `None`
    /// for a reference that can never be valid (a cluster-scoped object
    /// naming a namespaced owner), which is reported and left alone.
    async fn classify(&self, item: &Node, r: &OwnerReference) -> Result<Option<Owner>> {
        let dep_ns = item.identity.namespace.as_deref();
        let mut key = ObjectRef::owner(r, None);
        let cluster_absent = self.graph().is_absent(&key);
        key.namespace = dep_ns.map(str::to_string);
        if cluster_absent || self.graph().is_absent(&key) {
            return Ok(Some(Owner::Dangling));
        }
        let resource = self.resource(&r.api_version, &r.kind)?;
        if !resource.namespaced {
            key.namespace = None;
        }
        if dep_ns.is_none() && resource.namespaced {
            let note = format!(
                "ownerRef {} does not exist in namespace \"\"",
                ObjectRef::owner(r, None)
            );
            tracing::warn!(item = %item.identity, owner = %key, "a cluster-scoped object names a namespaced owner; ignored");
            self.event(&item.identity, "OwnerRefInvalidNamespace", note)
                .await;
            return Ok(None);
        }
        let api = resource.api(&self.client, dep_ns);
        let owner = api.get_metadata_opt(&r.name).await?.map(|m| m.metadata);
        match owner {
            Some(o) if o.uid.as_deref() == Some(r.uid.as_str()) => {
                let foreground = o
                    .finalizers
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|f| f == FOREGROUND);
                Ok(Some(if o.deletion_timestamp.is_some() && foreground {
                    Owner::Waiting
                } else {
                    Owner::Solid
                }))
            }
            _ => {
                self.graph().mark_absent(key);
                Ok(Some(Owner::Dangling))
            }
        }
    }

    /// An owner deleting its dependents in the foreground: done when no
    /// blocking dependent is left, else those dependents are looked at.
    async fn deleting_dependents(&self, item: &Node) -> Result<Outcome> {
        let (blocked, work) = {
            let graph = self.graph();
            let blocking = graph.blocking_dependents(&item.identity.uid);
            // Those waiting on their own dependents come back to this
            // owner when they go.
            let work: Vec<Work> = blocking
                .iter()
                .filter(|d| !d.state.deleting_dependents())
                .map(|d| Work::Delete(d.identity.uid.clone()))
                .collect();
            (!blocking.is_empty(), work)
        };
        if blocked {
            return Ok(Outcome::Enqueue(work));
        }
        // The graph says none is left; the watches of other resources may
        // lag behind this owner's, so make sure before letting it go.
        let live = self.live_dependents(&item.identity).await?;
        let late = live
            .iter()
            .filter(|(_, r)| r.block_owner_deletion == Some(true))
            .count();
        if late > 0 {
            return Err(Error::Invalid(format!(
                "{} still has {late} blocking dependents the watches have not shown yet",
                item.identity
            )));
        }
        tracing::debug!(owner = %item.identity, "blocking dependents gone; removing foregroundDeletion");
        self.remove_finalizer(&item.identity, FOREGROUND).await?;
        Ok(Outcome::Done)
    }

    /// Removes the owner's reference from each dependent, then its
    /// `orphan` finalizer.
    async fn attempt_to_orphan(&self, uid: &str) -> Result<Outcome> {
        let (owner, dependents) = {
            let graph = self.graph();
            let Some(owner) = graph.node(uid) else {
                return Ok(Outcome::Done);
            };
            let deps: Vec<ObjectRef> = graph
                .dependents(uid)
                .into_iter()
                .map(|d| d.identity.clone())
                .collect();
            (owner.identity.clone(), deps)
        };
        // Dependents the watches have not shown yet are orphaned too.
        let mut dependents = dependents;
        for (d, _) in self.live_dependents(&owner).await? {
            if !dependents.iter().any(|known| known.uid == d.uid) {
                dependents.push(d);
            }
        }
        let count = dependents.len();
        let results: Vec<Result<()>> = futures::stream::iter(dependents)
            .map(|d| async move { self.remove_reference(&d, uid).await })
            .buffer_unordered(ORPHAN_CONCURRENCY)
            .collect()
            .await;
        for r in results {
            r?;
        }
        tracing::debug!(owner = %owner, orphaned = count, "dependents orphaned; removing the orphan finalizer");
        self.remove_finalizer(&owner, ORPHAN).await?;
        Ok(Outcome::Done)
    }
}

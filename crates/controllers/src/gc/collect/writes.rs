//! The collector's reads and writes beyond a GET: the live search for
//! dependents, removing a reference or a finalizer (read, modify, write
//! guarded by the resourceVersion, retried on conflicts), and deleting
//! with preconditions.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, Preconditions, PropagationPolicy};
use serde_json::{Value, json};

use super::Collector;
use crate::gc::graph::{ObjectRef, Observed};
use crate::{Error, Result};

/// How many times a read-modify-write is tried on conflicts.
const CONFLICT_RETRIES: usize = 5;

impl Collector {
    /// Every object that names `owner` as its owner, by listing (metadata
    /// only) every watched resource where such objects can live: the
    /// owner's namespace, or everywhere for a cluster-scoped owner.
    pub(super) async fn live_dependents(
        &self,
        owner: &ObjectRef,
    ) -> Result<Vec<(ObjectRef, OwnerReference)>> {
        let mut found = Vec::new();
        for r in self.resources.collectable() {
            if owner.namespace.is_some() && !r.namespaced {
                continue;
            }
            let api = r.api(&self.client, owner.namespace.as_deref());
            let list = api.list_metadata(&ListParams::default()).await?;
            for m in list.items {
                let Some(reference) = m
                    .metadata
                    .owner_references
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|o| o.uid == owner.uid)
                    .cloned()
                else {
                    continue;
                };
                if let Some(o) = Observed::from_meta(&r.api.api_version, &r.api.kind, &m.metadata) {
                    found.push((o.identity, reference));
                }
            }
        }
        Ok(found)
    }

    /// Drops `owner` from the dependent's ownerReferences.
    pub(super) async fn remove_reference(&self, dependent: &ObjectRef, owner: &str) -> Result<()> {
        for _ in 0..CONFLICT_RETRIES {
            let Some(m) = self.get(dependent).await? else {
                return Ok(());
            };
            if m.uid.as_deref() != Some(dependent.uid.as_str()) {
                return Ok(());
            }
            let refs = m.owner_references.unwrap_or_default();
            if !refs.iter().any(|r| r.uid == owner) {
                return Ok(());
            }
            let kept: Vec<&OwnerReference> = refs.iter().filter(|r| r.uid != owner).collect();
            let kept = if kept.is_empty() {
                Value::Null
            } else {
                json!(kept)
            };
            let patch = json!({"metadata": {"ownerReferences": kept, "resourceVersion": m.resource_version}});
            match self.patch_meta(dependent, patch).await {
                Err(Error::Api(kube::Error::Api(s))) if s.code == 409 => continue,
                Err(Error::Api(kube::Error::Api(s))) if s.code == 404 => return Ok(()),
                other => return other,
            }
        }
        Err(Error::Invalid(format!(
            "{dependent} kept changing while orphaning it"
        )))
    }

    /// Removes `finalizer` from the object.
    pub(super) async fn remove_finalizer(
        &self,
        identity: &ObjectRef,
        finalizer: &str,
    ) -> Result<()> {
        for _ in 0..CONFLICT_RETRIES {
            let Some(m) = self.get(identity).await? else {
                return Ok(());
            };
            if m.uid.as_deref() != Some(identity.uid.as_str()) {
                return Ok(());
            }
            let finalizers = m.finalizers.unwrap_or_default();
            if !finalizers.iter().any(|f| f == finalizer) {
                return Ok(());
            }
            let kept: Vec<&String> = finalizers.iter().filter(|f| *f != finalizer).collect();
            let kept = if kept.is_empty() {
                Value::Null
            } else {
                json!(kept)
            };
            let patch =
                json!({"metadata": {"finalizers": kept, "resourceVersion": m.resource_version}});
            match self.patch_meta(identity, patch).await {
                Err(Error::Api(kube::Error::Api(s))) if s.code == 409 => continue,
                Err(Error::Api(kube::Error::Api(s))) if s.code == 404 => return Ok(()),
                other => return other,
            }
        }
        Err(Error::Invalid(format!(
            "{identity} kept changing while removing its {finalizer} finalizer"
        )))
    }

    pub(super) async fn patch_meta(&self, identity: &ObjectRef, patch: Value) -> Result<()> {
        let r = self.resource(&identity.api_version, &identity.kind)?;
        let api = r.api(&self.client, identity.namespace.as_deref());
        api.patch_metadata(
            &identity.name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        Ok(())
    }

    /// Deletes the object if it is still the one classified (uid and
    /// resourceVersion); if only its resourceVersion changed and not its
    /// owners, deletes it anyway.
    pub(super) async fn delete(
        &self,
        identity: &ObjectRef,
        policy: PropagationPolicy,
        resource_version: Option<String>,
        owners: &[OwnerReference],
    ) -> Result<()> {
        let r = self.resource(&identity.api_version, &identity.kind)?;
        let api = r.api(&self.client, identity.namespace.as_deref());
        let params = |rv: Option<String>| DeleteParams {
            propagation_policy: Some(policy.clone()),
            preconditions: Some(Preconditions {
                uid: Some(identity.uid.clone()),
                resource_version: rv,
            }),
            ..Default::default()
        };
        match api
            .delete(&identity.name, &params(resource_version.clone()))
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && resource_version.is_some() => {
                let live = api.get_metadata_opt(&identity.name).await?;
                let Some(live) = live.map(|m| m.metadata) else {
                    return Ok(());
                };
                let same_owners = live.owner_references.as_deref().unwrap_or_default() == owners;
                if live.uid.as_deref() == Some(identity.uid.as_str())
                    && live.resource_version != resource_version
                    && same_owners
                {
                    match api.delete(&identity.name, &params(None)).await {
                        Ok(_) => Ok(()),
                        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                        Err(e) => Err(e.into()),
                    }
                } else {
                    Err(kube::Error::Api(s).into())
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

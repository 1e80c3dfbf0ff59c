//! Adoption and release by selector (upstream's `ControllerRefManager`):
//! a controller owns the objects whose controller reference names it and
//! that its selector matches; it adopts matching orphans and releases the
//! objects it owns that no longer match.

use std::fmt::Debug;
use std::sync::Arc;

use ironclad_api::selector::LabelSelector;
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::apierr;
use super::ownerref::{OwnerInfo, controller_of};
use crate::{Error, Result};

/// Checks, once and only when an adoption is about to happen, that the
/// owner still exists with the same uid and is not being deleted, with a
/// fresh read from the API rather than the cache (upstream's
/// `RecheckDeletionTimestamp`).
pub struct AdoptionCheck<O: Resource> {
    api: Api<O>,
    owner: OwnerInfo,
    result: Option<Result<(), String>>,
}

impl<O> AdoptionCheck<O>
where
    O: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    /// A check of `owner` through `api`.
    pub fn new(api: Api<O>, owner: OwnerInfo) -> Self {
        AdoptionCheck {
            api,
            owner,
            result: None,
        }
    }

    async fn ensure(&mut self) -> Result<()> {
        if self.result.is_none() {
            self.result = Some(self.fetch().await);
        }
        match &self.result {
            Some(Err(e)) => Err(Error::Invalid(e.clone())),
            _ => Ok(()),
        }
    }

    async fn fetch(&self) -> Result<(), String> {
        let o = &self.owner;
        let fresh = self.api.get(&o.name).await.map_err(|e| e.to_string())?;
        let meta = fresh.meta();
        let uid = meta.uid.as_deref().unwrap_or_default();
        if uid != o.uid {
            return Err(format!(
                "original {} {}/{} is gone: got uid {uid}, wanted {}",
                o.kind, o.namespace, o.name, o.uid
            ));
        }
        if let Some(at) = &meta.deletion_timestamp {
            return Err(format!(
                "{} {}/{} has just been deleted at {}",
                o.kind, o.namespace, o.name, at.0
            ));
        }
        Ok(())
    }
}

/// Claims `children` (all objects of the owner's namespace that may be
/// its): returns those the owner controls after adopting matching
/// orphans and releasing owned objects its selector no longer matches.
/// Every child is tried; the first error is returned after that, with
/// nothing claimed, so that the caller retries.
pub async fn claim<K, O>(
    api: &Api<K>,
    owner: &OwnerInfo,
    selector: &LabelSelector,
    children: Vec<Arc<K>>,
    check: &mut AdoptionCheck<O>,
) -> Result<Vec<Arc<K>>>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
    O: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let mut claimed = Vec::new();
    let mut first_err = None;
    for child in children {
        match claim_one(api, owner, selector, &child, check).await {
            Ok(true) => claimed.push(child),
            Ok(false) => {}
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(claimed),
    }
}

async fn claim_one<K, O>(
    api: &Api<K>,
    owner: &OwnerInfo,
    selector: &LabelSelector,
    child: &K,
    check: &mut AdoptionCheck<O>,
) -> Result<bool>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
    O: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let meta = child.meta();
    let matches = selector.matches(child.labels());
    if let Some(cref) = controller_of(meta) {
        if cref.uid != owner.uid {
            return Ok(false);
        }
        if matches {
            return Ok(true);
        }
        if owner.deleting {
            return Ok(false);
        }
        let patch = json!({"metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": owner.uid}],
            "uid": meta.uid,
        }});
        return match patch_child(api, child, &patch).await {
            // Gone, or no longer ours (the uid changed): nothing to release.
            Err(e) if apierr::is_not_found(&e) || apierr::is_invalid(&e) => Ok(false),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(false),
        };
    }
    if owner.deleting || !matches || meta.deletion_timestamp.is_some() {
        return Ok(false);
    }
    if meta.namespace.as_deref().unwrap_or_default() != owner.namespace {
        return Ok(false);
    }
    check.ensure().await?;
    let patch = json!({"metadata": {
        "ownerReferences": [owner.controller_ref()],
        "uid": meta.uid,
    }});
    match patch_child(api, child, &patch).await {
        Err(e) if apierr::is_not_found(&e) => Ok(false),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(true),
    }
}

async fn patch_child<K>(api: &Api<K>, child: &K, patch: &serde_json::Value) -> kube::Result<()>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
{
    api.patch(
        &child.name_any(),
        &PatchParams::default(),
        &Patch::Strategic(patch),
    )
    .await
    .map(|_| ())
}

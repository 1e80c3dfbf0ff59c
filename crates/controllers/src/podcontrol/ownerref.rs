//! ownerReferences: who controls an object, and the reference a controller
//! writes on what it creates or adopts.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;

/// The identity of a controlling object, as its children refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerInfo {
    /// `apps/v1`, `v1`, ...
    pub api_version: String,
    /// `ReplicaSet`, `ReplicationController`, `Deployment`, ...
    pub kind: String,
    /// The owner's name.
    pub name: String,
    /// The owner's namespace.
    pub namespace: String,
    /// The owner's uid.
    pub uid: String,
    /// Whether the owner is being deleted (it then adopts and releases
    /// nothing).
    pub deleting: bool,
}

impl OwnerInfo {
    /// The identity of `owner`.
    pub fn of<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerInfo {
        let meta = owner.meta();
        OwnerInfo {
            api_version: K::api_version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
            deleting: meta.deletion_timestamp.is_some(),
        }
    }

    /// The controller reference to this owner (upstream's
    /// `NewControllerRef`): controller and blockOwnerDeletion set.
    pub fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

/// The controller reference to `owner` (upstream's `NewControllerRef`).
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    OwnerInfo::of(owner).controller_ref()
}

/// The reference to the object's controller, if any (upstream's
/// `GetControllerOf`).
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// Whether the object's controller is the object with `uid`.
pub fn is_controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    controller_of(meta).is_some_and(|r| r.uid == uid)
}

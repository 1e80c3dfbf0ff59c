//! What the graph is made of: object coordinates, what a watch tells
//! about an object, nodes, and the work a change asks for.

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// The finalizer asking the collector to orphan the dependents.
pub const ORPHAN: &str = "orphan";
/// The finalizer asking the collector to delete the blocking dependents
/// before the owner.
pub const FOREGROUND: &str = "foregroundDeletion";

/// An object's coordinates. `namespace` is `None` for cluster-scoped
/// objects (and for virtual owners of cluster-scoped dependents).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// apiVersion, as observed or as referenced.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Uid.
    pub uid: String,
}

impl ObjectRef {
    /// The owner an ownerReference of an object in `namespace` names.
    pub fn owner(reference: &OwnerReference, namespace: Option<&str>) -> ObjectRef {
        ObjectRef {
            api_version: reference.api_version.clone(),
            kind: reference.kind.clone(),
            namespace: namespace.map(str::to_string),
            name: reference.name.clone(),
            uid: reference.uid.clone(),
        }
    }

    /// Whether `reference` names this object (uid, name, kind, apiVersion).
    pub fn matches(&self, reference: &OwnerReference) -> bool {
        self.uid == reference.uid
            && self.name == reference.name
            && self.kind == reference.kind
            && self.api_version == reference.api_version
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}/{}, namespace: {}, name: {}, uid: {}]",
            self.api_version,
            self.kind,
            self.namespace.as_deref().unwrap_or(""),
            self.name,
            self.uid
        )
    }
}

/// What the graph learns from one observed object.
#[derive(Debug, Clone)]
pub struct Observed {
    /// Its coordinates.
    pub identity: ObjectRef,
    /// Its ownerReferences.
    pub owners: Vec<OwnerReference>,
    /// Flags from its metadata.
    pub state: State,
}

/// The deletion state of an object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State {
    /// It has a deletionTimestamp.
    pub being_deleted: bool,
    /// It carries the `orphan` finalizer.
    pub orphan: bool,
    /// It carries the `foregroundDeletion` finalizer.
    pub foreground: bool,
}

impl State {
    /// Waiting for the collector to orphan its dependents.
    pub fn orphaning(&self) -> bool {
        self.being_deleted && self.orphan
    }

    /// Waiting for the collector to delete its blocking dependents.
    pub fn deleting_dependents(&self) -> bool {
        self.being_deleted && self.foreground
    }
}

impl Observed {
    /// From an object's metadata, watched as `api_version`/`kind`; `None`
    /// when it has no uid or name.
    pub fn from_meta(api_version: &str, kind: &str, meta: &ObjectMeta) -> Option<Observed> {
        let finalizers = meta.finalizers.as_deref().unwrap_or_default();
        Some(Observed {
            identity: ObjectRef {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
                namespace: meta.namespace.clone().filter(|n| !n.is_empty()),
                name: meta.name.clone()?,
                uid: meta.uid.clone()?,
            },
            owners: meta.owner_references.clone().unwrap_or_default(),
            state: State {
                being_deleted: meta.deletion_timestamp.is_some(),
                orphan: finalizers.iter().any(|f| f == ORPHAN),
                foreground: finalizers.iter().any(|f| f == FOREGROUND),
            },
        })
    }
}

/// Work for the collector, by uid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Work {
    /// Decide whether the object is garbage (or, for an owner deleting its
    /// dependents in the foreground, whether it is done).
    Delete(String),
    /// Orphan the object's dependents, then remove its `orphan` finalizer.
    Orphan(String),
}

/// An ownerReference that names an owner in another namespace.
#[derive(Debug, Clone)]
pub struct InvalidOwner {
    /// The object carrying the reference.
    pub dependent: ObjectRef,
    /// The owner as the reference names it.
    pub owner: ObjectRef,
}

/// What a change of the graph asks for.
#[derive(Debug, Default)]
pub struct Changes {
    /// Items to look at now.
    pub work: Vec<Work>,
    /// Items to look at again later (with backoff).
    pub later: Vec<Work>,
    /// References to report as invalid.
    pub invalid: Vec<InvalidOwner>,
}

/// One object in the graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its coordinates (as referenced, for a virtual node).
    pub identity: ObjectRef,
    /// Its ownerReferences.
    pub owners: Vec<OwnerReference>,
    /// Uids of the objects naming it as owner.
    pub dependents: BTreeSet<String>,
    /// Its deletion state (never set for a virtual node).
    pub state: State,
    /// Seen through a watch (false: virtual).
    pub observed: bool,
    /// The watch it was seen through.
    pub(super) resource: Option<usize>,
}

impl Node {
    /// The reference to `owner` among its ownerReferences.
    pub fn reference_to(&self, owner: &str) -> Option<&OwnerReference> {
        self.owners.iter().find(|r| r.uid == owner)
    }
}

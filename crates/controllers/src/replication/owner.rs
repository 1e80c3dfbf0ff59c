//! What the controller needs of its owners: ReplicationControllers
//! (core/v1, a map selector) and ReplicaSets (apps/v1, a LabelSelector)
//! behind one trait, with one shape of status.

use std::fmt::Debug;

use ironclad_api::selector::LabelSelector;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{
    PodTemplateSpec, ReplicationController, ReplicationControllerCondition,
    ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An object that keeps a number of pods from a template running.
pub trait ReplicaOwner:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The controller's name in Events (upstream's component name).
    const CONTROLLER: &'static str;

    /// The pods it selects; an error for a selector that cannot be used.
    fn selector(&self) -> Result<LabelSelector, String>;
    /// How many pods it wants (`spec.replicas`, default 1).
    fn replicas(&self) -> i32;
    /// How long a pod must be ready to count as available.
    fn min_ready_seconds(&self) -> i32;
    /// The template of its pods.
    fn template(&self) -> Option<&PodTemplateSpec>;
    /// Its status, in the shape both kinds share.
    fn replica_status(&self) -> ReplicaStatus;
    /// Replaces its status.
    fn set_replica_status(&mut self, status: ReplicaStatus);
}

/// The status both kinds share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// Active pods.
    pub replicas: i32,
    /// Active pods whose labels match the template's.
    pub fully_labeled_replicas: i32,
    /// Active pods that are ready.
    pub ready_replicas: i32,
    /// Active pods ready for at least minReadySeconds.
    pub available_replicas: i32,
    /// The generation this status was computed for.
    pub observed_generation: i64,
    /// Conditions (ReplicaFailure).
    pub conditions: Vec<ReplicaCondition>,
}

/// A condition of either kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaCondition {
    /// `ReplicaFailure`.
    pub type_: String,
    /// `True`, `False`, `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    pub reason: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
    /// When the status last changed.
    pub last_transition_time: Option<Time>,
}

/// Upstream leaves zero counts out of the JSON (`omitempty`).
fn nonzero<T: Default + PartialEq>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

// === impl ReplicaSet ===

impl ReplicaOwner for ReplicaSet {
    const CONTROLLER: &'static str = "replicaset-controller";

    fn selector(&self) -> Result<LabelSelector, String> {
        let sel = self.spec.as_ref().map(|s| &s.selector);
        LabelSelector::from_k8s_opt(sel).map_err(|e| e.to_string())
    }

    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref()?.template.as_ref()
    }

    fn replica_status(&self) -> ReplicaStatus {
        let s = self.status.clone().unwrap_or_default();
        ReplicaStatus {
            replicas: s.replicas,
            fully_labeled_replicas: s.fully_labeled_replicas.unwrap_or(0),
            ready_replicas: s.ready_replicas.unwrap_or(0),
            available_replicas: s.available_replicas.unwrap_or(0),
            observed_generation: s.observed_generation.unwrap_or(0),
            conditions: s
                .conditions
                .unwrap_or_default()
                .into_iter()
                .map(|c| ReplicaCondition {
                    type_: c.type_,
                    status: c.status,
                    reason: c.reason,
                    message: c.message,
                    last_transition_time: c.last_transition_time,
                })
                .collect(),
        }
    }

    fn set_replica_status(&mut self, s: ReplicaStatus) {
        let terminating = self.status.as_ref().and_then(|s| s.terminating_replicas);
        self.status = Some(ReplicaSetStatus {
            replicas: s.replicas,
            fully_labeled_replicas: nonzero(s.fully_labeled_replicas),
            ready_replicas: nonzero(s.ready_replicas),
            available_replicas: nonzero(s.available_replicas),
            observed_generation: nonzero(s.observed_generation),
            terminating_replicas: terminating,
            conditions: (!s.conditions.is_empty()).then(|| {
                s.conditions
                    .into_iter()
                    .map(|c| ReplicaSetCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
        });
    }
}

// === impl ReplicationController ===

impl ReplicaOwner for ReplicationController {
    const CONTROLLER: &'static str = "replication-controller";

    fn selector(&self) -> Result<LabelSelector, String> {
        // Validation requires a non-empty selector (the server defaults
        // it to the template's labels); an empty one selects nothing here
        // rather than every pod of the namespace.
        match self.spec.as_ref().and_then(|s| s.selector.as_ref()) {
            Some(m) if !m.is_empty() => Ok(LabelSelector::from_labels(m)),
            _ => Ok(LabelSelector::nothing()),
        }
    }

    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref()?.template.as_ref()
    }

    fn replica_status(&self) -> ReplicaStatus {
        let s = self.status.clone().unwrap_or_default();
        ReplicaStatus {
            replicas: s.replicas,
            fully_labeled_replicas: s.fully_labeled_replicas.unwrap_or(0),
            ready_replicas: s.ready_replicas.unwrap_or(0),
            available_replicas: s.available_replicas.unwrap_or(0),
            observed_generation: s.observed_generation.unwrap_or(0),
            conditions: s
                .conditions
                .unwrap_or_default()
                .into_iter()
                .map(|c| ReplicaCondition {
                    type_: c.type_,
                    status: c.status,
                    reason: c.reason,
                    message: c.message,
                    last_transition_time: c.last_transition_time,
                })
                .collect(),
        }
    }

    fn set_replica_status(&mut self, s: ReplicaStatus) {
        self.status = Some(ReplicationControllerStatus {
            replicas: s.replicas,
            fully_labeled_replicas: nonzero(s.fully_labeled_replicas),
            ready_replicas: nonzero(s.ready_replicas),
            available_replicas: nonzero(s.available_replicas),
            observed_generation: nonzero(s.observed_generation),
            conditions: (!s.conditions.is_empty()).then(|| {
                s.conditions
                    .into_iter()
                    .map(|c| ReplicationControllerCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
        });
    }
}

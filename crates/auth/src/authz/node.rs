//! What a kubelet may touch, as upstream's Node authorizer decides it: its
//! own Node, Lease and CSINode, and the secrets, config maps, claims,
//! volumes and service accounts of the pods bound to it.
//!
//! - [`NodeGraph`]: which objects each node relates to, kept up to date by
//!   the API server as pods, persistent volumes, volume attachments and
//!   resource slices change.
//! - [`NodeAuthorizer`]: the authorizer reading it.
//! - [`PodReferences`]: what one pod refers to.

mod authorizer;
mod graph;
mod references;
#[cfg(test)]
mod tests;

pub use authorizer::{NODE_LEASE_NAMESPACE, NodeAuthorizer};
pub use graph::{NodeGraph, VertexKind};
pub use references::{MIRROR_POD_ANNOTATION, PodReferences, pv_secrets};

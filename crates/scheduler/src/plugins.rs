//! The plugins, one module each, named as upstream names them. Each module
//! has a `NAME`, a `new` for the registry ([`crate::framework::registry`])
//! and the plugin's logic as plain functions on [`PodInfo`] and
//! [`NodeInfo`], tested on their own.
//!
//! [`PodInfo`]: crate::podinfo::PodInfo
//! [`NodeInfo`]: crate::nodeinfo::NodeInfo

pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_balanced_allocation;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;

#[cfg(test)]
pub(crate) mod testing;

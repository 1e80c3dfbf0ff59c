//! The printer of each kind: its columns and how one object becomes a row.
//! Rows always carry every column, priority-1 ones included, because the
//! server renders tables wide and clients hide what they do not show.

mod aggregation;
mod cluster;
mod corev1;
mod event;
mod network;
mod pod;
mod sets;
mod workload;

use chrono::{DateTime, Utc};
use ironclad_api::registry::ResourceInfo;
use serde_json::Value;

use crate::column::Column;

/// One table row: its cells and its conditions (only pods have any).
pub(crate) struct Row {
    pub(crate) cells: Vec<Value>,
    pub(crate) conditions: Vec<Value>,
}

impl Row {
    /// A row without conditions.
    pub(crate) fn cells(cells: Vec<Value>) -> Self {
        Row {
            cells,
            conditions: Vec::new(),
        }
    }
}

/// A kind's columns and row renderer.
#[derive(Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) columns: fn() -> Vec<Column>,
    pub(crate) row: fn(&Value, DateTime<Utc>) -> Row,
}

/// The printer for a resource; kinds upstream has no printer for get the
/// generic NAME and CREATED AT table.
pub(crate) fn printer_for(info: &ResourceInfo) -> Printer {
    match (info.group, info.kind) {
        ("", "Pod") => pod::PRINTER,
        ("", "PodTemplate") => workload::POD_TEMPLATE,
        ("", "ReplicationController") => workload::REPLICATION_CONTROLLER,
        ("apps", "ReplicaSet") => workload::REPLICA_SET,
        ("apps", "Deployment") => workload::DEPLOYMENT,
        ("apps", "ControllerRevision") => workload::CONTROLLER_REVISION,
        ("apps", "DaemonSet") => sets::DAEMON_SET,
        ("apps", "StatefulSet") => sets::STATEFUL_SET,
        ("batch", "Job") => workload::JOB,
        ("batch", "CronJob") => workload::CRON_JOB,
        ("", "Service") => corev1::SERVICE,
        ("", "Endpoints") => corev1::ENDPOINTS,
        ("", "Node") => corev1::NODE,
        ("", "Namespace") => corev1::NAMESPACE,
        ("", "ConfigMap") => corev1::CONFIG_MAP,
        ("", "Secret") => corev1::SECRET,
        ("", "ServiceAccount") => corev1::SERVICE_ACCOUNT,
        ("", "ResourceQuota") => corev1::RESOURCE_QUOTA,
        ("", "Event") | ("events.k8s.io", "Event") => event::PRINTER,
        ("networking.k8s.io", "Ingress") => network::INGRESS,
        ("discovery.k8s.io", "EndpointSlice") => network::ENDPOINT_SLICE,
        ("coordination.k8s.io", "Lease") => cluster::LEASE,
        ("rbac.authorization.k8s.io", "RoleBinding") => cluster::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => cluster::CLUSTER_ROLE_BINDING,
        ("apiregistration.k8s.io", "APIService") => aggregation::API_SERVICE,
        _ => cluster::DEFAULT,
    }
}

//! The `endpoints.kubernetes.io/last-change-trigger-time` annotation as
//! upstream's `TriggerTimeTracker` computes it: the earliest time of a
//! change (a pod's Ready transition, the Service's creation) that this
//! sync is the first to see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::jiff::Timestamp;

/// The annotation the time is written to, on Endpoints and EndpointSlices.
pub const LAST_CHANGE_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";

/// Remembers, per Service, the trigger times seen at its last sync.
#[derive(Default)]
pub struct TriggerTimeTracker {
    services: Mutex<HashMap<(String, String), ServiceState>>,
}

#[derive(Default)]
struct ServiceState {
    pods: HashMap<String, Timestamp>,
    service: Option<Timestamp>,
}

impl TriggerTimeTracker {
    /// The trigger time of a sync of `svc` whose selected pods are `pods`
    /// (all of them, before filtering), and records what this sync saw.
    /// `None` when nothing new triggered it.
    pub fn compute(&self, svc: &Service, pods: &[Arc<Pod>]) -> Option<Timestamp> {
        let key = key_of(svc);
        let mut all = self.services.lock().unwrap_or_else(|e| e.into_inner());
        let known = all.contains_key(&key);
        let state = all.entry(key).or_default();
        let mut min: Option<Timestamp> = None;
        let mut seen = HashMap::new();
        for pod in pods {
            let Some(t) = pod_trigger_time(pod) else {
                continue;
            };
            let name = pod.metadata.name.clone().unwrap_or_default();
            if state.pods.get(&name).is_none_or(|last| t > *last) {
                min = Some(min.map_or(t, |m| m.min(t)));
            }
            seen.insert(name, t);
        }
        let created = svc.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if let Some(c) = created
            && state.service.is_none_or(|last| c > last)
        {
            min = Some(min.map_or(c, |m| m.min(c)));
        }
        state.pods = seen;
        state.service = created;
        if !known {
            // A Service seen for the first time: its creation.
            return created;
        }
        min
    }

    /// Forgets a deleted Service.
    pub fn delete(&self, namespace: &str, name: &str) {
        self.services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(namespace.to_string(), name.to_string()));
    }
}

fn key_of(svc: &Service) -> (String, String) {
    (
        svc.metadata.namespace.clone().unwrap_or_default(),
        svc.metadata.name.clone().unwrap_or_default(),
    )
}

/// When the pod's readiness last changed.
fn pod_trigger_time(pod: &Pod) -> Option<Timestamp> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?
        .last_transition_time
        .as_ref()
        .map(|t| t.0)
}

/// The annotation's text for a time (RFC 3339, UTC, as upstream).
pub fn format(t: Timestamp) -> String {
    t.to_string()
}

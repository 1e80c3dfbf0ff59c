//! What the scheduler tells users: the FailedScheduling message in
//! upstream's shape ("0/3 nodes are available: 1 Insufficient cpu, 2
//! node(s) had untolerated taint {key: value}."), the Warning
//! FailedScheduling and Normal Scheduled events, and the pod's
//! `PodScheduled=False` condition (reason Unschedulable) through
//! `pods/status`.
//!
//! Events go through a bounded queue of [`MAX_QUEUED_EVENTS`], written
//! by a few concurrent writers; when the queue is full new events are
//! dropped (as client-go's `record` broadcaster drops beyond its 1000
//! queued events), so reporting never slows scheduling down. Under a burst
//! of thousands of pods per second some Scheduled events are lost.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource};
use tokio::sync::mpsc;

use crate::framework::Rejection;

/// How many events may wait to be written before new ones are dropped
/// (upstream's `maxQueuedEvents`).
pub const MAX_QUEUED_EVENTS: usize = 1000;
/// How many events are written at once.
const WRITERS: usize = 8;
/// The longest note an events.k8s.io Event may carry.
const MAX_NOTE: usize = 1024;

/// Why a pod fits no node.
#[derive(Debug, Clone, Default)]
pub struct FitError {
    /// How many nodes the cluster has.
    pub num_all_nodes: usize,
    /// A refusal of the pod as a whole, by a pre-filter.
    pub pre_filter: Option<Rejection>,
    /// Each reason, with how many nodes gave it.
    pub reasons: BTreeMap<String, usize>,
    /// The plugins that refused a node (for requeueing).
    pub plugins: HashSet<&'static str>,
}

// === impl FitError ===

impl FitError {
    /// Counts a node's refusal.
    pub fn add(&mut self, rejection: &Rejection) {
        self.plugins.insert(rejection.plugin);
        for r in &rejection.status.reasons {
            *self.reasons.entry(r.clone()).or_default() += 1;
        }
    }
}

impl fmt::Display for FitError {
    /// Upstream's `FitError.Error()`, without the preemption part (ironclad
    /// does not preempt).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num_all_nodes == 0 {
            return f.write_str("no nodes available to schedule pods");
        }
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        if let Some(r) = &self.pre_filter {
            return write!(f, " {}.", r.status.reasons.join(", "));
        }
        let mut histogram: Vec<String> = self
            .reasons
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        histogram.sort();
        if !histogram.is_empty() {
            write!(f, " {}.", histogram.join(", "))?;
        }
        Ok(())
    }
}

/// One event to write.
struct Pending {
    event: Event,
    regarding: ObjectReference,
}

/// Where the scheduler drops its events; [`EventWriter::run`] writes them.
#[derive(Clone)]
pub struct Events {
    tx: mpsc::Sender<Pending>,
}

/// Writes queued events through kube-runtime [`Recorder`]s.
pub struct EventWriter {
    rx: mpsc::Receiver<Pending>,
    client: Client,
    reporter: Reporter,
    /// Aggregates repeated warnings (a pod failing again) into a series.
    warnings: Recorder,
}

/// A queue of events and its writer, reporting as `scheduler_name`.
pub fn channel(
    client: Client,
    scheduler_name: &str,
    instance: Option<String>,
) -> (Events, EventWriter) {
    let (tx, rx) = mpsc::channel(MAX_QUEUED_EVENTS);
    let reporter = Reporter {
        controller: scheduler_name.to_string(),
        instance,
    };
    (
        Events { tx },
        EventWriter {
            rx,
            warnings: Recorder::new(client.clone(), reporter.clone()),
            client,
            reporter,
        },
    )
}

// === impl Events ===

impl Events {
    /// Normal Scheduled: "Successfully assigned ns/pod to node".
    pub fn scheduled(&self, pod: &Pod, node: &str) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        self.send(
            pod,
            EventType::Normal,
            "Scheduled",
            "Binding",
            format!("Successfully assigned {ns}/{name} to {node}"),
        );
    }

    /// Warning FailedScheduling with `message`.
    pub fn failed(&self, pod: &Pod, message: &str) {
        self.send(
            pod,
            EventType::Warning,
            "FailedScheduling",
            "Scheduling",
            message.to_string(),
        );
    }

    fn send(&self, pod: &Pod, type_: EventType, reason: &str, action: &str, mut note: String) {
        if note.len() > MAX_NOTE {
            let mut cut = MAX_NOTE - 3;
            while !note.is_char_boundary(cut) {
                cut -= 1;
            }
            note.truncate(cut);
            note.push_str("...");
        }
        let pending = Pending {
            event: Event {
                type_,
                reason: reason.into(),
                note: Some(note),
                action: action.into(),
                secondary: None,
            },
            regarding: pod.object_ref(&()),
        };
        if self.tx.try_send(pending).is_err() {
            tracing::debug!("event queue full, dropping a {reason} event");
        }
    }
}

// === impl EventWriter ===

impl EventWriter {
    /// Writes events until every [`Events`] handle is gone.
    pub async fn run(self) {
        let EventWriter {
            mut rx,
            client,
            reporter,
            warnings,
        } = self;
        futures::stream::poll_fn(|cx| rx.poll_recv(cx))
            .for_each_concurrent(WRITERS, |p| {
                // A pod is scheduled once: nothing to aggregate, so no cache
                // to keep (a shared recorder scans its whole cache on every
                // publish).
                let recorder = match p.event.type_ {
                    EventType::Warning => warnings.clone(),
                    EventType::Normal => Recorder::new(client.clone(), reporter.clone()),
                };
                async move {
                    if let Err(e) = recorder.publish(&p.event, &p.regarding).await {
                        tracing::debug!("writing a {} event: {e}", p.event.reason);
                    }
                }
            })
            .await;
    }
}

/// Sets the pod's `PodScheduled` condition to False, reason
/// Unschedulable, with `message`, unless it already says so (a changed
/// message keeps the transition time, as upstream's
/// `UpdatePodCondition`).
pub async fn mark_unschedulable(
    client: &Client,
    pod: &Pod,
    message: &str,
) -> Result<(), kube::Error> {
    let existing = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
    let same_status = existing.is_some_and(|c| c.status == "False");
    if same_status
        && existing.is_some_and(|c| {
            c.reason.as_deref() == Some("Unschedulable") && c.message.as_deref() == Some(message)
        })
    {
        return Ok(());
    }
    let since = existing
        .filter(|_| same_status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| Time(k8s_openapi::jiff::Timestamp::now()));
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let body = serde_json::json!({
        "status": {"conditions": [{
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": null,
            "lastTransitionTime": since,
        }]}
    });
    Api::<Pod>::namespaced(client.clone(), ns)
        .patch_status(name, &PatchParams::default(), &Patch::Strategic(&body))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Status;

    fn reject(plugin: &'static str, reasons: &[&str]) -> Rejection {
        Rejection {
            plugin,
            status: Status {
                code: crate::framework::Code::Unschedulable,
                reasons: reasons.iter().map(|r| r.to_string()).collect(),
            },
        }
    }

    #[test]
    fn the_message_is_a_sorted_histogram_of_reasons() {
        let mut e = FitError {
            num_all_nodes: 3,
            ..Default::default()
        };
        e.add(&reject(
            "TaintToleration",
            &["node(s) had untolerated taint {key: value}"],
        ));
        e.add(&reject("NodeResourcesFit", &["Insufficient cpu"]));
        e.add(&reject(
            "NodeResourcesFit",
            &["Insufficient cpu", "Insufficient memory"],
        ));
        assert_eq!(
            e.to_string(),
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint \
             {key: value}, 2 Insufficient cpu."
        );
        assert_eq!(e.plugins.len(), 2);
    }

    #[test]
    fn a_pre_filter_refusal_and_an_empty_cluster_have_their_own_messages() {
        let e = FitError {
            num_all_nodes: 2,
            pre_filter: Some(reject("X", &["pod is broken"])),
            ..Default::default()
        };
        assert_eq!(e.to_string(), "0/2 nodes are available: pod is broken.");
        assert_eq!(
            FitError::default().to_string(),
            "no nodes available to schedule pods"
        );
    }
}

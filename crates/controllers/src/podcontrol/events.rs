//! Events about the objects a controller manages, published in the
//! background of the controller's own future (as upstream's broadcaster
//! does), so that a reconcile never waits for an Event to be written.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::Resource;
use kube::runtime::events::{Event, EventType as KubeEventType, Recorder, Reporter};
use tokio::sync::mpsc;

/// How many Events may wait to be written before new ones are dropped
/// (upstream's broadcaster drops when full too).
const QUEUE: usize = 1000;

/// How long repeats of one Event are folded into a series of it (the
/// Recorder's own cache lifetime).
const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Something went as it should.
    Normal,
    /// Something went wrong.
    Warning,
}

#[derive(Debug)]
struct Pending {
    regarding: ObjectReference,
    type_: EventType,
    reason: String,
    action: String,
    note: String,
}

/// Where a controller records Events; cheap to clone.
#[derive(Clone, Debug)]
pub struct EventSink {
    tx: mpsc::Sender<Pending>,
}

impl EventSink {
    /// A sink for Events reported by `controller` (e.g.
    /// `replicaset-controller`), and the future that writes them; run
    /// that future inside the controller's own (it ends once every sink
    /// is dropped).
    pub fn new(client: Client, controller: &str) -> (EventSink, impl Future<Output = ()> + Send) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let reporter = Reporter {
            controller: controller.to_string(),
            instance: None,
        };
        (EventSink { tx }, publish(client, reporter, rx))
    }

    /// Records an Event about `obj`: `reason` (e.g. `SuccessfulCreate`),
    /// `action` (what the controller did, e.g. `Create`) and the
    /// human-readable `note`.
    pub fn record<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let pending = Pending {
            regarding: obj.object_ref(&()),
            type_,
            reason: reason.to_string(),
            action: action.to_string(),
            note,
        };
        if let Err(e) = self.tx.try_send(pending) {
            tracing::debug!(error = %e, "event dropped");
        }
    }
}

/// Writes Events one after the other. Each distinct Event (object,
/// reason, note) gets its own Recorder so that different notes make
/// different Events while exact repeats become a series, as upstream's
/// correlator counts them.
async fn publish(client: Client, reporter: Reporter, mut rx: mpsc::Receiver<Pending>) {
    let mut recorders: HashMap<(String, String, String), (Recorder, Instant)> = HashMap::new();
    while let Some(p) = rx.recv().await {
        recorders.retain(|_, (_, at)| at.elapsed() < SERIES_WINDOW);
        let key = (
            p.regarding.uid.clone().unwrap_or_default(),
            p.reason.clone(),
            p.note.clone(),
        );
        let (recorder, at) = recorders.entry(key).or_insert_with(|| {
            (
                Recorder::new(client.clone(), reporter.clone()),
                Instant::now(),
            )
        });
        *at = Instant::now();
        let event = Event {
            type_: match p.type_ {
                EventType::Normal => KubeEventType::Normal,
                EventType::Warning => KubeEventType::Warning,
            },
            reason: p.reason,
            note: Some(p.note),
            action: p.action,
            secondary: None,
        };
        if let Err(e) = recorder.publish(&event, &p.regarding).await {
            tracing::debug!(error = %e, "event not written");
        }
    }
}

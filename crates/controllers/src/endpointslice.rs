//! The EndpointSlice controller (upstream's `endpointslice-controller`):
//! for every Service with a selector, EndpointSlices named `<svc>-<random>`
//! owned by the Service, holding the selected pods as endpoints with
//! ready/serving/terminating conditions, node, zone and target, grouped by
//! the set of ports they resolve to, at most 100 per slice. Also runs the
//! mirroring controller, which copies the Endpoints of Services without
//! a selector into slices.
//!
//! Shape: caches of Services, Pods, Nodes and our slices turn changes
//! into Service keys on a [`WorkQueue`]; workers plan the writes
//! ([`reconcile::plan`]) and make them, tracking their own writes
//! ([`tracker::Tracker`]) so a lagging cache is not acted on twice.

pub mod mirroring;
pub mod reconcile;
pub mod tracker;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use crate::pods::cache::{self, Change};
use crate::pods::queue::WorkQueue;
use crate::pods::triggertime::{self, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker};
use crate::pods::{self};
use crate::{Context, Result};

/// The manager value of slices this controller owns.
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// The label naming a slice's Service.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// The label naming a slice's manager.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// Most endpoints per slice (upstream's `--max-endpoints-per-slice`).
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// Parallel syncs (upstream's `--concurrent-service-endpoint-syncs`).
const WORKERS: usize = 5;
/// Delay before a slice changed by someone else re-syncs its Service
/// (upstream's `endpointSliceChangeMinSyncDelay`).
const SLICE_CHANGE_DELAY: Duration = Duration::from_secs(1);

type Key = ObjectRef<Service>;

/// Runs the controller, and the mirroring controller, until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let (main, mirror) = tokio::join!(run_slices(ctx.clone()), mirroring::run(ctx));
    main.and(mirror)
}

async fn run_slices(ctx: Context) -> Result<()> {
    let client = ctx.client.clone();
    let (services, services_w) = cache::store::<Service>();
    let (pod_store, pods_w) = cache::store::<Pod>();
    let (nodes, nodes_w) = cache::store::<Node>();
    let (slices, slices_w) = cache::store::<EndpointSlice>();
    let queue: WorkQueue<Key> = WorkQueue::new();
    let tracker = Arc::new(Mutex::new(tracker::Tracker::default()));
    let ctl = Arc::new(Controller {
        client: client.clone(),
        services: services.clone(),
        pods: pod_store.clone(),
        nodes: nodes.clone(),
        slices: slices.clone(),
        tracker: tracker.clone(),
        triggers: TriggerTimeTracker::default(),
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: "endpointslice-controller".into(),
                instance: None,
            },
        ),
    });

    let all = watcher::Config::default();
    let svc_watch = cache::follow(
        watcher::watcher(Api::<Service>::all(client.clone()), all.clone()),
        services_w,
        {
            let queue = queue.clone();
            move |change| match change {
                Change::Applied { new, .. } => queue.add(ObjectRef::from_obj(&*new)),
                Change::Deleted(old) => queue.add(ObjectRef::from_obj(&*old)),
                Change::Relisted { gone } => gone
                    .iter()
                    .for_each(|s| queue.add(ObjectRef::from_obj(&**s))),
            }
        },
    );
    let pod_watch = cache::follow(
        watcher::watcher(Api::<Pod>::all(client.clone()), all.clone()),
        pods_w,
        {
            let queue = queue.clone();
            let services = services.clone();
            move |change| match change {
                Change::Applied { old, new } => {
                    if old.as_ref().is_some_and(|o| !pod_changed(o, &new)) {
                        return;
                    }
                    let mut keys: HashSet<Key> = pods::services_selecting(&services, &new)
                        .into_iter()
                        .collect();
                    if let Some(o) = old {
                        keys.extend(pods::services_selecting(&services, &o));
                    }
                    keys.into_iter().for_each(|k| queue.add(k));
                }
                Change::Deleted(old) => pods::services_selecting(&services, &old)
                    .into_iter()
                    .for_each(|k| queue.add(k)),
                Change::Relisted { .. } => services
                    .state()
                    .iter()
                    .for_each(|s| queue.add(ObjectRef::from_obj(&**s))),
            }
        },
    );
    let node_watch = cache::follow(
        watcher::watcher(Api::<Node>::all(client.clone()), all.clone()),
        nodes_w,
        {
            let queue = queue.clone();
            let services = services.clone();
            let pod_store = pod_store.clone();
            move |change| {
                // A node appearing, going or changing zone changes the
                // endpoints of the pods on it.
                let node = match change {
                    Change::Applied { old, new } => {
                        if old.is_some_and(|o| zone(&o) == zone(&new)) {
                            return;
                        }
                        new
                    }
                    Change::Deleted(old) => old,
                    Change::Relisted { .. } => {
                        services
                            .state()
                            .iter()
                            .for_each(|s| queue.add(ObjectRef::from_obj(&**s)));
                        return;
                    }
                };
                let name = node.name_any();
                let keys: HashSet<Key> = pod_store
                    .state()
                    .iter()
                    .filter(|p| pods::node_name(p) == name)
                    .flat_map(|p| pods::services_selecting(&services, p))
                    .collect();
                keys.into_iter().for_each(|k| queue.add(k));
            }
        },
    );
    let ours = watcher::Config::default().labels(&format!("{LABEL_MANAGED_BY}={CONTROLLER_NAME}"));
    let slice_watch = cache::follow(
        watcher::watcher(Api::<EndpointSlice>::all(client.clone()), ours),
        slices_w,
        {
            let queue = queue.clone();
            let tracker = tracker.clone();
            move |change| {
                let mut t = tracker.lock().unwrap_or_else(|e| e.into_inner());
                match change {
                    Change::Applied { new, .. } => {
                        if t.should_sync(&new) {
                            queue.add_after(service_of(&new), SLICE_CHANGE_DELAY);
                        }
                    }
                    Change::Deleted(old) => {
                        if t.has(&old) && !t.handle_deletion(&old) {
                            queue.add_after(service_of(&old), SLICE_CHANGE_DELAY);
                        }
                    }
                    Change::Relisted { gone } => {
                        for s in gone {
                            if !t.handle_deletion(&s) {
                                queue.add(service_of(&s));
                            }
                        }
                    }
                }
            }
        },
    );
    let work = async {
        let ready = futures::future::try_join4(
            services.wait_until_ready(),
            pod_store.wait_until_ready(),
            nodes.wait_until_ready(),
            slices.wait_until_ready(),
        )
        .await;
        if ready.is_err() {
            return;
        }
        join_all((0..WORKERS).map(|_| worker(ctl.clone(), queue.clone()))).await;
    };
    tokio::join!(svc_watch, pod_watch, node_watch, slice_watch, work);
    Ok(())
}

fn zone(node: &Node) -> Option<&String> {
    node.metadata.labels.as_ref()?.get(reconcile::LABEL_ZONE)
}

fn service_of(slice: &EndpointSlice) -> Key {
    let name = slice
        .labels()
        .get(LABEL_SERVICE_NAME)
        .cloned()
        .unwrap_or_default();
    ObjectRef::new(&name).within(&slice.namespace().unwrap_or_default())
}

/// Whether a pod update can change any endpoint.
fn pod_changed(old: &Pod, new: &Pod) -> bool {
    pods::is_pod_ready(old) != pods::is_pod_ready(new)
        || pods::pod_ips(old) != pods::pod_ips(new)
        || pods::node_name(old) != pods::node_name(new)
        || old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        || pods::phase(old) != pods::phase(new)
        || old.metadata.labels != new.metadata.labels
        || old.spec.as_ref().map(|s| (&s.hostname, &s.subdomain))
            != new.spec.as_ref().map(|s| (&s.hostname, &s.subdomain))
}

async fn worker(ctl: Arc<Controller>, queue: WorkQueue<Key>) {
    loop {
        let key = queue.next().await;
        match ctl.sync(&key).await {
            Ok(()) => queue.forget(&key),
            Err(e) => {
                tracing::debug!(service = %key, error = %e, "endpointslice sync failed; retrying");
                queue.add_rate_limited(key.clone());
            }
        }
        queue.done(&key);
    }
}

struct Controller {
    client: kube::Client,
    services: Store<Service>,
    pods: Store<Pod>,
    nodes: Store<Node>,
    slices: Store<EndpointSlice>,
    tracker: Arc<Mutex<tracker::Tracker>>,
    triggers: TriggerTimeTracker,
    recorder: Recorder,
}

// === impl Controller ===

impl Controller {
    fn tracker(&self) -> std::sync::MutexGuard<'_, tracker::Tracker> {
        self.tracker.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn sync(&self, key: &Key) -> Result<()> {
        let ns = key.namespace.clone().unwrap_or_default();
        let name = key.name.clone();
        let Some(svc) = self.services.get(key) else {
            // The garbage collector deletes the slices with their owner.
            self.triggers.delete(&ns, &name);
            self.tracker().delete_service(&ns, &name);
            return Ok(());
        };
        let spec = svc.spec.clone().unwrap_or_default();
        if spec.type_.as_deref() == Some("ExternalName") {
            return Ok(());
        }
        let Some(selector) = spec.selector.as_ref() else {
            return Ok(());
        };
        let selected = pods::pods_selected(&self.pods, &ns, selector);
        let current: Vec<Arc<EndpointSlice>> = self
            .slices
            .state()
            .into_iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|s| s.labels().get(LABEL_SERVICE_NAME) == Some(&name))
            .filter(|s| s.metadata.deletion_timestamp.is_none())
            .collect();
        if self.tracker().stale(&ns, &name, &current) {
            return Err(crate::Error::Invalid(format!(
                "EndpointSlice cache of {ns}/{name} is behind our last write"
            )));
        }
        let trigger = self.triggers.compute(&svc, &selected);
        let node = |n: &str| self.nodes.get(&ObjectRef::new(n));
        let plan = reconcile::plan(&svc, &selected, &node, &current, MAX_ENDPOINTS_PER_SLICE);
        let mut errors = plan.skipped.clone();
        errors.extend(self.apply(&ns, plan, trigger).await);
        if errors.is_empty() {
            return Ok(());
        }
        let note = format!(
            "Error updating Endpoint Slices for Service {ns}/{name}: {}",
            errors.join("; ")
        );
        self.warn(&svc, "FailedToUpdateEndpointSlices", note.clone())
            .await;
        Err(crate::Error::Invalid(note))
    }

    /// Makes the planned writes (upstream's `finalize`); returns what failed.
    async fn apply(
        &self,
        ns: &str,
        plan: reconcile::Plan,
        trigger: Option<k8s_openapi::jiff::Timestamp>,
    ) -> Vec<String> {
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        let mut errors = Vec::new();
        let annotate = |mut s: EndpointSlice| {
            let a = s.metadata.annotations.get_or_insert_with(BTreeMap::new);
            match trigger {
                Some(t) => {
                    a.insert(LAST_CHANGE_TRIGGER_TIME.into(), triggertime::format(t));
                }
                None => {
                    a.remove(LAST_CHANGE_TRIGGER_TIME);
                }
            }
            s
        };
        for s in plan.create {
            match api.create(&PostParams::default(), &annotate(s)).await {
                Ok(created) => self.tracker().update(&created),
                Err(e) => errors.push(format!("failed to create EndpointSlice: {e}")),
            }
        }
        for s in plan.update {
            let name = s.name_any();
            match api
                .replace(&name, &PostParams::default(), &annotate(s))
                .await
            {
                Ok(updated) => self.tracker().update(&updated),
                Err(e) => errors.push(format!("failed to update {name} EndpointSlice: {e}")),
            }
        }
        for s in plan.delete {
            let name = s.name_any();
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => self.tracker().expect_deletion(&s),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => errors.push(format!("failed to delete {name} EndpointSlice: {e}")),
            }
        }
        errors
    }

    async fn warn(&self, svc: &Service, reason: &str, note: String) {
        let ev = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some(note),
            action: "Sync".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &svc.object_ref(&())).await {
            tracing::debug!(error = %e, "cannot record event");
        }
    }
}

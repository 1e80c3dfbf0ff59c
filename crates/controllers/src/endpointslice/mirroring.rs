//! The EndpointSlice mirroring controller (upstream's
//! `endpointslicemirroring-controller`): the Endpoints of a Service without
//! a selector (written by its user) are copied into EndpointSlices, one per
//! repacked subset and address family, owned by the Endpoints. Endpoints
//! labelled `endpointslice.kubernetes.io/skip-mirror: "true"` (the API
//! server's own) and leader-election locks are not mirrored.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

mod plan;

use super::tracker::Tracker;
use super::{LABEL_MANAGED_BY, LABEL_SERVICE_NAME};
use crate::pods::cache::{self, Change};
use crate::pods::queue::WorkQueue;
use crate::{Context, Result};

/// The manager value of mirrored slices.
pub const CONTROLLER_NAME: &str = "endpointslicemirroring-controller.k8s.io";
/// Endpoints with this label set to "true" are not mirrored.
pub const LABEL_SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
/// Most addresses mirrored per subset (upstream's
/// `--mirroring-max-endpoints-per-subset`).
pub const MAX_ENDPOINTS_PER_SUBSET: usize = 1000;
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";
const WORKERS: usize = 5;
const SLICE_CHANGE_DELAY: Duration = Duration::from_secs(1);

type Key = ObjectRef<Endpoints>;

/// Runs the mirroring controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let client = ctx.client.clone();
    let (services, services_w) = cache::store::<Service>();
    let (endpoints, endpoints_w) = cache::store::<Endpoints>();
    let (slices, slices_w) = cache::store::<EndpointSlice>();
    let queue: WorkQueue<Key> = WorkQueue::new();
    let tracker = Arc::new(Mutex::new(Tracker::default()));
    let ctl = Arc::new(Mirror {
        client: client.clone(),
        services: services.clone(),
        endpoints: endpoints.clone(),
        slices: slices.clone(),
        tracker: tracker.clone(),
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: "endpointslicemirroring-controller".into(),
                instance: None,
            },
        ),
    });
    let key = |ns: Option<String>, name: &str| -> Key {
        ObjectRef::new(name).within(&ns.unwrap_or_default())
    };
    let all = watcher::Config::default();
    let svc_watch = cache::follow(
        watcher::watcher(Api::<Service>::all(client.clone()), all.clone()),
        services_w,
        {
            let queue = queue.clone();
            move |change| match change {
                Change::Applied { new: s, .. } | Change::Deleted(s) => {
                    queue.add(key(s.namespace(), &s.name_any()))
                }
                Change::Relisted { gone } => gone
                    .iter()
                    .for_each(|s| queue.add(key(s.namespace(), &s.name_any()))),
            }
        },
    );
    let ep_watch = cache::follow(
        watcher::watcher(Api::<Endpoints>::all(client.clone()), all),
        endpoints_w,
        {
            let queue = queue.clone();
            move |change| match change {
                Change::Applied { new: e, .. } | Change::Deleted(e) => {
                    queue.add(ObjectRef::from_obj(&*e))
                }
                Change::Relisted { gone } => gone
                    .iter()
                    .for_each(|e| queue.add(ObjectRef::from_obj(&**e))),
            }
        },
    );
    let ours = watcher::Config::default().labels(&format!("{LABEL_MANAGED_BY}={CONTROLLER_NAME}"));
    let slice_watch = cache::follow(
        watcher::watcher(Api::<EndpointSlice>::all(client.clone()), ours),
        slices_w,
        {
            let queue = queue.clone();
            move |change| {
                let mut t = tracker.lock().unwrap_or_else(|e| e.into_inner());
                let owner = |s: &EndpointSlice| {
                    key(
                        s.namespace(),
                        s.labels().get(LABEL_SERVICE_NAME).map_or("", |n| n),
                    )
                };
                match change {
                    Change::Applied { new, .. } => {
                        if t.should_sync(&new) {
                            queue.add_after(owner(&new), SLICE_CHANGE_DELAY);
                        }
                    }
                    Change::Deleted(old) => {
                        if !t.handle_deletion(&old) {
                            queue.add_after(owner(&old), SLICE_CHANGE_DELAY);
                        }
                    }
                    Change::Relisted { gone } => gone.iter().for_each(|s| {
                        t.handle_deletion(s);
                        queue.add(owner(s));
                    }),
                }
            }
        },
    );
    let work = async {
        let ready = futures::future::try_join3(
            services.wait_until_ready(),
            endpoints.wait_until_ready(),
            slices.wait_until_ready(),
        )
        .await;
        if ready.is_err() {
            return;
        }
        // Mirrored slices whose Endpoints went while nobody watched.
        for s in slices.state() {
            let name = s
                .labels()
                .get(LABEL_SERVICE_NAME)
                .cloned()
                .unwrap_or_default();
            queue.add(key(s.namespace(), &name));
        }
        join_all((0..WORKERS).map(|_| worker(ctl.clone(), queue.clone()))).await;
    };
    tokio::join!(svc_watch, ep_watch, slice_watch, work);
    Ok(())
}

async fn worker(ctl: Arc<Mirror>, queue: WorkQueue<Key>) {
    loop {
        let key = queue.next().await;
        match ctl.sync(&key).await {
            Ok(()) => queue.forget(&key),
            Err(e) => {
                tracing::debug!(endpoints = %key, error = %e, "mirroring failed; retrying");
                queue.add_rate_limited(key.clone());
            }
        }
        queue.done(&key);
    }
}

struct Mirror {
    client: kube::Client,
    services: Store<Service>,
    endpoints: Store<Endpoints>,
    slices: Store<EndpointSlice>,
    tracker: Arc<Mutex<Tracker>>,
    recorder: Recorder,
}

// === impl Mirror ===

impl Mirror {
    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn sync(&self, key: &Key) -> Result<()> {
        let ns = key.namespace.clone().unwrap_or_default();
        let name = key.name.clone();
        let current: Vec<Arc<EndpointSlice>> = self
            .slices
            .state()
            .into_iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|s| s.labels().get(LABEL_SERVICE_NAME) == Some(&name))
            .collect();
        let svc = self.services.get(&ObjectRef::new(&name).within(&ns));
        let ep = self.endpoints.get(key);
        let mirror = match (&svc, &ep) {
            (Some(svc), Some(ep)) => {
                svc.spec.as_ref().is_some_and(|s| s.selector.is_none()) && should_mirror(ep)
            }
            _ => false,
        };
        let (Some(ep), true) = (ep, mirror) else {
            self.tracker().delete_service(&ns, &name);
            return self.delete_all(&ns, &current).await;
        };
        if self.tracker().stale(&ns, &name, &current) {
            return Err(crate::Error::Invalid(format!(
                "mirrored EndpointSlice cache of {ns}/{name} is behind our last write"
            )));
        }
        let (desired, invalid, skipped) = plan::desired(&ep);
        if invalid > 0 {
            let note =
                format!("Skipped {invalid} invalid IP addresses when mirroring to EndpointSlices");
            self.warn(&ep, "InvalidIPAddress", note).await;
        }
        if skipped > invalid {
            let note = format!(
                "A max of {MAX_ENDPOINTS_PER_SUBSET} addresses can be mirrored to EndpointSlices per Endpoints subset. {skipped} addresses were skipped"
            );
            self.warn(&ep, "TooManyAddressesToMirror", note).await;
        }
        let (create, update, delete) = plan::plan(&ep, desired, &current);
        self.apply(&ns, create, update, delete).await
    }

    async fn delete_all(&self, ns: &str, slices: &[Arc<EndpointSlice>]) -> Result<()> {
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        for s in slices {
            match api.delete(&s.name_any(), &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn apply(
        &self,
        ns: &str,
        create: Vec<EndpointSlice>,
        update: Vec<EndpointSlice>,
        delete: Vec<EndpointSlice>,
    ) -> Result<()> {
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        let mut first_error = None;
        for s in create {
            match api.create(&PostParams::default(), &s).await {
                Ok(c) => self.tracker().update(&c),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        for s in update {
            match api.replace(&s.name_any(), &PostParams::default(), &s).await {
                Ok(u) => self.tracker().update(&u),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        for s in delete {
            match api.delete(&s.name_any(), &DeleteParams::default()).await {
                Ok(_) => self.tracker().expect_deletion(&s),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(()),
            Some(e) => Err(e.into()),
        }
    }

    async fn warn(&self, ep: &Endpoints, reason: &str, note: String) {
        let ev = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some(note),
            action: "Mirror".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &ep.object_ref(&())).await {
            tracing::debug!(error = %e, "cannot record event");
        }
    }
}

fn should_mirror(ep: &Endpoints) -> bool {
    ep.labels().get(LABEL_SKIP_MIRROR).map(String::as_str) != Some("true")
        && !ep.annotations().contains_key(LEADER_ANNOTATION)
}

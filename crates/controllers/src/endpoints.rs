//! The endpoints controller (upstream's `endpoint-controller`): for every
//! Service with a selector, an Endpoints object of the same name listing
//! the selected pods' addresses, ready ones in `addresses` and the others
//! in `notReadyAddresses`, with the service ports resolved against each
//! pod. Endpoints of Services without a selector belong to their users;
//! Endpoints whose Service is gone are deleted.
//!
//! Shape: three caches (Services, Pods, Endpoints) turn changes into
//! Service keys on a [`WorkQueue`]; workers sync one key at a time.

pub mod subsets;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use k8s_openapi::api::core::v1::{Container, Endpoints, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher as kwatcher;
use kube::{Resource, ResourceExt};

use crate::pods::cache::{self, Change};
use crate::pods::queue::WorkQueue;
use crate::pods::triggertime::{self, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker};
use crate::pods::{self};
use crate::{Context, Result};

/// The name events and the managed-by label carry.
pub const CONTROLLER_NAME: &str = "endpoint-controller";
/// The label marking Endpoints this controller wrote (new in 1.33).
pub const LABEL_MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";
/// The label of Endpoints of headless Services.
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
/// Set when the addresses were cut to [`subsets::MAX_CAPACITY`].
pub const ANNOTATION_OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
/// Endpoints used as leader-election locks: never treated as leftovers.
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";
/// Parallel syncs (upstream's `--concurrent-endpoint-syncs`).
const WORKERS: usize = 5;

type Key = ObjectRef<Service>;

/// Runs the controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let client = ctx.client.clone();
    let (services, services_w) = cache::store::<Service>();
    let (pods, pods_w) = cache::store::<Pod>();
    let (endpoints, endpoints_w) = cache::store::<Endpoints>();
    let queue: WorkQueue<Key> = WorkQueue::new();
    let ctl = Arc::new(Controller {
        client: client.clone(),
        services: services.clone(),
        pods: pods.clone(),
        endpoints: endpoints.clone(),
        triggers: TriggerTimeTracker::default(),
        stale: Mutex::new(HashMap::new()),
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: CONTROLLER_NAME.into(),
                instance: None,
            },
        ),
    });

    let svc_watch = cache::follow(watcher(Api::<Service>::all(client.clone())), services_w, {
        let queue = queue.clone();
        move |change| match change {
            Change::Applied { new, .. } => queue.add(ObjectRef::from_obj(&*new)),
            Change::Deleted(old) => queue.add(ObjectRef::from_obj(&*old)),
            Change::Relisted { gone } => {
                for s in gone {
                    queue.add(ObjectRef::from_obj(&*s));
                }
            }
        }
    });
    let pod_watch = cache::follow(watcher(Api::<Pod>::all(client.clone())), pods_w, {
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
            Change::Deleted(old) => {
                for k in pods::services_selecting(&services, &old) {
                    queue.add(k);
                }
            }
            Change::Relisted { .. } => {
                for s in services.state() {
                    queue.add(ObjectRef::from_obj(&*s));
                }
            }
        }
    });
    let mut first_list = true;
    let ep_watch = cache::follow(
        watcher(Api::<Endpoints>::all(client.clone())),
        endpoints_w,
        {
            let queue = queue.clone();
            let endpoints = endpoints.clone();
            move |change| match change {
                Change::Applied { .. } => {}
                Change::Deleted(old) => queue.add(key_of(&old)),
                Change::Relisted { gone } => {
                    gone.iter().for_each(|e| queue.add(key_of(e)));
                    if std::mem::take(&mut first_list) {
                        // Upstream's checkLeftoverEndpoints: Endpoints whose
                        // Service went while no controller ran.
                        endpoints
                            .state()
                            .iter()
                            .filter(|e| !e.annotations().contains_key(LEADER_ANNOTATION))
                            .for_each(|e| queue.add(key_of(e)));
                    }
                }
            }
        },
    );
    let work = async {
        // Syncing from half-filled caches would delete or shrink Endpoints.
        let ready = futures::future::try_join3(
            services.wait_until_ready(),
            pods.wait_until_ready(),
            endpoints.wait_until_ready(),
        )
        .await;
        if ready.is_err() {
            return;
        }
        join_all((0..WORKERS).map(|_| worker(ctl.clone(), queue.clone()))).await;
    };
    tokio::join!(svc_watch, pod_watch, ep_watch, work);
    Ok(())
}

fn watcher<K>(api: Api<K>) -> impl futures::Stream<Item = kwatcher::Result<kwatcher::Event<K>>>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    kwatcher::watcher(api, kwatcher::Config::default())
}

fn key_of(ep: &Endpoints) -> Key {
    ObjectRef::new(&ep.name_any()).within(&ep.namespace().unwrap_or_default())
}

/// Whether a pod update can change any Endpoints (upstream's
/// `podEndpointsChanged` plus label changes).
fn pod_changed(old: &Pod, new: &Pod) -> bool {
    let ready = pods::is_pod_ready(old) != pods::is_pod_ready(new);
    let addr = pods::pod_ips(old) != pods::pod_ips(new)
        || pods::node_name(old) != pods::node_name(new)
        || old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        || pods::phase(old) != pods::phase(new);
    let spec = |p: &Pod| {
        p.spec
            .as_ref()
            .map(|s| (s.hostname.clone(), s.subdomain.clone()))
    };
    fn containers(p: &Pod) -> Option<(&Vec<Container>, &Option<Vec<Container>>)> {
        p.spec.as_ref().map(|s| (&s.containers, &s.init_containers))
    }
    ready
        || addr
        || old.metadata.labels != new.metadata.labels
        || spec(old) != spec(new)
        || containers(old) != containers(new)
}

async fn worker(ctl: Arc<Controller>, queue: WorkQueue<Key>) {
    loop {
        let key = queue.next().await;
        match ctl.sync(&key).await {
            Ok(()) => queue.forget(&key),
            Err(e) => {
                tracing::debug!(service = %key, error = %e, "endpoints sync failed; retrying");
                queue.add_rate_limited(key.clone());
            }
        }
        queue.done(&key);
    }
}

/// The resourceVersion each Endpoints had before our last update of it, so
/// a cache that has not yet seen the update is not taken for the truth
/// (upstream's `staleEndpointsTracker`). A create the cache has not seen
/// yet fails with AlreadyExists and is retried, as upstream.
type Stale = HashMap<(String, String), String>;

struct Controller {
    client: kube::Client,
    services: Store<Service>,
    pods: Store<Pod>,
    endpoints: Store<Endpoints>,
    triggers: TriggerTimeTracker,
    stale: Mutex<Stale>,
    recorder: Recorder,
}

// === impl Controller ===

impl Controller {
    async fn sync(&self, key: &Key) -> Result<()> {
        let ns = key.namespace.clone().unwrap_or_default();
        let name = key.name.clone();
        if ns == "default" && name == "kubernetes" {
            // The API servers keep this one themselves.
            return Ok(());
        }
        let api: Api<Endpoints> = Api::namespaced(self.client.clone(), &ns);
        let Some(svc) = self.services.get(key) else {
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
            self.triggers.delete(&ns, &name);
            self.forget(&ns, &name);
            return Ok(());
        };
        let spec = svc.spec.clone().unwrap_or_default();
        if spec.type_.as_deref() == Some("ExternalName") {
            return Ok(());
        }
        let Some(selector) = spec.selector.as_ref() else {
            // User-managed Endpoints.
            return Ok(());
        };
        let selected = pods::pods_selected(&self.pods, &ns, selector);
        let trigger = self.triggers.compute(&svc, &selected);
        let mut subsets = subsets::desired(&svc, &selected);

        let current = self.endpoints.get(&ObjectRef::new(&name).within(&ns));
        if self.is_stale(&ns, &name, current.as_deref()) {
            return Err(crate::Error::Invalid(format!(
                "endpoints cache of {ns}/{name} is behind our last write"
            )));
        }
        // Compared after truncation: an over-capacity Service would
        // otherwise be rewritten on every sync.
        let truncated = subsets::truncate(&mut subsets);
        let svc_labels = svc.metadata.labels.clone().unwrap_or_default();
        if let Some(cur) = current.as_deref()
            && subsets::normalized(cur.subsets.as_ref()) == subsets
            && labels_correct(cur.metadata.labels.as_ref(), &svc_labels)
            && cur.annotations().contains_key(ANNOTATION_OVER_CAPACITY) == truncated
        {
            return Ok(());
        }

        let mut new = current.as_deref().cloned().unwrap_or_else(|| Endpoints {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns.clone()),
                ..Default::default()
            },
            ..Default::default()
        });
        let annotations = new.metadata.annotations.get_or_insert_with(BTreeMap::new);
        match trigger {
            Some(t) => {
                annotations.insert(LAST_CHANGE_TRIGGER_TIME.into(), triggertime::format(t));
            }
            None => {
                annotations.remove(LAST_CHANGE_TRIGGER_TIME);
            }
        }
        if truncated {
            annotations.insert(ANNOTATION_OVER_CAPACITY.into(), "truncated".into());
        } else {
            annotations.remove(ANNOTATION_OVER_CAPACITY);
        }
        let mut labels = svc_labels;
        if is_service_ip_set(&svc) {
            labels.remove(LABEL_HEADLESS);
        } else {
            labels.insert(LABEL_HEADLESS.into(), String::new());
        }
        labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
        new.metadata.labels = Some(labels);
        new.subsets = (!subsets.is_empty()).then_some(subsets);

        let written = match current.as_deref() {
            None => api.create(&PostParams::default(), &new).await,
            Some(_) => api.replace(&name, &PostParams::default(), &new).await,
        };
        match written {
            Ok(w) => {
                self.remember(&ns, &name, current.as_deref(), &w);
                Ok(())
            }
            Err(e) => {
                let (reason, what) = match current {
                    None => ("FailedToCreateEndpoint", "create endpoint for service"),
                    Some(_) => ("FailedToUpdateEndpoint", "update endpoint"),
                };
                self.warn(&new, reason, format!("Failed to {what} {ns}/{name}: {e}"))
                    .await;
                Err(e.into())
            }
        }
    }

    /// Whether the cached Endpoints is the version our last update replaced.
    fn is_stale(&self, ns: &str, name: &str, current: Option<&Endpoints>) -> bool {
        let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        let key = (ns.to_string(), name.to_string());
        let Some(old) = stale.get(&key) else {
            return false;
        };
        if current.and_then(|c| c.metadata.resource_version.as_ref()) == Some(old) {
            return true;
        }
        stale.remove(&key);
        false
    }

    fn remember(&self, ns: &str, name: &str, before: Option<&Endpoints>, written: &Endpoints) {
        let old = before.and_then(|b| b.metadata.resource_version.clone());
        if let Some(old) = old
            && written.metadata.resource_version.as_ref() != Some(&old)
        {
            let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
            stale.insert((ns.to_string(), name.to_string()), old);
        }
    }

    fn forget(&self, ns: &str, name: &str) {
        let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        stale.remove(&(ns.to_string(), name.to_string()));
    }

    async fn warn(&self, ep: &Endpoints, reason: &str, note: String) {
        let ev = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some(note),
            action: "Sync".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &ep.object_ref(&())).await {
            tracing::debug!(error = %e, "cannot record event");
        }
    }
}

/// Whether the Service has a cluster IP (not headless).
fn is_service_ip_set(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .is_some_and(|ip| !ip.is_empty() && ip != "None")
}

/// Upstream's `labelsCorrectForEndpoints`: ours, and otherwise exactly the
/// Service's labels (ignoring the headless label).
fn labels_correct(ep: Option<&BTreeMap<String, String>>, svc: &BTreeMap<String, String>) -> bool {
    let empty = BTreeMap::new();
    let ep = ep.unwrap_or(&empty);
    if ep.get(LABEL_MANAGED_BY).map(String::as_str) != Some(CONTROLLER_NAME) {
        return false;
    }
    let mut skipped = 0;
    for (k, v) in ep {
        if k == LABEL_HEADLESS || k == LABEL_MANAGED_BY {
            skipped += 1;
        } else if svc.get(k) != Some(v) {
            return false;
        }
    }
    ep.len() == svc.len() + skipped
}

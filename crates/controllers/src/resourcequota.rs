//! The resource quota controller (upstream's `resourcequota-controller`):
//! for every ResourceQuota, `status.hard` = `spec.hard` and `status.used`
//! = what the namespace uses of each of those resources ([`usage`]),
//! written through `resourcequotas/status` only when it changed.
//! Enforcement belongs to admission, not here.
//!
//! Shape: caches of quotas and of the objects counted (pods, services,
//! claims in full; config maps, secrets and replication controllers as
//! metadata) re-sync the quotas of a namespace whose objects change;
//! `count/<resource>.<group>` of other kinds are listed at each sync and
//! refreshed every resync period. Everything is also resynced every
//! `resync_period`, as upstream.

pub mod usage;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota,
    ResourceQuotaStatus, Secret, Service,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::PartialObjectMeta;
use kube::discovery::ApiResource;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};

use crate::pods::cache::{self, Change};
use crate::pods::queue::WorkQueue;
use crate::{Context, Result};
use ironclad_admission::Amount;

const WORKERS: usize = 5;

type Key = ObjectRef<ResourceQuota>;

/// Runs the controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let client = ctx.client.clone();
    let (quotas, quotas_w) = cache::store::<ResourceQuota>();
    let queue: WorkQueue<Key> = WorkQueue::new();
    let cfg = watcher::Config::default();

    // Any change in a namespace re-syncs that namespace's quotas.
    let namespace_changed = {
        let queue = queue.clone();
        let quotas = quotas.clone();
        move |ns: Option<String>| {
            for q in quotas.state() {
                if ns.is_none() || q.namespace() == ns {
                    queue.add(ObjectRef::from_obj(&*q));
                }
            }
        }
    };
    fn on<K: Resource>(f: impl Fn(Option<String>) + Clone) -> impl FnMut(Change<K>) {
        move |change| match change {
            Change::Applied { new, .. } => f(new.meta().namespace.clone()),
            Change::Deleted(old) => f(old.meta().namespace.clone()),
            Change::Relisted { .. } => f(None),
        }
    }

    let quota_watch = cache::follow(
        watcher::watcher(Api::<ResourceQuota>::all(client.clone()), cfg.clone()),
        quotas_w,
        {
            let queue = queue.clone();
            let namespace_changed = namespace_changed.clone();
            move |change| match change {
                // A quota's own writes come back here too; the sync sees
                // nothing changed and writes nothing.
                Change::Applied { new, .. } => {
                    queue.add(ObjectRef::from_obj(&*new));
                    // ...and quotas count quotas.
                    namespace_changed(new.namespace());
                }
                Change::Deleted(old) => namespace_changed(old.namespace()),
                Change::Relisted { .. } => namespace_changed(None),
            }
        },
    );
    let (pods, pods_w) = cache::store::<Pod>();
    let (services, services_w) = cache::store::<Service>();
    let (claims, claims_w) = cache::store::<PersistentVolumeClaim>();
    let (configmaps, configmaps_w) = cache::store::<PartialObjectMeta<ConfigMap>>();
    let (secrets, secrets_w) = cache::store::<PartialObjectMeta<Secret>>();
    let (rcs, rcs_w) = cache::store::<PartialObjectMeta<ReplicationController>>();
    let pod_watch = cache::follow(
        watcher::watcher(Api::<Pod>::all(client.clone()), cfg.clone()),
        pods_w,
        on(namespace_changed.clone()),
    );
    let svc_watch = cache::follow(
        watcher::watcher(Api::<Service>::all(client.clone()), cfg.clone()),
        services_w,
        on(namespace_changed.clone()),
    );
    // Claims may not be served yet (no storage in this API server): then
    // there are none to count, and nothing to wait for.
    let claims_served = client
        .list_core_api_resources("v1")
        .await?
        .resources
        .iter()
        .any(|r| r.name == "persistentvolumeclaims");
    let pvc_watch = {
        let cfg = cfg.clone();
        let client = client.clone();
        let namespace_changed = namespace_changed.clone();
        async move {
            if claims_served {
                cache::follow(
                    watcher::watcher(
                        Api::<PersistentVolumeClaim>::all(client.clone()),
                        cfg.clone(),
                    ),
                    claims_w,
                    on(namespace_changed.clone()),
                )
                .await
            } else {
                let mut w = claims_w;
                w.apply_watcher_event(&watcher::Event::Init);
                w.apply_watcher_event(&watcher::Event::InitDone);
                std::future::pending::<()>().await
            }
        }
    };
    let cm_watch = cache::follow(
        watcher::watcher(
            Api::<PartialObjectMeta<ConfigMap>>::all(client.clone()),
            cfg.clone(),
        ),
        configmaps_w,
        on(namespace_changed.clone()),
    );
    let secret_watch = cache::follow(
        watcher::watcher(
            Api::<PartialObjectMeta<Secret>>::all(client.clone()),
            cfg.clone(),
        ),
        secrets_w,
        on(namespace_changed.clone()),
    );
    let rc_watch = cache::follow(
        watcher::watcher(
            Api::<PartialObjectMeta<ReplicationController>>::all(client.clone()),
            cfg,
        ),
        rcs_w,
        on(namespace_changed.clone()),
    );
    let ctl = Arc::new(Quotas {
        client: client.clone(),
        quotas: quotas.clone(),
        pods: pods.clone(),
        services: services.clone(),
        claims: claims.clone(),
        configmaps: configmaps.clone(),
        secrets: secrets.clone(),
        rcs: rcs.clone(),
        resources: Mutex::new(HashMap::new()),
    });
    let resync = ctx.config.resync_period;
    let work = async {
        let ready = futures::future::try_join4(
            quotas.wait_until_ready(),
            pods.wait_until_ready(),
            services.wait_until_ready(),
            claims.wait_until_ready(),
        )
        .await
        .is_ok()
            && futures::future::try_join3(
                configmaps.wait_until_ready(),
                secrets.wait_until_ready(),
                rcs.wait_until_ready(),
            )
            .await
            .is_ok();
        if !ready {
            return;
        }
        let resync_loop = async {
            loop {
                tokio::time::sleep(resync).await;
                namespace_changed(None);
            }
        };
        let workers = join_all((0..WORKERS).map(|_| worker(ctl.clone(), queue.clone())));
        tokio::join!(resync_loop, workers);
    };
    tokio::join!(
        quota_watch,
        pod_watch,
        svc_watch,
        pvc_watch,
        cm_watch,
        secret_watch,
        rc_watch,
        work
    );
    Ok(())
}

async fn worker(ctl: Arc<Quotas>, queue: WorkQueue<Key>) {
    loop {
        let key = queue.next().await;
        match ctl.sync(&key).await {
            Ok(()) => queue.forget(&key),
            Err(e) => {
                tracing::debug!(quota = %key, error = %e, "quota sync failed; retrying");
                queue.add_rate_limited(key.clone());
            }
        }
        queue.done(&key);
    }
}

struct Quotas {
    client: Client,
    quotas: Store<ResourceQuota>,
    pods: Store<Pod>,
    services: Store<Service>,
    claims: Store<PersistentVolumeClaim>,
    configmaps: Store<PartialObjectMeta<ConfigMap>>,
    secrets: Store<PartialObjectMeta<Secret>>,
    rcs: Store<PartialObjectMeta<ReplicationController>>,
    /// `count/<plural>.<group>` → the API resource it counts.
    resources: Mutex<HashMap<String, ApiResource>>,
}

fn in_ns<K: Resource + Clone>(store: &Store<K>, ns: &str) -> Vec<Arc<K>>
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    store
        .state()
        .into_iter()
        .filter(|o| o.meta().namespace.as_deref() == Some(ns))
        .collect()
}

/// Whether two resource lists hold the same values.
fn same_values(
    a: Option<&BTreeMap<String, Quantity>>,
    b: Option<&BTreeMap<String, Quantity>>,
) -> bool {
    let values = |m: Option<&BTreeMap<String, Quantity>>| -> BTreeMap<String, Option<i128>> {
        m.into_iter()
            .flatten()
            .map(|(k, q)| (k.clone(), Amount::parse(&q.0).map(|a| a.nanos())))
            .collect()
    };
    values(a) == values(b)
}

// === impl Quotas ===

impl Quotas {
    async fn sync(&self, key: &Key) -> Result<()> {
        let Some(quota) = self.quotas.get(key) else {
            return Ok(());
        };
        let ns = quota.namespace().unwrap_or_default();
        let hard = quota
            .spec
            .as_ref()
            .and_then(|s| s.hard.clone())
            .unwrap_or_default();
        let wanted: BTreeSet<String> = hard.keys().filter_map(|k| usage::count_key(k)).collect();
        let mut counts = BTreeMap::new();
        let mut failed = None;
        for k in wanted {
            match self.count(&ns, &k).await {
                Ok(Some(n)) => {
                    counts.insert(k, n);
                }
                Ok(None) => {}
                Err(e) => failed = Some(e),
            }
        }
        let pods = in_ns(&self.pods, &ns);
        let services = in_ns(&self.services, &ns);
        let claims = in_ns(&self.claims, &ns);
        let inputs = usage::Inputs {
            pods: &pods,
            services: &services,
            claims: &claims,
            counts: &counts,
        };
        let computed = usage::compute(&quota, &hard, &inputs);

        // What no evaluator knows keeps its last value, as upstream.
        let status = quota.status.clone().unwrap_or_default();
        let mut used: BTreeMap<String, Quantity> = status
            .used
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| hard.contains_key(k))
            .collect();
        for (k, v) in computed {
            used.insert(k, Quantity(v.canonical()));
        }
        let dirty = status.hard.is_none()
            || status.used.is_none()
            || !same_values(status.hard.as_ref(), Some(&hard))
            || !same_values(status.used.as_ref(), Some(&used));
        if dirty {
            let mut next = (*quota).clone();
            next.status = Some(ResourceQuotaStatus {
                hard: Some(hard),
                used: Some(used),
            });
            let api: Api<ResourceQuota> = Api::namespaced(self.client.clone(), &ns);
            api.replace_status(&quota.name_any(), &PostParams::default(), &next)
                .await?;
        }
        match failed {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// How many objects `count/...` counts in `ns`; `None` for a resource
    /// the API server does not serve.
    async fn count(&self, ns: &str, key: &str) -> Result<Option<i64>> {
        let local = |n: usize| Ok(Some(n as i64));
        match key {
            "count/configmaps" => return local(in_ns(&self.configmaps, ns).len()),
            "count/secrets" => return local(in_ns(&self.secrets, ns).len()),
            "count/replicationcontrollers" => return local(in_ns(&self.rcs, ns).len()),
            "count/resourcequotas" => return local(in_ns(&self.quotas, ns).len()),
            _ => {}
        }
        let Some(ar) = self.resolve(key).await? else {
            return Ok(None);
        };
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), ns, &ar);
        let list = api.list_metadata(&ListParams::default()).await?;
        Ok(Some(list.items.len() as i64))
    }

    /// The API resource of `count/<plural>[.<group>]`.
    async fn resolve(&self, key: &str) -> Result<Option<ApiResource>> {
        if let Some(ar) = self
            .resources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return Ok(Some(ar.clone()));
        }
        let rest = key.trim_start_matches("count/");
        let (plural, group) = rest.split_once('.').unwrap_or((rest, ""));
        let found = match kube::discovery::group(&self.client, group).await {
            Ok(g) => g
                .recommended_resources()
                .into_iter()
                .map(|(ar, _)| ar)
                .find(|ar| ar.plural == plural),
            Err(kube::Error::Discovery(_)) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(ar) = &found {
            self.resources
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.to_string(), ar.clone());
        }
        Ok(found)
    }
}

//! Running a reconcile loop: a queue of object references drives
//! `kube::runtime::applier` (which never reconciles one object twice at
//! once), failed reconciles are retried with per-object exponential
//! backoff (upstream's rate-limited work queue), and everything is
//! resynced periodically. Everything runs inside the caller's future.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt, stream};
use kube::Resource;
use kube::runtime::applier;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::{ObjectRef, Store};

use crate::Result;

/// The first retry of a failed reconcile (upstream: 5 ms).
const RETRY_BASE: Duration = Duration::from_millis(5);
/// The longest wait between retries.
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Every object of `store`, every `period`.
pub fn resync<K>(store: Store<K>, period: Duration) -> impl Stream<Item = ObjectRef<K>> + Send
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    stream::unfold(store, move |store| async move {
        tokio::time::sleep(period).await;
        let refs: Vec<ObjectRef<K>> = store
            .state()
            .iter()
            .map(|o| ObjectRef::from_obj(&**o))
            .collect();
        Some((stream::iter(refs), store))
    })
    .flatten()
}

/// Reconciles every object `queue` names (found in `store`) with
/// `reconcile`, at most `concurrency` at a time, until the queue ends.
/// `name` is the controller's, for logs.
pub async fn run<K, C, F, Fut>(
    name: &'static str,
    store: Store<K>,
    queue: impl Stream<Item = ObjectRef<K>> + Send + 'static,
    ctx: Arc<C>,
    mut reconcile: F,
    concurrency: u16,
) where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    ObjectRef<K>: Hash + Eq,
    C: Send + Sync + 'static,
    F: FnMut(Arc<K>, Arc<C>) -> Fut,
    Fut: Future<Output = Result<Action>> + Send + 'static,
{
    let failures: Arc<Mutex<HashMap<ObjectRef<K>, u32>>> = Arc::default();
    let on_result = failures.clone();
    let wrapped = move |obj: Arc<K>, ctx: Arc<C>| {
        let key = ObjectRef::from_obj(&*obj);
        let failures = on_result.clone();
        let fut = reconcile(obj, ctx);
        Box::pin(async move {
            let r = fut.await;
            if r.is_ok() {
                lock(&failures).remove(&key);
            }
            r
        })
    };
    let error_policy = move |obj: Arc<K>, err: &crate::Error, _: Arc<C>| {
        let key = ObjectRef::from_obj(&*obj);
        let mut f = lock(&failures);
        let n = f.entry(key.clone()).or_insert(0);
        let delay = RETRY_BASE.saturating_mul(1 << (*n).min(20)).min(RETRY_MAX);
        *n += 1;
        tracing::info!(controller = name, object = %key, error = %err, ?delay, "sync failed; retrying");
        Action::requeue(delay)
    };
    let queue = queue.map(Ok::<_, Infallible>);
    applier(
        wrapped,
        error_policy,
        ctx,
        store,
        queue,
        Config::default().concurrency(concurrency),
    )
    .for_each(|r| async move {
        if let Err(e) = r {
            // ObjectNotFound is routine: the object went away while queued.
            tracing::debug!(controller = name, error = %e, "reconcile");
        }
    })
    .await;
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

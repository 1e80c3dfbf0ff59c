//! A watch that feeds a reflector cache and tells, after the cache has
//! taken each change in, what changed and what the cache held before
//! (upstream's informer event handlers, which run after the indexer is
//! updated). A relist is applied atomically and then told as the changes
//! it amounts to, so handlers never see a cache that lags what they are
//! told.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use kube::Api;
use kube::Resource;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
use kube::runtime::watcher::{self, Event, watcher};
use serde::de::DeserializeOwned;

/// One change, as the cache has just taken it in.
#[derive(Debug)]
pub enum Change<'a, K> {
    /// Added (`old` is None) or updated.
    Applied {
        /// What the cache held before, if anything.
        old: Option<Arc<K>>,
        /// The object now.
        new: &'a K,
    },
    /// Deleted (its last known state).
    Deleted(&'a K),
    /// A relist has just been applied (after the changes it implied).
    Relisted,
}

/// Watches `api` with `config` into `writer`'s store and yields what
/// `handler` makes of each change (typically the owners to reconcile).
/// Watch errors are retried with backoff and logged.
pub fn informer<K, T, F>(
    api: Api<K>,
    config: watcher::Config,
    mut writer: Writer<K>,
    mut handler: F,
) -> impl Stream<Item = T> + Send
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    T: Send + 'static,
    F: FnMut(Change<'_, K>) -> Vec<T> + Send + 'static,
{
    let reader: Store<K> = writer.as_reader();
    let mut relist: Vec<(Option<Arc<K>>, K)> = Vec::new();
    watcher(api, config).default_backoff().flat_map(move |ev| {
        let mut out = Vec::new();
        match ev {
            Err(e) => tracing::warn!(error = %e, "watch failed; retrying"),
            Ok(Event::Apply(obj)) => {
                let old = reader.get(&ObjectRef::from_obj(&obj));
                writer.apply_watcher_event(&Event::Apply(obj.clone()));
                out = handler(Change::Applied { old, new: &obj });
            }
            Ok(Event::Delete(obj)) => {
                writer.apply_watcher_event(&Event::Delete(obj.clone()));
                out = handler(Change::Deleted(&obj));
            }
            Ok(Event::Init) => {
                relist.clear();
                writer.apply_watcher_event(&Event::Init);
            }
            Ok(Event::InitApply(obj)) => {
                let old = reader.get(&ObjectRef::from_obj(&obj));
                writer.apply_watcher_event(&Event::InitApply(obj.clone()));
                relist.push((old, obj));
            }
            Ok(Event::InitDone) => {
                let before = reader.state();
                writer.apply_watcher_event(&Event::InitDone);
                let listed: HashSet<ObjectRef<K>> =
                    relist.iter().map(|(_, o)| ObjectRef::from_obj(o)).collect();
                for (old, new) in std::mem::take(&mut relist) {
                    let unchanged = old.as_ref().is_some_and(|o| {
                        o.meta().resource_version.is_some()
                            && o.meta().resource_version == new.meta().resource_version
                    });
                    if !unchanged {
                        out.extend(handler(Change::Applied { old, new: &new }));
                    }
                }
                for gone in before {
                    if !listed.contains(&ObjectRef::from_obj(&*gone)) {
                        out.extend(handler(Change::Deleted(&gone)));
                    }
                }
                out.extend(handler(Change::Relisted));
            }
        }
        stream::iter(out)
    })
}

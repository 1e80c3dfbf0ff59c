//! A reflector cache that tells its controller what changed, old and new
//! versions side by side (as client-go's informer handlers get them), so
//! a pod that leaves a Service's selector still re-syncs that Service.

use std::collections::HashSet;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::{self, Event};

/// One change of a cache.
pub enum Change<K: Resource> {
    /// Added (`old` is `None`) or modified.
    Applied {
        /// The version the cache held before.
        old: Option<Arc<K>>,
        /// The version it holds now.
        new: Arc<K>,
    },
    /// Deleted; the last version seen.
    Deleted(Arc<K>),
    /// The watch was (re)listed and the cache replaced; `gone` are the
    /// objects the list no longer had (deletions missed while away).
    Relisted {
        /// Objects that disappeared.
        gone: Vec<Arc<K>>,
    },
}

/// Feeds `writer` from a watcher stream (with upstream-like backoff on
/// errors) and reports each change to `on` after the cache holds it.
/// Runs until the stream ends, which a watcher never does.
pub async fn follow<K, S>(stream: S, mut writer: Writer<K>, mut on: impl FnMut(Change<K>))
where
    K: Resource + Clone + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
    S: Stream<Item = Result<Event<K>, watcher::Error>> + Send,
{
    let reader = writer.as_reader();
    let mut stream = std::pin::pin!(stream.default_backoff());
    while let Some(ev) = stream.next().await {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                tracing::warn!(kind = %K::kind(&Default::default()), error = %e, "watch failed; retrying");
                continue;
            }
        };
        match &ev {
            Event::Apply(obj) => {
                let old = reader.get(&ObjectRef::from_obj(obj));
                writer.apply_watcher_event(&ev);
                on(Change::Applied {
                    old,
                    new: Arc::new(obj.clone()),
                });
            }
            Event::Delete(obj) => {
                writer.apply_watcher_event(&ev);
                on(Change::Deleted(Arc::new(obj.clone())));
            }
            Event::InitDone => {
                let before = reader.state();
                writer.apply_watcher_event(&ev);
                let now: HashSet<ObjectRef<K>> = reader
                    .state()
                    .iter()
                    .map(|o| ObjectRef::from_obj(&**o))
                    .collect();
                let gone = before
                    .into_iter()
                    .filter(|o| !now.contains(&ObjectRef::from_obj(&**o)))
                    .collect();
                on(Change::Relisted { gone });
            }
            Event::Init | Event::InitApply(_) => writer.apply_watcher_event(&ev),
        }
    }
}

/// A fresh cache: the writer for [`follow`] and its reader.
pub fn store<K>() -> (Store<K>, Writer<K>)
where
    K: Resource + Clone + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    kube::runtime::reflector::store()
}

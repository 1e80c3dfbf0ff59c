//! The watch cache: one store watch per resource feeds an in-memory copy of
//! its objects and a window of recent events, from which every API watch
//! (and every `resourceVersion=0` list) of that resource is served. A
//! thousand watchers of pods cost one store watch and one decode per change;
//! each event is serialized once and the bytes shared. Objects are kept in
//! their storage form; the one API that serves a prefix in another form
//! (events.k8s.io/v1 Events, stored as core/v1 Events) gets its own bytes,
//! also serialized once per event.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use ironclad_api::ResourceInfo;
use ironclad_api::conversion;
use ironclad_store::{EventKind, KeyRange, RangeRequest, Revision, Store, WatchRequest};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::error::{ApiError, Result};
use crate::objects;

/// How many past events each cache keeps for watches that start from a
/// resourceVersion (older ones go to the store directly).
const WINDOW: usize = 4096;
/// Capacity of the live fan-out channel; a watcher that falls this far
/// behind is ended and re-watches from its last resourceVersion.
const FANOUT: usize = 2048;

/// The kind of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// ADDED.
    Added,
    /// MODIFIED.
    Modified,
    /// DELETED.
    Deleted,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as every watcher of the resource sees it.
#[derive(Debug)]
pub struct CacheEvent {
    /// ADDED, MODIFIED or DELETED.
    pub kind: EventType,
    /// Store revision of the change.
    pub revision: Revision,
    /// The object after the change (for DELETED, its last state with the
    /// deletion's resourceVersion).
    pub object: Arc<Value>,
    /// The object before the change, for selector transitions.
    pub prev: Option<Arc<Value>>,
    json: OnceLock<Bytes>,
    /// The line in the form of the API that converts the stored form.
    converted: OnceLock<Bytes>,
}

impl CacheEvent {
    /// An event not kept in any cache (a watch served from the store).
    pub fn detached(
        kind: EventType,
        revision: Revision,
        object: Arc<Value>,
        prev: Option<Arc<Value>>,
    ) -> Self {
        CacheEvent {
            kind,
            revision,
            object,
            prev,
            json: OnceLock::new(),
            converted: OnceLock::new(),
        }
    }

    /// The event as one JSON line, serialized once for all watchers.
    pub fn json_line(&self) -> Bytes {
        self.json
            .get_or_init(|| line(self.kind.as_str(), &self.object))
            .clone()
    }

    /// The event as one JSON line in the form `info` serves, serialized
    /// once for all its watchers. At most one API converts the form of a
    /// storage prefix (events.k8s.io/v1 for events), so one converted line
    /// per event suffices.
    pub fn json_line_for(&self, info: &ResourceInfo) -> Bytes {
        if !conversion::converts(info) {
            return self.json_line();
        }
        self.converted
            .get_or_init(|| {
                let obj = conversion::to_served(info, (*self.object).clone());
                line(self.kind.as_str(), &obj)
            })
            .clone()
    }
}

/// Serializes a watch event line.
pub fn line(kind: &str, object: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

struct State {
    objects: BTreeMap<String, Arc<Value>>,
    events: VecDeque<Arc<CacheEvent>>,
    /// The revision the cache reflects.
    revision: Revision,
    /// Events after this revision are all in `events`.
    window_start: Revision,
}

/// The cache of one resource (one store prefix).
pub struct Cache {
    prefix: String,
    state: RwLock<State>,
    /// Replaced when the cache reloads, which ends every watcher of the old
    /// generation (they re-watch from their last resourceVersion).
    tx: Mutex<broadcast::Sender<Arc<CacheEvent>>>,
    loaded: tokio::sync::watch::Sender<Revision>,
}

/// What a watcher gets when it starts: the past (initial objects or events
/// since its resourceVersion) and the live feed after it.
pub struct Subscription {
    /// Objects present at `revision` (only for watches that start "now").
    pub initial: Vec<Arc<Value>>,
    /// Events after the requested revision still in the window.
    pub backlog: Vec<Arc<CacheEvent>>,
    /// The revision the subscription starts after.
    pub revision: Revision,
    /// Live events after `backlog`.
    pub live: broadcast::Receiver<Arc<CacheEvent>>,
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// Current objects as ADDED, then changes.
    Now,
    /// Changes after this revision.
    After(Revision),
}

impl Cache {
    fn new(prefix: String) -> Arc<Self> {
        let (tx, _) = broadcast::channel(FANOUT);
        let (loaded, _) = tokio::sync::watch::channel(0);
        Arc::new(Cache {
            prefix,
            state: RwLock::new(State {
                objects: BTreeMap::new(),
                events: VecDeque::new(),
                revision: 0,
                window_start: 0,
            }),
            tx: Mutex::new(tx),
            loaded,
        })
    }

    fn sender(&self) -> broadcast::Sender<Arc<CacheEvent>> {
        match self.tx.lock() {
            Ok(t) => t.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Waits until the cache has loaded (bounded).
    async fn wait_ready(&self) -> Result<()> {
        let mut rx = self.loaded.subscribe();
        let wait = rx.wait_for(|r| *r > 0);
        match tokio::time::timeout(Duration::from_secs(10), wait).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ApiError::unavailable(
                "the watch cache is not ready yet; retry",
            )),
        }
    }

    /// A snapshot of all objects, and the revision it reflects.
    pub async fn snapshot(&self) -> Result<(Vec<Arc<Value>>, Revision)> {
        self.wait_ready().await?;
        let st = self
            .state
            .read()
            .map_err(|_| ApiError::internal("watch cache lock poisoned"))?;
        Ok((st.objects.values().cloned().collect(), st.revision))
    }

    /// Starts a watcher. `None` when the requested revision is older than
    /// the window (the caller then watches the store directly).
    pub async fn subscribe(&self, start: Start) -> Result<Option<Subscription>> {
        self.wait_ready().await?;
        let st = self
            .state
            .read()
            .map_err(|_| ApiError::internal("watch cache lock poisoned"))?;
        match start {
            Start::Now => Ok(Some(Subscription {
                initial: st.objects.values().cloned().collect(),
                backlog: Vec::new(),
                revision: st.revision,
                live: self.sender().subscribe(),
            })),
            Start::After(rev) if rev >= st.window_start => Ok(Some(Subscription {
                initial: Vec::new(),
                backlog: st
                    .events
                    .iter()
                    .filter(|e| e.revision > rev)
                    .cloned()
                    .collect(),
                revision: rev,
                live: self.sender().subscribe(),
            })),
            Start::After(_) => Ok(None),
        }
    }

    /// The revision the cache reflects.
    pub fn revision(&self) -> Revision {
        self.state.read().map(|s| s.revision).unwrap_or(0)
    }

    fn apply(&self, ev: ironclad_store::Event) {
        let key = String::from_utf8_lossy(&ev.kv.key).into_owned();
        let Ok(mut st) = self.state.write() else {
            return;
        };
        let rev = ev.kv.mod_revision;
        let cache_event = match ev.kind {
            EventKind::Put => {
                let Ok(obj) = objects::decode(&ev.kv) else {
                    return;
                };
                let obj = Arc::new(obj);
                let prev = st.objects.insert(key, obj.clone());
                let kind = if prev.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                };
                CacheEvent::detached(kind, rev, obj, prev)
            }
            EventKind::Delete => {
                let Some(prev) = st.objects.remove(&key) else {
                    return;
                };
                let mut last = (*prev).clone();
                objects::set_resource_version(&mut last, rev);
                CacheEvent::detached(EventType::Deleted, rev, Arc::new(last), Some(prev))
            }
        };
        let cache_event = Arc::new(cache_event);
        st.revision = rev;
        st.events.push_back(cache_event.clone());
        while st.events.len() > WINDOW {
            if let Some(e) = st.events.pop_front() {
                st.window_start = e.revision;
            }
        }
        // Sent under the lock so a subscriber sees each event exactly once:
        // either in its backlog or on its receiver.
        let _ = self.sender().send(cache_event);
    }

    /// Every object under the prefix, read from the store at its current
    /// revision (paged), and that revision.
    async fn read_prefix(
        &self,
        store: &dyn Store,
    ) -> Result<(BTreeMap<String, Arc<Value>>, Revision)> {
        let mut req =
            RangeRequest::new(KeyRange::prefix(self.prefix.clone().into_bytes())).with_limit(1000);
        let mut objects = BTreeMap::new();
        loop {
            let resp = store.range(req.clone()).await?;
            for kv in &resp.kvs {
                if let Ok(obj) = objects::decode(kv) {
                    objects.insert(String::from_utf8_lossy(&kv.key).into_owned(), Arc::new(obj));
                }
            }
            match resp.next_page(&req) {
                Some(next) => req = next,
                None => return Ok((objects, resp.revision)),
            }
        }
    }

    /// A watcher that starts "now" as of the store's current revision, not
    /// the cache's: the cache only hears of its own prefix, so it may not
    /// yet hold a write another client saw acknowledged. The initial
    /// objects come from a store read, the changes after it from the cache
    /// (upstream's consistent reads; `resourceVersion=0` takes the cache as
    /// it is instead).
    pub async fn subscribe_consistent(&self, store: &dyn Store) -> Result<Option<Subscription>> {
        self.wait_ready().await?;
        let (objects, revision) = self.read_prefix(store).await?;
        let sub = self.subscribe(Start::After(revision)).await?;
        Ok(sub.map(|mut s| {
            s.initial = objects.into_values().collect();
            s
        }))
    }

    async fn load(&self, store: &dyn Store) -> Result<Revision> {
        let (objects, revision) = self.read_prefix(store).await?;
        let mut st = self
            .state
            .write()
            .map_err(|_| ApiError::internal("watch cache lock poisoned"))?;
        st.objects = objects;
        st.events.clear();
        st.revision = revision;
        st.window_start = revision;
        drop(st);
        self.loaded.send_replace(revision.max(1));
        Ok(revision)
    }

    /// Keeps the cache current until the store fails; then reloads.
    async fn run(self: Arc<Self>, store: Arc<dyn Store>) {
        loop {
            let from = match self.load(store.as_ref()).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(prefix = %self.prefix, error = %e, "watch cache: load failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let req = WatchRequest::new(KeyRange::prefix(self.prefix.clone().into_bytes()))
                .from_revision(from + 1)
                .with_prev_kv()
                .with_progress_notify();
            let mut stream = match store.watch(req).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(prefix = %self.prefix, error = %e, "watch cache: watch failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(item) = stream.next().await {
                match item {
                    Ok(resp) => {
                        if resp.is_progress() {
                            if let Ok(mut st) = self.state.write()
                                && resp.header_revision > st.revision
                            {
                                st.revision = resp.header_revision;
                            }
                            continue;
                        }
                        for ev in resp.events {
                            self.apply(ev);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(prefix = %self.prefix, error = %e, "watch cache: watch ended; reloading");
                        break;
                    }
                }
            }
            // Until the reload, readers wait instead of being served a copy
            // that no longer follows the store; current watchers end.
            self.loaded.send_replace(0);
            if let Ok(_st) = self.state.write()
                && let Ok(mut tx) = self.tx.lock()
            {
                *tx = broadcast::channel(FANOUT).0;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A cache and the task that feeds it.
type Running = (Arc<Cache>, tokio::task::JoinHandle<()>);

/// All caches, one per resource prefix, started on first use.
pub struct Caches {
    store: Arc<dyn Store>,
    caches: Mutex<HashMap<String, Running>>,
}

impl Caches {
    /// No caches yet.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Caches {
            store,
            caches: Mutex::new(HashMap::new()),
        }
    }

    /// The cache of the resource stored under `prefix`, started if needed.
    pub fn get(&self, prefix: &str) -> Arc<Cache> {
        let mut caches = match self.caches.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        if let Some((c, _)) = caches.get(prefix) {
            return c.clone();
        }
        let cache = Cache::new(prefix.to_string());
        let task = tokio::spawn(cache.clone().run(self.store.clone()));
        caches.insert(prefix.to_string(), (cache.clone(), task));
        cache
    }

    /// How many store watches the caches hold (one per started cache).
    pub fn len(&self) -> usize {
        self.caches.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Whether no cache has started.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Caches {
    fn drop(&mut self) {
        if let Ok(c) = self.caches.lock() {
            for (_, task) in c.values() {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_api::registry::lookup;

    #[test]
    fn events_lines_are_serialized_once_per_api_form() {
        let core = lookup("", "v1", "events").unwrap();
        let new = lookup("events.k8s.io", "v1", "events").unwrap();
        let obj = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"name": "p"}, "message": "hi"});
        let ev = CacheEvent::detached(EventType::Added, 3, Arc::new(obj), None);
        let plain: Value = serde_json::from_slice(&ev.json_line_for(core)).unwrap();
        assert_eq!(plain["object"]["message"], "hi");
        let converted = ev.json_line_for(new);
        let v: Value = serde_json::from_slice(&converted).unwrap();
        assert_eq!(v["type"], "ADDED");
        assert_eq!(v["object"]["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v["object"]["note"], "hi");
        assert_eq!(v["object"]["regarding"]["name"], "p");
        // The same shared bytes for every later watcher of each form.
        assert_eq!(ev.json_line_for(new).as_ptr(), converted.as_ptr());
        assert_eq!(ev.json_line_for(core).as_ptr(), ev.json_line().as_ptr());
    }
}

//! An in-memory [`Store`] with etcd semantics for the election's logic
//! tests under paused tokio time, with per-view fault injection (a view is
//! one candidate's connection).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use ironclad_store::{
    DeleteResponse, Error, Event, EventKind, KeyRange, KeyValue, LeaseGrant, Op, OpResponse,
    PutResponse, RangeRequest, RangeResponse, Result, Revision, Status, Store, Txn, TxnResponse,
    WatchRequest, WatchResponse, WatchStream,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Default)]
struct State {
    rev: Revision,
    kvs: BTreeMap<Bytes, KeyValue>,
    leases: HashMap<i64, (i64, Instant)>,
    next_lease: i64,
    history: Vec<Event>,
    watchers: Vec<(KeyRange, mpsc::UnboundedSender<Result<WatchResponse>>)>,
}

impl State {
    /// Applies one revision's events: history, then every matching watcher.
    fn commit(&mut self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        self.history.extend(events.iter().cloned());
        let rev = self.rev;
        self.watchers.retain(|(range, tx)| {
            let mine: Vec<Event> = events
                .iter()
                .filter(|e| range.contains(&e.kv.key))
                .cloned()
                .collect();
            mine.is_empty()
                || tx
                    .send(Ok(WatchResponse {
                        header_revision: rev,
                        events: mine,
                    }))
                    .is_ok()
        });
    }

    fn delete_keys(&mut self, keys: Vec<Bytes>) -> Vec<Event> {
        keys.into_iter()
            .filter_map(|k| self.kvs.remove(&k))
            .map(|prev| Event {
                kind: EventKind::Delete,
                kv: KeyValue {
                    key: prev.key.clone(),
                    mod_revision: self.rev,
                    ..Default::default()
                },
                prev_kv: Some(prev),
            })
            .collect()
    }

    /// Drops a lease and its keys at one new revision.
    fn drop_lease(&mut self, id: i64) -> bool {
        if self.leases.remove(&id).is_none() {
            return false;
        }
        let keys: Vec<Bytes> = self
            .kvs
            .values()
            .filter(|kv| kv.lease == id)
            .map(|kv| kv.key.clone())
            .collect();
        if !keys.is_empty() {
            self.rev += 1;
            let events = self.delete_keys(keys);
            self.commit(events);
        }
        true
    }
}

/// Faults one view injects.
#[derive(Default)]
pub struct Faults {
    /// Keep-alives never answer.
    pub hang_keep_alive: AtomicBool,
    /// Watch requests never answer.
    pub hang_watch: AtomicBool,
    /// Every request fails with `Unavailable`.
    pub unavailable: AtomicBool,
}

/// One candidate's view of the shared in-memory store.
#[derive(Clone)]
pub struct FakeStore {
    state: Arc<Mutex<State>>,
    /// This view's faults.
    pub faults: Arc<Faults>,
}

impl FakeStore {
    /// A new empty store, with a reaper expiring leases every 10 ms.
    pub fn new() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let weak = Arc::downgrade(&state);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            loop {
                tick.tick().await;
                let Some(state) = weak.upgrade() else { return };
                let mut s = state.lock().unwrap();
                let now = Instant::now();
                let expired: Vec<i64> = s
                    .leases
                    .iter()
                    .filter(|(_, (_, exp))| *exp <= now)
                    .map(|(id, _)| *id)
                    .collect();
                for id in expired {
                    s.drop_lease(id);
                }
            }
        });
        FakeStore {
            state,
            faults: Arc::default(),
        }
    }

    /// Another view of the same store, with its own faults.
    pub fn view(&self) -> FakeStore {
        FakeStore {
            state: self.state.clone(),
            faults: Arc::default(),
        }
    }

    fn check(&self) -> Result<()> {
        if self.faults.unavailable.load(Ordering::SeqCst) {
            return Err(Error::Unavailable("fault injected".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for FakeStore {
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        self.check()?;
        let s = self.state.lock().unwrap();
        let kvs: Vec<KeyValue> = s
            .kvs
            .values()
            .filter(|kv| req.range.contains(&kv.key))
            .cloned()
            .collect();
        Ok(RangeResponse {
            revision: s.rev,
            count: kvs.len() as i64,
            kvs,
            more: false,
        })
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        self.check()?;
        let mut s = self.state.lock().unwrap();
        let succeeded = txn.compare.iter().all(|c| c.holds(s.kvs.get(&c.key)));
        let ops = if succeeded { txn.success } else { txn.failure };
        for op in &ops {
            if let Op::Put { lease, .. } = op
                && *lease != 0
                && !s.leases.contains_key(lease)
            {
                return Err(Error::LeaseNotFound(*lease));
            }
        }
        let writes = ops.iter().any(|op| !matches!(op, Op::Range(_)));
        if writes {
            s.rev += 1;
        }
        let rev = s.rev;
        let mut events = Vec::new();
        let mut responses = Vec::new();
        for op in ops {
            match op {
                Op::Put {
                    key, value, lease, ..
                } => {
                    let prev = s.kvs.get(&key).cloned();
                    let kv = KeyValue {
                        key: key.clone(),
                        value,
                        create_revision: prev.as_ref().map_or(rev, |p| p.create_revision),
                        mod_revision: rev,
                        version: prev.as_ref().map_or(1, |p| p.version + 1),
                        lease,
                    };
                    s.kvs.insert(key, kv.clone());
                    events.push(Event {
                        kind: EventKind::Put,
                        kv,
                        prev_kv: prev,
                    });
                    responses.push(OpResponse::Put(PutResponse {
                        revision: rev,
                        prev_kv: None,
                    }));
                }
                Op::Delete { range, .. } => {
                    let keys: Vec<Bytes> = s
                        .kvs
                        .keys()
                        .filter(|k| range.contains(k))
                        .cloned()
                        .collect();
                    let evs = s.delete_keys(keys);
                    let deleted = evs.len() as i64;
                    events.extend(evs);
                    responses.push(OpResponse::Delete(DeleteResponse {
                        revision: rev,
                        deleted,
                        prev_kvs: vec![],
                    }));
                }
                Op::Range(req) => {
                    let kvs: Vec<KeyValue> = s
                        .kvs
                        .values()
                        .filter(|kv| req.range.contains(&kv.key))
                        .cloned()
                        .collect();
                    responses.push(OpResponse::Range(RangeResponse {
                        revision: rev,
                        count: kvs.len() as i64,
                        kvs,
                        more: false,
                    }));
                }
            }
        }
        s.commit(events);
        Ok(TxnResponse {
            succeeded,
            revision: rev,
            responses,
        })
    }

    async fn watch(&self, req: WatchRequest) -> Result<WatchStream> {
        if self.faults.hang_watch.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.check()?;
        let mut s = self.state.lock().unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let start = req.start_revision.filter(|r| *r > 0).unwrap_or(s.rev + 1);
        let past: Vec<Event> = s
            .history
            .iter()
            .filter(|e| e.kv.mod_revision >= start && req.range.contains(&e.kv.key))
            .cloned()
            .collect();
        // One response per revision, like etcd.
        let mut i = 0;
        while i < past.len() {
            let rev = past[i].kv.mod_revision;
            let batch: Vec<Event> = past[i..]
                .iter()
                .take_while(|e| e.kv.mod_revision == rev)
                .cloned()
                .collect();
            i += batch.len();
            let _ = tx.send(Ok(WatchResponse {
                header_revision: s.rev,
                events: batch,
            }));
        }
        s.watchers.push((req.range, tx));
        let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Ok(WatchStream::new(
            Box::pin(stream),
            Box::new(|| Box::pin(async { Ok(()) })),
        ))
    }

    async fn lease_grant(&self, ttl: i64) -> Result<LeaseGrant> {
        self.check()?;
        let mut s = self.state.lock().unwrap();
        s.next_lease += 1;
        let id = s.next_lease;
        s.leases
            .insert(id, (ttl, Instant::now() + Duration::from_secs(ttl as u64)));
        Ok(LeaseGrant { id, ttl })
    }

    async fn lease_keep_alive(&self, id: i64) -> Result<i64> {
        if self.faults.hang_keep_alive.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.check()?;
        let mut s = self.state.lock().unwrap();
        match s.leases.get_mut(&id) {
            Some((ttl, exp)) => {
                *exp = Instant::now() + Duration::from_secs(*ttl as u64);
                Ok(*ttl)
            }
            None => Err(Error::LeaseNotFound(id)),
        }
    }

    async fn lease_revoke(&self, id: i64) -> Result<()> {
        self.check()?;
        if self.state.lock().unwrap().drop_lease(id) {
            Ok(())
        } else {
            Err(Error::LeaseNotFound(id))
        }
    }

    async fn compact(&self, _revision: Revision) -> Result<()> {
        Ok(())
    }

    async fn status(&self) -> Result<Status> {
        Ok(Status {
            revision: self.state.lock().unwrap().rev,
            ..Default::default()
        })
    }
}

//! The watch hub: every watcher is either *synced* (it gets each commit's
//! events straight from the writer) or *catching up* (a task replays the
//! log for it until it reaches the head, then it becomes synced). A synced
//! watcher whose buffer is full is moved to catching up rather than
//! blocking the writer or dropping events — etcd's synced/unsynced/victim
//! design, made small.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use ironclad_store::{
    Error, Event, KeyRange, Result, Revision, WatchRequest, WatchResponse, WatchStream,
};
use redb::{Database, ReadableDatabase};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::read::read_events;
use crate::tables::OrBackend;

/// Events replayed per response while catching up.
const CATCH_UP_CHUNK: usize = 1000;

type Sender = mpsc::Sender<Result<WatchResponse>>;

struct Watcher {
    range: KeyRange,
    prev_kv: bool,
    progress_notify: bool,
    tx: Sender,
    /// Every event up to this revision has been queued (or is before the start).
    delivered: Revision,
    synced: bool,
    /// A progress notification was asked for while catching up.
    progress_pending: bool,
}

#[derive(Default)]
struct Inner {
    /// The last revision whose events were published (all committed).
    published: Revision,
    watchers: HashMap<u64, Watcher>,
    next_id: u64,
}

/// All watches of one store.
pub(crate) struct Hub {
    inner: Mutex<Inner>,
    db: Arc<Database>,
    runtime: Handle,
    buffer: usize,
}

impl Hub {
    /// A hub whose head is `published`.
    pub fn new(
        db: Arc<Database>,
        published: Revision,
        runtime: Handle,
        buffer: usize,
    ) -> Arc<Self> {
        Arc::new(Hub {
            inner: Mutex::new(Inner {
                published,
                ..Default::default()
            }),
            db,
            runtime,
            buffer,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a committed batch to every synced watcher. Called by the
    /// writer after commit and before it acknowledges the writes.
    pub fn publish(self: &Arc<Self>, events: &[Event], head: Revision) {
        let mut g = self.lock();
        let prev_published = g.published;
        g.published = head;
        let mut lagging = Vec::new();
        let mut closed = Vec::new();
        for (id, w) in g.watchers.iter_mut().filter(|(_, w)| w.synced) {
            let evs: Vec<Event> = events
                .iter()
                .filter(|e| e.kv.mod_revision > w.delivered && w.range.contains(&e.kv.key))
                .map(|e| Event {
                    prev_kv: e.prev_kv.clone().filter(|_| w.prev_kv),
                    ..e.clone()
                })
                .collect();
            if evs.is_empty() {
                w.delivered = w.delivered.max(head);
                continue;
            }
            match w.tx.try_send(Ok(WatchResponse {
                header_revision: head,
                events: evs,
            })) {
                Ok(()) => w.delivered = head,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    w.synced = false;
                    w.delivered = w.delivered.max(prev_published);
                    lagging.push(*id);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => closed.push(*id),
            }
        }
        for id in closed {
            g.watchers.remove(&id);
        }
        drop(g);
        for id in lagging {
            self.spawn_catch_up(id);
        }
    }

    /// Starts a watch.
    pub fn watch(self: &Arc<Self>, req: WatchRequest, compact: Revision) -> Result<WatchStream> {
        req.range.validate()?;
        let (tx, rx) = mpsc::channel(self.buffer);
        let mut g = self.lock();
        let start = req
            .start_revision
            .filter(|r| *r > 0)
            .unwrap_or(g.published + 1);
        if start < compact {
            return Err(Error::Compacted {
                requested: start,
                compact_revision: compact,
            });
        }
        let id = g.next_id;
        g.next_id += 1;
        let synced = start > g.published;
        g.watchers.insert(
            id,
            Watcher {
                range: req.range,
                prev_kv: req.prev_kv,
                progress_notify: req.progress_notify,
                tx,
                delivered: start - 1,
                synced,
                progress_pending: false,
            },
        );
        drop(g);
        if !synced {
            self.spawn_catch_up(id);
        }
        let guard = Deregister {
            hub: self.clone(),
            id,
        };
        let stream = ReceiverStream::new(rx).map(move |item| {
            let _keep = &guard;
            item
        });
        let hub = self.clone();
        let progress = Box::new(move || {
            hub.request_progress(id);
            Box::pin(futures::future::ready(Ok(())))
                as futures::future::BoxFuture<'static, Result<()>>
        });
        Ok(WatchStream::new(stream.boxed(), progress))
    }

    /// Sends a progress notification now if the watcher is synced, or as
    /// soon as it is.
    fn request_progress(&self, id: u64) {
        let mut g = self.lock();
        let published = g.published;
        if let Some(w) = g.watchers.get_mut(&id) {
            if w.synced {
                let _ = w.tx.try_send(Ok(WatchResponse {
                    header_revision: published,
                    events: Vec::new(),
                }));
            } else {
                w.progress_pending = true;
            }
        }
    }

    /// Periodic progress for the watches that asked for it.
    pub fn notify_progress(&self) {
        let g = self.lock();
        for w in g
            .watchers
            .values()
            .filter(|w| w.synced && w.progress_notify)
        {
            let _ = w.tx.try_send(Ok(WatchResponse {
                header_revision: g.published,
                events: Vec::new(),
            }));
        }
    }

    fn spawn_catch_up(self: &Arc<Self>, id: u64) {
        let hub = self.clone();
        self.runtime.spawn(async move { hub.catch_up(id).await });
    }

    /// Replays the log into a watcher until it reaches the head, then marks
    /// it synced under the hub lock, so no commit slips between.
    async fn catch_up(self: Arc<Self>, id: u64) {
        loop {
            let (from, to, range, prev_kv, tx) = {
                let g = self.lock();
                let Some(w) = g.watchers.get(&id) else { return };
                (
                    w.delivered + 1,
                    g.published,
                    w.range.clone(),
                    w.prev_kv,
                    w.tx.clone(),
                )
            };
            let mut cursor = from;
            while cursor <= to {
                let chunk = self
                    .db
                    .begin_read()
                    .or_backend("begin read")
                    .and_then(|rtx| read_events(&rtx, &range, cursor, to, prev_kv, CATCH_UP_CHUNK));
                match chunk {
                    Ok((events, next)) => {
                        if !events.is_empty()
                            && tx
                                .send(Ok(WatchResponse {
                                    header_revision: to,
                                    events,
                                }))
                                .await
                                .is_err()
                        {
                            self.lock().watchers.remove(&id);
                            return;
                        }
                        cursor = next;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        self.lock().watchers.remove(&id);
                        return;
                    }
                }
            }
            let mut g = self.lock();
            let published = g.published;
            let Some(w) = g.watchers.get_mut(&id) else {
                return;
            };
            w.delivered = w.delivered.max(to);
            if published == to {
                w.synced = true;
                if std::mem::take(&mut w.progress_pending) {
                    let _ = w.tx.try_send(Ok(WatchResponse {
                        header_revision: published,
                        events: Vec::new(),
                    }));
                }
                return;
            }
        }
    }
}

/// Removes a watcher when its stream is dropped.
struct Deregister {
    hub: Arc<Hub>,
    id: u64,
}

impl Drop for Deregister {
    fn drop(&mut self) {
        self.hub.lock().watchers.remove(&self.id);
    }
}

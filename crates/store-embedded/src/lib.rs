//! ironclad's embedded store: the single-node, durable [`Store`] that
//! `ironclad up` and `ironclad server` use when no etcd is given.
//!
//! The whole MVCC state lives in one [redb] file (`DIR/store.redb`): a log
//! keyed by revision, a `(key, revision)` history index and the live state
//! (see `tables.rs`). redb gives crash-safe commits and snapshot reads, so a
//! reader always sees one committed revision. One writer thread applies
//! requests in batches and makes each batch durable with one small append
//! and fsync of a write-ahead log (`DIR/wal`, group commit, `writer.rs` and
//! `wal.rs`) before committing it to redb without a sync; redb is synced
//! only at periodic checkpoints. Watches are fed from memory after commit
//! and caught up from the log when they fall behind (`watch.rs`).
//!
//! On open, redb rolls back to its last durable commit (repairing its own
//! allocator state first if it was not closed cleanly, which takes longer
//! for a large file) and the write-ahead log records after it are applied
//! again.
//!
//! Start reading at [`EmbeddedStore::open`], then `writer.rs`, `apply.rs`
//! and `wal.rs`.
//!
//! Why not etcd's own code or a ready-made MVCC crate: none exists as a
//! maintained Rust library; redb does the hard part (durable B-trees), and
//! the MVCC layer on top is small enough to read in one sitting.

mod apply;
mod config;
mod lease;
mod read;
mod tables;
mod wal;
mod watch;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use async_trait::async_trait;
use ironclad_store::{
    Error, LeaseGrant, RangeRequest, RangeResponse, Result, Revision, Status, Store, Txn,
    TxnResponse, WatchRequest, WatchStream,
};
use redb::{Database, ReadableDatabase, ReadableTable};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

pub use config::Config;
pub use wal::WAL_FILE;

use crate::apply::Batch;
use crate::lease::Leases;
use crate::tables::{FORMAT_VERSION, LEASES, META, META_FORMAT, META_WAL_SEQ, OrBackend};
use crate::wal::Wal;
use crate::watch::Hub;
use crate::writer::{Request, Writer};

/// The file inside the data directory.
pub const DB_FILE: &str = "store.redb";

/// The embedded store. Cheap to share behind an `Arc`; see the crate docs.
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    path: PathBuf,
    tx: mpsc::UnboundedSender<Request>,
    hub: Arc<Hub>,
    leases: Arc<Leases>,
    compact: Arc<AtomicI64>,
    writer: std::sync::Mutex<Option<JoinHandle<()>>>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for t in self
            .tasks
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            t.abort();
        }
    }
}

impl EmbeddedStore {
    /// Opens (or creates) the store in directory `dir`. Must be called
    /// inside a tokio runtime. Fails with [`Error::UnsupportedFormat`] for a
    /// directory written by a newer ironclad, and with a backend error if
    /// another process has it open.
    pub async fn open(dir: impl AsRef<Path>, config: Config) -> Result<EmbeddedStore> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join(DB_FILE);
        let durable = config.durable;
        let (db, wal, head, compact, leases) = tokio::task::spawn_blocking({
            let path = path.clone();
            move || open_db(&dir, &path, durable)
        })
        .await
        .map_err(|e| Error::Unavailable(format!("opening the store panicked: {e}")))??;
        let db = Arc::new(db);
        let hub = Hub::new(
            db.clone(),
            head,
            tokio::runtime::Handle::current(),
            config.watch_buffer,
        );
        let leases = Arc::new(leases);
        let compact = Arc::new(AtomicI64::new(compact));
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer::new(
            db.clone(),
            hub.clone(),
            leases.clone(),
            compact.clone(),
            config.max_batch.max(1),
            wal,
            config.checkpoint_interval,
        );
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| Error::backend("spawn the store writer", e))?;
        info!(path = %path.display(), revision = head, "embedded store open");
        let inner = Arc::new(Inner {
            tasks: std::sync::Mutex::new(Vec::new()),
            db,
            path,
            tx,
            hub,
            leases,
            compact,
            writer: std::sync::Mutex::new(Some(writer)),
        });
        // Spawned only now: a task started inside the constructor could run
        // before the Arc exists, fail to upgrade its weak reference and quit.
        *inner.tasks.lock().unwrap_or_else(|p| p.into_inner()) =
            background_tasks(Arc::downgrade(&inner), &config);
        Ok(EmbeddedStore { inner })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Stops the writer after it has committed everything queued, and
    /// releases the file, so the directory can be opened again.
    pub async fn close(self) -> Result<()> {
        let handle = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(self);
        if let Some(h) = handle {
            tokio::task::spawn_blocking(move || h.join())
                .await
                .map_err(|e| Error::Unavailable(format!("closing the store: {e}")))?
                .map_err(|_| Error::Unavailable("the store writer panicked".into()))?;
        }
        Ok(())
    }
}

impl Inner {
    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Request,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .map_err(|_| Error::Unavailable("the store is closed".into()))?;
        rx.await
            .map_err(|_| Error::Unavailable("the store writer stopped".into()))?
    }
}

/// Opens the redb file, checks the format, replays the write-ahead log into
/// it, and loads the leases.
fn open_db(
    dir: &Path,
    path: &Path,
    durable: bool,
) -> Result<(Database, Wal, Revision, Revision, Leases)> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::backend(format!("create {}", dir.display()), e))?;
    let db = Database::create(path).map_err(|e| match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::Unavailable(format!(
            "{} is already open in another process",
            path.display()
        )),
        redb::DatabaseError::UpgradeRequired(v) => Error::UnsupportedFormat {
            path: path.display().to_string(),
            found: u64::from(v),
            supported: FORMAT_VERSION,
        },
        e => Error::backend(format!("open {}", path.display()), e),
    })?;
    let wtx = db.begin_write().or_backend("begin write")?;
    let (fresh, wal_seq) = {
        let mut meta = wtx.open_table(META).or_backend("open meta")?;
        let found = meta
            .get(META_FORMAT)
            .or_backend("read format")?
            .map(|v| v.value());
        let wal_seq = meta
            .get(META_WAL_SEQ)
            .or_backend("read wal seq")?
            .map_or(0, |v| v.value());
        match found {
            Some(v) if v > FORMAT_VERSION => {
                return Err(Error::UnsupportedFormat {
                    path: path.display().to_string(),
                    found: v,
                    supported: FORMAT_VERSION,
                });
            }
            Some(FORMAT_VERSION) => {}
            // Older files gain the log; stamp them so an older build, which
            // would ignore the log, refuses them.
            Some(_) | None => {
                meta.insert(META_FORMAT, FORMAT_VERSION)
                    .or_backend("write format")?;
            }
        }
        drop(meta);
        // Create every table so readers never meet a missing one.
        drop(wtx.open_table(tables::LOG).or_backend("open log")?);
        drop(wtx.open_table(tables::HISTORY).or_backend("open history")?);
        drop(wtx.open_table(tables::CURRENT).or_backend("open current")?);
        drop(
            wtx.open_table(tables::LEASE_KEYS)
                .or_backend("open lease keys")?,
        );
        let leases = wtx.open_table(LEASES).or_backend("open leases")?;
        drop(leases);
        (found.is_none(), wal_seq)
    };
    let mut wal = Wal::open(dir, durable)?;
    // A fresh database has never had a durable commit, so nothing can have
    // been acknowledged against it: a log found next to it belongs to some
    // earlier database and must not be applied.
    let records = if fresh {
        Vec::new()
    } else {
        wal.replay(wal_seq)?
    };
    let mut last = wal_seq;
    if !records.is_empty() {
        let mut b = Batch::open(&wtx)?;
        let n = records.len();
        for (seq, payload) in records {
            for m in wal::decode(&payload)? {
                b.replay(m)?;
            }
            last = seq;
        }
        b.set_wal_seq(last)?;
        info!(
            records = n,
            revision = b.head,
            "replayed the write-ahead log"
        );
        b.finish()?;
    }
    // Durable (the default), so the log can start over after it.
    wtx.commit().or_backend("commit format")?;
    wal.reset(last);
    let rtx = db.begin_read().or_backend("begin read")?;
    let (head, compact) = read::revisions(&rtx)?;
    let leases = Leases::default();
    for entry in rtx
        .open_table(LEASES)
        .or_backend("open leases")?
        .iter()
        .or_backend("scan leases")?
    {
        let (id, ttl) = entry.or_backend("scan leases")?;
        leases.insert(id.value(), ttl.value());
    }
    drop(rtx);
    Ok((db, wal, head, compact, leases))
}

/// Lease expiry, automatic compaction and progress notifications. They hold
/// only a weak reference, so dropping the store stops them.
fn background_tasks(weak: Weak<Inner>, config: &Config) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let w = weak.clone();
    let every = config.lease_check_interval;
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let Some(inner) = w.upgrade() else { return };
            for id in inner.leases.take_expired() {
                let _ = inner.tx.send(Request::LeaseRevoke {
                    id,
                    expired_only: true,
                    reply: None,
                });
            }
        }
    }));
    let w = weak.clone();
    let every = config.progress_interval;
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(inner) = w.upgrade() else { return };
            inner.hub.notify_progress();
        }
    }));
    if let Some(retain) = config.retain_revisions {
        let every = config.compaction_interval;
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let store = EmbeddedStore { inner };
                let Ok(status) = store.status().await else {
                    continue;
                };
                let target = status.revision - retain;
                if target > status.compact_revision
                    && let Err(e) = store.compact(target).await
                {
                    warn!(error = %e, target, "automatic compaction failed");
                }
            }
        }));
    }
    tasks
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        let rtx = self.inner.db.begin_read().or_backend("begin read")?;
        read::range(&rtx, &req)
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        self.inner.request(|tx| Request::Txn(txn, tx)).await
    }

    async fn watch(&self, req: WatchRequest) -> Result<WatchStream> {
        self.inner
            .hub
            .watch(req, self.inner.compact.load(Ordering::SeqCst))
    }

    async fn lease_grant(&self, ttl: i64) -> Result<LeaseGrant> {
        let id = self
            .inner
            .request(|tx| Request::LeaseGrant(ttl, tx))
            .await?;
        Ok(LeaseGrant { id, ttl })
    }

    async fn lease_keep_alive(&self, id: i64) -> Result<i64> {
        self.inner.leases.keep_alive(id)
    }

    async fn lease_revoke(&self, id: i64) -> Result<()> {
        self.inner
            .request(|tx| Request::LeaseRevoke {
                id,
                expired_only: false,
                reply: Some(tx),
            })
            .await
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.inner
            .request(|tx| Request::Compact(revision, tx))
            .await
    }

    async fn status(&self) -> Result<Status> {
        let rtx = self.inner.db.begin_read().or_backend("begin read")?;
        let (revision, compact_revision) = read::revisions(&rtx)?;
        let db_size = std::fs::metadata(&self.inner.path)
            .map(|m| m.len())
            .unwrap_or(0);
        Ok(Status {
            revision,
            compact_revision,
            db_size,
        })
    }
}

//! [`EtcdStore`]: the [`Store`] trait served by an etcd v3 cluster.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use ironclad_store::{
    DeleteResponse, Error, KeyRange, LeaseGrant, Op, PutResponse, RangeRequest, RangeResponse,
    Result, Revision, Status, Store, Txn, TxnResponse, WatchRequest, WatchStream, check_value_size,
};

use crate::convert::{
    delete_options, get_options, header_revision, kv_owned, put_options, range_response,
    txn_leases, txn_may_write, txn_request, txn_response,
};
use crate::error::{Failure, with_retry};

/// Largest gRPC message accepted from etcd. tonic's default (4 MiB) is less
/// than one range over three maximum-size values; etcd itself sends up to
/// `i32::MAX` bytes.
const MAX_MESSAGE_BYTES: usize = 0x7fff_ffff;

/// How fast a new connection to a member gives up; loopback and LAN members
/// answer in far less, and a dead one should be skipped quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// HTTP/2 keep-alive: notices a member that stopped answering (hung,
/// partitioned) without the kernel closing the connection.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The key read to learn the store's revision or test a revision against
/// compaction. Reads are count-only, so whatever it holds is never fetched.
const PROBE_KEY: &[u8] = b"\0";

/// What every clone of an [`EtcdStore`] and every watch shares.
pub(crate) struct Inner {
    pub(crate) kv: etcd_client::KvClient,
    pub(crate) watch: etcd_client::WatchClient,
    lease: etcd_client::LeaseClient,
    maintenance: etcd_client::MaintenanceClient,
    /// The highest compaction point seen: compacted through this client,
    /// or learned from a compacted read or watch. etcd's compaction point
    /// only grows, so this is a lower bound of the real one.
    compact_floor: AtomicI64,
    endpoints: Vec<String>,
}

impl Inner {
    pub(crate) fn note_compaction(&self, revision: Revision) {
        self.compact_floor.fetch_max(revision, Ordering::Relaxed);
    }

    /// Reads [`PROBE_KEY`] count-only at `revision` (0 for current) and
    /// returns the store's revision from the answer's header.
    async fn probe(&self, revision: Revision) -> Result<Revision, Failure> {
        let mut opts = etcd_client::GetOptions::new().with_count_only();
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let resp = with_retry(true, || {
            let (mut kv, opts) = (self.kv.clone(), opts.clone());
            async move { kv.get(PROBE_KEY, Some(opts)).await }
        })
        .await?;
        header_revision(resp.header()).map_err(Failure::Store)
    }

    /// The store's current revision (a linearizable read, so it covers
    /// every write acknowledged before the call, whichever member answers).
    pub(crate) async fn current_revision(&self) -> Result<Revision> {
        self.probe(0).await.map_err(Failure::into_error)
    }

    /// The compaction point, knowing that reading at `compacted` fails.
    ///
    /// etcd (3.4 and 3.5) reports its compaction point nowhere but in a
    /// watch cancelled for compaction, and a compacted read says only
    /// "compacted". A read at `r` succeeds exactly when `r` is at or above
    /// the compaction point, so this tries the known floor first (exact
    /// whenever this client did the compaction) and otherwise binary
    /// searches up to the current revision: a handful of count-only reads,
    /// paid only on the error path.
    pub(crate) async fn compaction_point_above(
        &self,
        compacted: Revision,
    ) -> Result<(Revision, Revision)> {
        let current = self.current_revision().await?;
        let mut lo = (compacted + 1).max(self.compact_floor.load(Ordering::Relaxed));
        let mut hi = current;
        if lo >= hi {
            self.note_compaction(hi);
            return Ok((hi, current));
        }
        // The floor is usually exact: test it before searching.
        match self.probe(lo).await {
            Ok(_) => hi = lo,
            Err(Failure::Compacted) => lo += 1,
            Err(f) => return Err(f.into_error()),
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.probe(mid).await {
                Ok(_) => hi = mid,
                Err(Failure::Compacted) => lo = mid + 1,
                Err(f) => return Err(f.into_error()),
            }
        }
        self.note_compaction(lo);
        Ok((lo, current))
    }

    /// The store error for a failed read or write that asked for revision
    /// `requested` (0 when it named none).
    pub(crate) async fn revision_error(&self, failure: Failure, requested: Revision) -> Error {
        match failure {
            Failure::Compacted => match self.compaction_point_above(requested).await {
                Ok((compact_revision, _)) => Error::Compacted {
                    requested,
                    compact_revision,
                },
                Err(e) => e,
            },
            Failure::FutureRevision => match self.current_revision().await {
                Ok(current) => Error::FutureRevision { requested, current },
                Err(e) => e,
            },
            other => other.into_error(),
        }
    }

    /// Which of `leases` etcd does not know, for a "lease not found" that
    /// does not say. One lease needs no question; several are asked about.
    async fn missing_lease(&self, leases: &[i64]) -> i64 {
        if let [only] = leases {
            return *only;
        }
        for &id in leases {
            let mut lease = self.lease.clone();
            let ttl = lease.time_to_live(id, None).await.map(|r| r.ttl());
            if matches!(ttl, Ok(t) if t < 0) {
                return id;
            }
        }
        leases.first().copied().unwrap_or(0)
    }
}

/// A [`Store`] on an etcd v3 cluster, through `etcd-client`.
///
/// Cheap to clone; clones share the connections. Give it every member's
/// client URL: calls are balanced across members, and a call that finds its
/// member dead is sent to another (see [`EtcdStore::connect`] for which
/// calls are retried).
#[derive(Clone)]
pub struct EtcdStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.inner.endpoints)
            .field(
                "compact_floor",
                &self.inner.compact_floor.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// Connects to an etcd cluster given its members' client URLs
    /// (`http://host:port`) and checks that it answers.
    ///
    /// Connections are opened lazily and re-opened when they break. Reads,
    /// lease renewals and watch (re)creation are retried on transient
    /// failures for up to 15 s; writes only when the failure proves they
    /// had no effect (the call never reached a member, or etcd refused it
    /// for having no leader), since re-sending a write whose answer was lost
    /// could apply it twice. Requests require a leader, so a member cut off
    /// from the others fails fast instead of hanging.
    ///
    /// Fails with [`Error::InvalidRequest`] for no or malformed endpoints and
    /// [`Error::Unavailable`] when no member answers within the retry time.
    pub async fn connect(endpoints: &[String]) -> Result<EtcdStore> {
        if endpoints.is_empty() {
            return Err(Error::InvalidRequest("no etcd endpoints given".into()));
        }
        let options = etcd_client::ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_keep_alive(KEEP_ALIVE_INTERVAL, KEEP_ALIVE_TIMEOUT)
            .with_keep_alive_while_idle(true)
            .with_require_leader(true);
        let client = etcd_client::Client::connect(endpoints, Some(options))
            .await
            .map_err(|e| Failure::from(e).into_error())?;
        let inner = Inner {
            kv: client
                .kv_client()
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            watch: client
                .watch_client()
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            lease: client.lease_client(),
            maintenance: client.maintenance_client(),
            compact_floor: AtomicI64::new(0),
            endpoints: endpoints.to_vec(),
        };
        inner.current_revision().await?;
        Ok(EtcdStore {
            inner: Arc::new(inner),
        })
    }

    /// The client URLs this store was given.
    pub fn endpoints(&self) -> &[String] {
        &self.inner.endpoints
    }
}

fn empty_key() -> Error {
    Error::InvalidRequest("empty key".into())
}

/// The revisions the range ops of a transaction read at, lowest and
/// highest (0 when none names one): the context for a compacted or
/// future-revision failure of the whole transaction.
fn txn_read_revisions(txn: &Txn) -> (Revision, Revision) {
    let revs = txn
        .success
        .iter()
        .chain(&txn.failure)
        .filter_map(|op| match op {
            Op::Range(r) if r.effective_revision() > 0 => Some(r.effective_revision()),
            _ => None,
        });
    revs.fold((0, 0), |(lo, hi), r| {
        (if lo == 0 { r } else { lo.min(r) }, hi.max(r))
    })
}

#[async_trait]
impl Store for EtcdStore {
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        req.range.validate()?;
        let (key, opts) = get_options(&req);
        let resp = with_retry(true, || {
            let (mut kv, key, opts) = (self.inner.kv.clone(), key.clone(), opts.clone());
            async move { kv.get(key, Some(opts)).await }
        })
        .await;
        match resp {
            Ok(resp) => {
                let revision = header_revision(resp.header())?;
                Ok(range_response(resp, revision))
            }
            Err(f) => Err(self.inner.revision_error(f, req.effective_revision()).await),
        }
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        let leases = txn_leases(&txn);
        let may_write = txn_may_write(&txn);
        let (oldest_read, newest_read) = txn_read_revisions(&txn);
        let req = txn_request(txn)?;
        let resp = with_retry(!may_write, || {
            let (mut kv, req) = (self.inner.kv.clone(), req.clone());
            async move { kv.txn(req).await }
        })
        .await;
        match resp {
            Ok(resp) => txn_response(resp),
            Err(Failure::LeaseNotFound) => Err(Error::LeaseNotFound(
                self.inner.missing_lease(&leases).await,
            )),
            Err(f @ Failure::Compacted) => Err(self.inner.revision_error(f, oldest_read).await),
            Err(f) => Err(self.inner.revision_error(f, newest_read).await),
        }
    }

    async fn watch(&self, req: WatchRequest) -> Result<WatchStream> {
        crate::watch::open(self.inner.clone(), req).await
    }

    async fn lease_grant(&self, ttl: i64) -> Result<LeaseGrant> {
        if ttl < 1 {
            return Err(Error::InvalidRequest(format!(
                "lease TTL {ttl} is under 1 second"
            )));
        }
        let resp = with_retry(false, || {
            let mut lease = self.inner.lease.clone();
            async move { lease.grant(ttl, None).await }
        })
        .await
        .map_err(Failure::into_error)?;
        if !resp.error().is_empty() {
            return Err(Error::Backend {
                message: format!("etcd refused the lease: {}", resp.error()),
                source: None,
            });
        }
        Ok(LeaseGrant {
            id: resp.id(),
            ttl: resp.ttl(),
        })
    }

    async fn lease_keep_alive(&self, id: i64) -> Result<i64> {
        // etcd-client's keep_alive makes one round trip but keeps its TTL to
        // itself; a second renewal on the same stream reports it.
        let ttl = with_retry(true, || {
            let mut lease = self.inner.lease.clone();
            async move {
                let (mut keeper, mut answers) = lease.keep_alive(id).await?;
                keeper.keep_alive().await?;
                Ok(answers.message().await?.map(|a| a.ttl()))
            }
        })
        .await;
        match ttl {
            Ok(Some(ttl)) if ttl > 0 => Ok(ttl),
            // etcd answers TTL 0 for a lease it does not have.
            Ok(Some(_)) | Err(Failure::LeaseNotFound) => Err(Error::LeaseNotFound(id)),
            Ok(None) => Err(Error::Unavailable(
                "etcd closed the lease keep-alive stream".into(),
            )),
            Err(f) => Err(f.into_error()),
        }
    }

    async fn lease_revoke(&self, id: i64) -> Result<()> {
        let resp = with_retry(false, || {
            let mut lease = self.inner.lease.clone();
            async move { lease.revoke(id).await }
        })
        .await;
        match resp {
            Ok(_) => Ok(()),
            Err(Failure::LeaseNotFound) => Err(Error::LeaseNotFound(id)),
            Err(f) => Err(f.into_error()),
        }
    }

    /// Physical compaction: the call returns once etcd has removed the old
    /// history, so reads below `revision` fail from then on. Compacting at
    /// or below the current compaction point fails with
    /// [`Error::Compacted`], as etcd does.
    async fn compact(&self, revision: Revision) -> Result<()> {
        if revision < 1 {
            return Err(Error::InvalidRequest(format!(
                "cannot compact at revision {revision}"
            )));
        }
        let resp = with_retry(false, || {
            let mut kv = self.inner.kv.clone();
            let opts = etcd_client::CompactionOptions::new().with_physical();
            async move { kv.compact(revision, Some(opts)).await }
        })
        .await;
        match resp {
            Ok(_) => {
                self.inner.note_compaction(revision);
                Ok(())
            }
            // etcd refuses `revision <= compaction point`, i.e. a read at
            // `revision - 1` is compacted.
            Err(Failure::Compacted) => {
                match self.inner.compaction_point_above(revision - 1).await {
                    Ok((compact_revision, _)) => Err(Error::Compacted {
                        requested: revision,
                        compact_revision,
                    }),
                    Err(e) => Err(e),
                }
            }
            Err(f) => Err(self.inner.revision_error(f, revision).await),
        }
    }

    /// `revision` is linearizable. `compact_revision` is the highest
    /// compaction point this client knows of (its own compactions, and any
    /// compacted read or watch it saw), confirmed against etcd with one
    /// read at that revision; when the read fails, someone compacted
    /// further and the point is searched for (see
    /// `Inner::compaction_point_above`). It is 0 when nobody compacted.
    /// `db_size` is the answering member's.
    async fn status(&self) -> Result<Status> {
        let floor = self.inner.compact_floor.load(Ordering::Relaxed);
        let member_status = with_retry(true, || {
            let mut m = self.inner.maintenance.clone();
            async move { m.status().await }
        });
        let (probe, member_status) = tokio::join!(self.inner.probe(floor.max(1)), member_status);
        let db_size = member_status
            .map_err(Failure::into_error)
            .map(|s| u64::try_from(s.db_size()).unwrap_or(0))?;
        let (revision, compact_revision) = match probe {
            Ok(revision) => (revision, floor),
            Err(Failure::Compacted) => {
                let (point, current) = self.inner.compaction_point_above(floor.max(1)).await?;
                (current, point)
            }
            Err(f) => return Err(f.into_error()),
        };
        Ok(Status {
            revision,
            compact_revision,
            db_size,
        })
    }

    async fn put(&self, key: &[u8], value: &[u8]) -> Result<PutResponse> {
        if key.is_empty() {
            return Err(empty_key());
        }
        check_value_size(key, value)?;
        let opts = put_options(0, true);
        let mut resp = with_retry(false, || {
            let (mut kv, opts) = (self.inner.kv.clone(), opts.clone());
            let (key, value) = (key.to_vec(), value.to_vec());
            async move { kv.put(key, value, Some(opts)).await }
        })
        .await
        .map_err(Failure::into_error)?;
        let revision = header_revision(resp.header())?;
        Ok(PutResponse {
            revision,
            prev_kv: resp.take_prev_key().map(kv_owned),
        })
    }

    async fn delete(&self, range: KeyRange) -> Result<DeleteResponse> {
        range.validate()?;
        let (key, opts) = delete_options(&range, false);
        let mut resp = with_retry(false, || {
            let (mut kv, key, opts) = (self.inner.kv.clone(), key.clone(), opts.clone());
            async move { kv.delete(key, Some(opts)).await }
        })
        .await
        .map_err(Failure::into_error)?;
        let revision = header_revision(resp.header())?;
        Ok(DeleteResponse {
            revision,
            deleted: resp.deleted(),
            prev_kvs: resp.take_prev_kvs().into_iter().map(kv_owned).collect(),
        })
    }
}

//! Applying requests inside one redb write transaction: transactions with
//! their compares, lease grants and revocations, compaction. Everything
//! here runs on the writer thread; nothing is visible to readers until the
//! batch commits.

use std::collections::HashSet;

use bytes::Bytes;
use ironclad_store::{
    DeleteResponse, Error, Event, EventKind, KeyRange, KeyValue, Op, OpResponse, PutResponse,
    RangeRequest, Result, Revision, Txn, TxnResponse, check_value_size,
};
use redb::{ReadableTable, Table, WriteTransaction};

use crate::read::range_current;
use crate::tables::{
    CURRENT, CurrentRow, HISTORY, LEASE_KEYS, LEASES, LOG, LogRow, META, META_COMPACT,
    META_LEASE_SEQ, META_REVISION, META_WAL_SEQ, OrBackend, current_kv, meta_revisions,
};
use crate::wal::Mutation;

/// The open tables of one batch, and what the batch has done so far.
pub(crate) struct Batch<'t> {
    meta: Table<'t, &'static str, u64>,
    log: Table<'t, (i64, u32), LogRow>,
    history: Table<'t, (&'static [u8], i64, u32), ()>,
    current: Table<'t, &'static [u8], CurrentRow>,
    leases: Table<'t, i64, i64>,
    lease_keys: Table<'t, (i64, &'static [u8]), ()>,
    /// The head revision including this batch's writes.
    pub head: Revision,
    /// The compaction point including this batch's compaction.
    pub compact: Revision,
    /// Every change of the batch, in revision order, with previous values.
    pub events: Vec<Event>,
    /// Leases granted in this batch: `(id, ttl)`.
    pub granted: Vec<(i64, i64)>,
    /// Leases revoked in this batch.
    pub revoked: HashSet<i64>,
}

/// One revision being written: its number and the next sub-revision.
struct Rev {
    rev: Revision,
    sub: u32,
}

impl<'t> Batch<'t> {
    /// Opens the tables of a write transaction.
    pub fn open(wtx: &'t WriteTransaction) -> Result<Self> {
        let meta = wtx.open_table(META).or_backend("open meta")?;
        let (head, compact) = meta_revisions(&meta)?;
        Ok(Batch {
            meta,
            log: wtx.open_table(LOG).or_backend("open log")?,
            history: wtx.open_table(HISTORY).or_backend("open history")?,
            current: wtx.open_table(CURRENT).or_backend("open current")?,
            leases: wtx.open_table(LEASES).or_backend("open leases")?,
            lease_keys: wtx.open_table(LEASE_KEYS).or_backend("open lease keys")?,
            head,
            compact,
            events: Vec::new(),
            granted: Vec::new(),
            revoked: HashSet::new(),
        })
    }

    /// Records the head and compaction point; call once before commit.
    pub fn finish(mut self) -> Result<()> {
        self.meta
            .insert(META_REVISION, self.head as u64)
            .or_backend("write revision")?;
        self.meta
            .insert(META_COMPACT, self.compact as u64)
            .or_backend("write compaction")?;
        Ok(())
    }

    /// Records that this transaction contains write-ahead log records up to
    /// `seq`, so a reopen replays only the later ones.
    pub fn set_wal_seq(&mut self, seq: u64) -> Result<()> {
        self.meta
            .insert(META_WAL_SEQ, seq)
            .or_backend("write wal seq")?;
        Ok(())
    }

    /// Applies a mutation read back from the write-ahead log. It was
    /// validated and succeeded when first applied, to the same state, so
    /// any error here means the log and the database disagree.
    pub fn replay(&mut self, m: Mutation) -> Result<()> {
        match m {
            Mutation::Txn(ops) => {
                self.txn(Txn {
                    compare: Vec::new(),
                    success: ops,
                    failure: Vec::new(),
                })?;
            }
            Mutation::LeaseGrant(ttl) => {
                self.lease_grant(ttl)?;
            }
            Mutation::LeaseRevoke(id) => self.lease_revoke(id)?,
            Mutation::Compact(rev) => self.compact(rev)?,
        }
        Ok(())
    }

    // === transactions ===

    /// Checks a transaction can run without writing anything: keys,
    /// sizes, leases, no key written twice.
    pub fn validate(&self, txn: &Txn, lease_exists: impl Fn(i64) -> bool) -> Result<()> {
        for ops in [&txn.success, &txn.failure] {
            let mut puts = HashSet::new();
            for op in ops.iter() {
                match op {
                    Op::Put {
                        key, value, lease, ..
                    } => {
                        if key.is_empty() {
                            return Err(Error::InvalidRequest("empty key".into()));
                        }
                        check_value_size(key, value)?;
                        if *lease != 0 && (!lease_exists(*lease) || self.revoked.contains(lease)) {
                            return Err(Error::LeaseNotFound(*lease));
                        }
                        if !puts.insert(key.clone()) {
                            return Err(Error::InvalidRequest(format!(
                                "key {:?} written twice in one transaction",
                                String::from_utf8_lossy(key)
                            )));
                        }
                    }
                    Op::Delete { range, .. } => range.validate()?,
                    Op::Range(r) => r.range.validate()?,
                }
            }
            for op in ops.iter() {
                if let Op::Delete { range, .. } = op
                    && puts.iter().any(|k| range.contains(k))
                {
                    return Err(Error::InvalidRequest(
                        "a key is both put and deleted in one transaction".into(),
                    ));
                }
            }
        }
        for c in &txn.compare {
            if c.key.is_empty() {
                return Err(Error::InvalidRequest("empty key in compare".into()));
            }
        }
        Ok(())
    }

    /// Runs a validated transaction.
    pub fn txn(&mut self, txn: Txn) -> Result<TxnResponse> {
        let mut succeeded = true;
        for c in &txn.compare {
            if !c.holds(self.current_kv(&c.key)?.as_ref()) {
                succeeded = false;
                break;
            }
        }
        let ops = if succeeded { txn.success } else { txn.failure };
        let mut rev: Option<Rev> = None;
        let mut responses = Vec::with_capacity(ops.len());
        for op in ops {
            responses.push(match op {
                Op::Put {
                    key,
                    value,
                    lease,
                    prev_kv,
                } => {
                    let prev = self.put(&mut rev, &key, &value, lease)?;
                    OpResponse::Put(PutResponse {
                        revision: self.head,
                        prev_kv: prev.filter(|_| prev_kv),
                    })
                }
                Op::Delete { range, prev_kv } => {
                    let prevs = self.delete_range(&mut rev, &range)?;
                    OpResponse::Delete(DeleteResponse {
                        revision: self.head,
                        deleted: prevs.len() as i64,
                        prev_kvs: if prev_kv { prevs } else { Vec::new() },
                    })
                }
                Op::Range(req) => OpResponse::Range(self.range(&req)?),
            });
        }
        Ok(TxnResponse {
            succeeded,
            revision: self.head,
            responses,
        })
    }

    /// A read inside the batch: sees the batch's own writes.
    fn range(&self, req: &RangeRequest) -> Result<ironclad_store::RangeResponse> {
        if req.effective_revision() != 0 && req.effective_revision() != self.head {
            return Err(Error::InvalidRequest(
                "a range inside a transaction reads its own revision".into(),
            ));
        }
        range_current(&self.current, req, self.head)
    }

    fn current_kv(&self, key: &[u8]) -> Result<Option<KeyValue>> {
        let row = self.current.get(key).or_backend("read current")?;
        Ok(row.map(|r| current_kv(key, r.value(), false)))
    }

    /// Takes the next revision on the first change of a transaction.
    fn next_sub(&mut self, rev: &mut Option<Rev>) -> (Revision, u32) {
        let r = rev.get_or_insert_with(|| {
            self.head += 1;
            Rev {
                rev: self.head,
                sub: 0,
            }
        });
        let sub = r.sub;
        r.sub += 1;
        (r.rev, sub)
    }

    fn put(
        &mut self,
        rev: &mut Option<Rev>,
        key: &[u8],
        value: &[u8],
        lease: i64,
    ) -> Result<Option<KeyValue>> {
        let prev = self.current_kv(key)?;
        let (r, sub) = self.next_sub(rev);
        let (create, version) = prev
            .as_ref()
            .map_or((r, 1), |p| (p.create_revision, p.version + 1));
        self.log
            .insert((r, sub), (key, create, version, lease, value, false))
            .or_backend("append log")?;
        self.history
            .insert((key, r, sub), ())
            .or_backend("index history")?;
        self.current
            .insert(key, (r, create, version, lease, value))
            .or_backend("write current")?;
        let prev_lease = prev.as_ref().map_or(0, |p| p.lease);
        if prev_lease != 0 && prev_lease != lease {
            self.lease_keys
                .remove((prev_lease, key))
                .or_backend("detach lease")?;
        }
        if lease != 0 {
            self.lease_keys
                .insert((lease, key), ())
                .or_backend("attach lease")?;
        }
        self.events.push(Event {
            kind: EventKind::Put,
            kv: KeyValue {
                key: Bytes::copy_from_slice(key),
                value: Bytes::copy_from_slice(value),
                create_revision: create,
                mod_revision: r,
                version,
                lease,
            },
            prev_kv: prev.clone(),
        });
        Ok(prev)
    }

    fn delete_range(&mut self, rev: &mut Option<Rev>, range: &KeyRange) -> Result<Vec<KeyValue>> {
        let all = RangeRequest::new(range.clone());
        let prevs = range_current(&self.current, &all, self.head)?.kvs;
        for prev in &prevs {
            self.delete_key(rev, prev)?;
        }
        Ok(prevs)
    }

    fn delete_key(&mut self, rev: &mut Option<Rev>, prev: &KeyValue) -> Result<()> {
        let key: &[u8] = &prev.key;
        let (r, sub) = self.next_sub(rev);
        self.log
            .insert((r, sub), (key, 0, 0, 0, &[][..], true))
            .or_backend("append log")?;
        self.history
            .insert((key, r, sub), ())
            .or_backend("index history")?;
        self.current.remove(key).or_backend("delete current")?;
        if prev.lease != 0 {
            self.lease_keys
                .remove((prev.lease, key))
                .or_backend("detach lease")?;
        }
        self.events.push(Event {
            kind: EventKind::Delete,
            kv: KeyValue {
                key: prev.key.clone(),
                mod_revision: r,
                ..KeyValue::default()
            },
            prev_kv: Some(prev.clone()),
        });
        Ok(())
    }

    // === leases ===

    /// Grants a lease with a new ID.
    pub fn lease_grant(&mut self, ttl: i64) -> Result<i64> {
        if ttl < 1 {
            return Err(Error::InvalidRequest(format!(
                "lease TTL must be at least 1 second, not {ttl}"
            )));
        }
        let seq = self
            .meta
            .get(META_LEASE_SEQ)
            .or_backend("read lease seq")?
            .map_or(0, |v| v.value())
            + 1;
        self.meta
            .insert(META_LEASE_SEQ, seq)
            .or_backend("write lease seq")?;
        // Spread IDs over the space like etcd's, so they are not mistaken for
        // small counters, while staying unique across restarts.
        let id = ((seq as i64) << 16 | 0x1cad) & i64::MAX;
        self.leases.insert(id, ttl).or_backend("write lease")?;
        self.granted.push((id, ttl));
        Ok(id)
    }

    /// Revokes a lease, deleting its keys at one revision.
    pub fn lease_revoke(&mut self, id: i64) -> Result<()> {
        if self.leases.remove(id).or_backend("remove lease")?.is_none() {
            return Err(Error::LeaseNotFound(id));
        }
        let mut keys = Vec::new();
        for entry in self
            .lease_keys
            .range((id, &[][..])..(id + 1, &[][..]))
            .or_backend("scan lease keys")?
        {
            let (k, _) = entry.or_backend("scan lease keys")?;
            keys.push(Bytes::copy_from_slice(k.value().1));
        }
        let mut rev = None;
        for key in keys {
            if let Some(prev) = self.current_kv(&key)? {
                self.delete_key(&mut rev, &prev)?;
            }
        }
        self.revoked.insert(id);
        Ok(())
    }

    // === compaction ===

    /// Drops history before `rev`, keeping the latest value of each key at
    /// `rev` so that reads at `rev` and later stay exact.
    pub fn compact(&mut self, rev: Revision) -> Result<()> {
        if rev <= self.compact {
            return Err(Error::Compacted {
                requested: rev,
                compact_revision: self.compact,
            });
        }
        if rev > self.head {
            return Err(Error::FutureRevision {
                requested: rev,
                current: self.head,
            });
        }
        let mut doomed: Vec<(i64, u32, Vec<u8>)> = Vec::new();
        for entry in self.log.range(..(rev, 0)).or_backend("scan log")? {
            let (k, v) = entry.or_backend("scan log")?;
            let (r, sub) = k.value();
            let (key, _, _, _, _, deleted) = v.value();
            let mut later = self
                .history
                .range((key, r, sub)..)
                .or_backend("scan history")?;
            later.next(); // this entry itself
            let superseded = match later.next() {
                Some(next) => {
                    let (guard, _) = next.or_backend("scan history")?;
                    let (nk, nr, _) = guard.value();
                    nk == key && nr <= rev
                }
                None => false,
            };
            if superseded || deleted {
                doomed.push((r, sub, key.to_vec()));
            }
        }
        for (r, sub, key) in &doomed {
            self.log.remove((*r, *sub)).or_backend("compact log")?;
            self.history
                .remove((key.as_slice(), *r, *sub))
                .or_backend("compact history")?;
        }
        self.compact = rev;
        Ok(())
    }
}

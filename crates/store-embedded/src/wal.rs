//! The write-ahead log: why a write batch costs one small sequential append
//! and one `fdatasync` instead of a durable redb commit (which rewrites and
//! syncs B-tree pages and its header, several syncs per commit).
//!
//! One file, `DIR/wal`, zero-filled ahead of the write position so that an
//! `fdatasync` after an append only flushes the data, never extent metadata.
//! Records are `[len u32][crc32 u32 over seq+payload][seq u64][payload]`,
//! little-endian, written back to back from offset 0.
//!
//! The writer appends each batch's *applied* mutations (see [`Mutation`]),
//! syncs, and only then commits the batch to redb without a sync, so redb
//! never shows a reader anything the log does not hold durably. Every so
//! often a batch is committed to redb durably instead (a checkpoint); redb
//! then holds everything, the meta table remembers the last record's
//! sequence number (`wal_seq`), and the log starts over at offset 0. Stale
//! records after the new ones are never replayed because their sequence
//! numbers are older; a torn record at the tail fails its CRC.
//!
//! On open, redb rolls back to its last durable commit, and the records
//! after its `wal_seq` are applied again through the same code
//! (`apply.rs`): they hold only mutations whose outcome depends on nothing
//! but the state they are applied to, so replay is deterministic.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;
use ironclad_store::{Error, KeyRange, Op, Result, Revision};

/// The log file inside the data directory.
pub const WAL_FILE: &str = "wal";

/// The most the log grows to before a checkpoint must start it over.
pub(crate) const WAL_MAX: u64 = 64 << 20;

/// How far ahead of the write position the file is zero-filled at a time.
/// Small, so that opening a store (every test opens many) stays cheap; the
/// log rarely outgrows it between checkpoints.
const ZERO_CHUNK: u64 = 4 << 20;

/// Bytes before each record's payload: len, crc, seq.
pub(crate) const HEADER: usize = 16;

/// The write-ahead log of one store. Only the writer thread touches it.
pub(crate) struct Wal {
    file: File,
    /// Where the next record goes.
    offset: u64,
    /// Everything before this is zero-filled (or records) and allocated.
    zeroed: u64,
    /// The sequence number of the last record written (or, after a
    /// checkpoint, the one redb has).
    last_seq: u64,
    /// `fdatasync` after every append; off only for throwaway stores.
    sync: bool,
}

impl Wal {
    /// Opens or creates the log in `dir`, zero-filling its first chunk.
    /// Call [`Wal::replay`] next, then [`Wal::reset`].
    pub fn open(dir: &Path, sync: bool) -> Result<Wal> {
        let path = dir.join(WAL_FILE);
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::backend(format!("open {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::backend(format!("stat {}", path.display()), e))?
            .len();
        let mut wal = Wal {
            file,
            offset: 0,
            // Whatever the file already holds counts as allocated: an old
            // log's tail is either records or zeros.
            zeroed: len,
            last_seq: 0,
            sync,
        };
        wal.zero_fill(ZERO_CHUNK)
            .map_err(|e| Error::backend(format!("preallocate {}", path.display()), e))?;
        if created && sync {
            // Make the new directory entry durable, or a crash could lose
            // the whole log after records were acknowledged.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::backend(format!("sync {}", dir.display()), e))?;
        }
        Ok(wal)
    }

    /// Makes sure the file is allocated and zeroed up to `end`.
    fn zero_fill(&mut self, end: u64) -> io::Result<()> {
        let end = end.min(WAL_MAX);
        if self.zeroed >= end {
            return Ok(());
        }
        if !self.sync {
            // Throwaway store: a sparse file is enough.
            self.file.set_len(end)?;
            self.zeroed = end;
            return Ok(());
        }
        let zeros = vec![0u8; 1 << 20];
        let mut at = self.zeroed;
        while at < end {
            let n = (end - at).min(zeros.len() as u64) as usize;
            self.file.write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        // Size and extents change here, once, so later appends need only
        // a data sync.
        self.file.sync_all()?;
        self.zeroed = end;
        Ok(())
    }

    /// The records after `after`, in order: those redb does not have yet.
    /// Stops at the first record that is torn, corrupt, zero, stale (from
    /// before the last reset) or out of sequence.
    pub fn replay(&self, after: u64) -> Result<Vec<(u64, Bytes)>> {
        let len = self
            .file
            .metadata()
            .map_err(|e| Error::backend("stat the write-ahead log", e))?
            .len();
        let mut records = Vec::new();
        let mut offset = 0u64;
        let mut expect = after + 1;
        let mut header = [0u8; HEADER];
        while offset + HEADER as u64 <= len {
            self.file
                .read_exact_at(&mut header, offset)
                .map_err(|e| Error::backend("read the write-ahead log", e))?;
            let (n, crc, seq) = parse_header(&header);
            let end = offset + HEADER as u64 + u64::from(n);
            if n == 0 || end > len || seq != expect {
                break;
            }
            let mut payload = vec![0u8; n as usize];
            self.file
                .read_exact_at(&mut payload, offset + HEADER as u64)
                .map_err(|e| Error::backend("read the write-ahead log", e))?;
            if record_crc(seq, &payload) != crc {
                break;
            }
            records.push((seq, Bytes::from(payload)));
            expect += 1;
            offset = end;
        }
        Ok(records)
    }

    /// Whether `record` (with its [`HEADER`]) fits before the log's end.
    pub fn fits(&self, record: &[u8]) -> bool {
        self.offset + record.len() as u64 <= WAL_MAX
    }

    /// Whether records were written since the last reset.
    pub fn dirty(&self) -> bool {
        self.offset > 0
    }

    /// The sequence number of the last record written.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Appends `record`, whose first [`HEADER`] bytes are reserved for the
    /// header, and syncs it. Returns its sequence number. On error nothing
    /// advances: the next append overwrites the same place.
    pub fn append(&mut self, record: &mut [u8]) -> io::Result<u64> {
        if record.len() <= HEADER || !self.fits(record) {
            return Err(io::Error::other("record does not fit the write-ahead log"));
        }
        let seq = self.last_seq + 1;
        let n = u32::try_from(record.len() - HEADER)
            .map_err(|_| io::Error::other("record too large"))?;
        let crc = record_crc(seq, &record[HEADER..]);
        record[0..4].copy_from_slice(&n.to_le_bytes());
        record[4..8].copy_from_slice(&crc.to_le_bytes());
        record[8..16].copy_from_slice(&seq.to_le_bytes());
        let end = self.offset + record.len() as u64;
        if end > self.zeroed {
            self.zero_fill(end.max(self.zeroed + ZERO_CHUNK))?;
        }
        self.file.write_all_at(record, self.offset)?;
        if self.sync {
            self.file.sync_data()?;
        }
        self.offset = end;
        self.last_seq = seq;
        Ok(seq)
    }

    /// Takes back the last record (its redb commit failed), so a replay
    /// never applies it: zeroes its header and syncs.
    pub fn retract(&mut self, seq: u64, len: usize) -> io::Result<()> {
        debug_assert_eq!(seq, self.last_seq);
        let start = self.offset - len as u64;
        self.file.write_all_at(&[0u8; HEADER], start)?;
        if self.sync {
            self.file.sync_data()?;
        }
        self.offset = start;
        self.last_seq = seq - 1;
        Ok(())
    }

    /// Starts the log over at offset 0 once redb durably holds every record
    /// up to `last_seq`.
    pub fn reset(&mut self, last_seq: u64) {
        self.offset = 0;
        self.last_seq = last_seq;
    }
}

fn parse_header(h: &[u8; HEADER]) -> (u32, u32, u64) {
    let mut n = [0u8; 4];
    let mut c = [0u8; 4];
    let mut s = [0u8; 8];
    n.copy_from_slice(&h[0..4]);
    c.copy_from_slice(&h[4..8]);
    s.copy_from_slice(&h[8..16]);
    (
        u32::from_le_bytes(n),
        u32::from_le_bytes(c),
        u64::from_le_bytes(s),
    )
}

fn record_crc(seq: u64, payload: &[u8]) -> u32 {
    let c = crc32_update(!0, &seq.to_le_bytes());
    !crc32_update(c, payload)
}

/// CRC-32 (IEEE) lookup table, built at compile time: a hand-rolled CRC
/// keeps the crate free of another dependency for 20 lines of code.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn crc32_update(mut c: u32, data: &[u8]) -> u32 {
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    c
}

// === record payloads ===

/// One applied change, as it is replayed: a transaction reduced to the
/// writes of the branch that ran (no compares, no reads), a lease grant
/// (IDs come from a counter in redb, so they come out the same), a lease
/// revocation or a compaction that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mutation {
    /// Puts and deletes, run as `Txn { compare: [], success: ops }`.
    Txn(Vec<Op>),
    /// A lease grant with this TTL.
    LeaseGrant(i64),
    /// A lease revocation.
    LeaseRevoke(i64),
    /// A compaction at this revision.
    Compact(Revision),
}

const T_TXN: u8 = 1;
const T_GRANT: u8 = 2;
const T_REVOKE: u8 = 3;
const T_COMPACT: u8 = 4;
const O_PUT: u8 = 1;
const O_DELETE: u8 = 2;
const R_KEY: u8 = 1;
const R_PREFIX: u8 = 2;
const R_INTERVAL: u8 = 3;

/// Appends the encoding of `muts` to `out`. Range ops are skipped (they
/// change nothing); `prev_kv` flags are dropped (replay answers no one).
pub(crate) fn encode(muts: &[Mutation], out: &mut Vec<u8>) {
    put_u32(out, muts.len());
    for m in muts {
        match m {
            Mutation::Txn(ops) => {
                out.push(T_TXN);
                let writes = ops.iter().filter(|o| !matches!(o, Op::Range(_)));
                put_u32(out, writes.clone().count());
                for op in writes {
                    match op {
                        Op::Put {
                            key, value, lease, ..
                        } => {
                            out.push(O_PUT);
                            put_bytes(out, key);
                            put_bytes(out, value);
                            out.extend_from_slice(&lease.to_le_bytes());
                        }
                        Op::Delete { range, .. } => {
                            out.push(O_DELETE);
                            match range {
                                KeyRange::Key(k) => {
                                    out.push(R_KEY);
                                    put_bytes(out, k);
                                }
                                KeyRange::Prefix(p) => {
                                    out.push(R_PREFIX);
                                    put_bytes(out, p);
                                }
                                KeyRange::Interval { start, end } => {
                                    out.push(R_INTERVAL);
                                    put_bytes(out, start);
                                    put_bytes(out, end);
                                }
                            }
                        }
                        Op::Range(_) => {}
                    }
                }
            }
            Mutation::LeaseGrant(ttl) => {
                out.push(T_GRANT);
                out.extend_from_slice(&ttl.to_le_bytes());
            }
            Mutation::LeaseRevoke(id) => {
                out.push(T_REVOKE);
                out.extend_from_slice(&id.to_le_bytes());
            }
            Mutation::Compact(rev) => {
                out.push(T_COMPACT);
                out.extend_from_slice(&rev.to_le_bytes());
            }
        }
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    // Lengths are bounded by the record size, itself checked to fit a u32.
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len());
    out.extend_from_slice(b);
}

/// Decodes a record payload. Any malformed input is an error, never a
/// panic: a CRC collision on garbage must not take the store down.
pub(crate) fn decode(buf: &Bytes) -> Result<Vec<Mutation>> {
    let mut r = Reader { buf, pos: 0 };
    let n = r.u32()?;
    let mut muts = Vec::new();
    for _ in 0..n {
        muts.push(match r.u8()? {
            T_TXN => {
                let count = r.u32()?;
                let mut ops = Vec::new();
                for _ in 0..count {
                    ops.push(match r.u8()? {
                        O_PUT => Op::Put {
                            key: r.bytes()?,
                            value: r.bytes()?,
                            lease: r.i64()?,
                            prev_kv: false,
                        },
                        O_DELETE => Op::Delete {
                            range: match r.u8()? {
                                R_KEY => KeyRange::Key(r.bytes()?),
                                R_PREFIX => KeyRange::Prefix(r.bytes()?),
                                R_INTERVAL => KeyRange::Interval {
                                    start: r.bytes()?,
                                    end: r.bytes()?,
                                },
                                t => return Err(corrupt(format!("range tag {t}"))),
                            },
                            prev_kv: false,
                        },
                        t => return Err(corrupt(format!("op tag {t}"))),
                    });
                }
                Mutation::Txn(ops)
            }
            T_GRANT => Mutation::LeaseGrant(r.i64()?),
            T_REVOKE => Mutation::LeaseRevoke(r.i64()?),
            T_COMPACT => Mutation::Compact(r.i64()?),
            t => return Err(corrupt(format!("mutation tag {t}"))),
        });
    }
    if r.pos != buf.len() {
        return Err(corrupt("trailing bytes".into()));
    }
    Ok(muts)
}

fn corrupt(what: String) -> Error {
    Error::backend(
        "corrupt write-ahead log record",
        io::Error::new(io::ErrorKind::InvalidData, what),
    )
}

/// A bounds-checked cursor over a payload.
struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<std::ops::Range<usize>> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| corrupt("truncated".into()))?;
        let r = self.pos..end;
        self.pos = end;
        Ok(r)
    }

    fn u8(&mut self) -> Result<u8> {
        let r = self.take(1)?;
        Ok(self.buf[r.start])
    }

    fn u32(&mut self) -> Result<u32> {
        let r = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(&self.buf[r]);
        Ok(u32::from_le_bytes(a))
    }

    fn i64(&mut self) -> Result<i64> {
        let r = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.buf[r]);
        Ok(i64::from_le_bytes(a))
    }

    fn bytes(&mut self) -> Result<Bytes> {
        let n = self.u32()? as usize;
        let r = self.take(n)?;
        // A slice of the record buffer: no copy.
        Ok(self.buf.slice(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_store::RangeRequest;

    fn sample() -> Vec<Mutation> {
        vec![
            Mutation::Txn(vec![
                Op::Put {
                    key: Bytes::from_static(b"/a"),
                    value: Bytes::from_static(b"1"),
                    lease: 7,
                    prev_kv: false,
                },
                Op::Delete {
                    range: KeyRange::Key(Bytes::from_static(b"/b")),
                    prev_kv: false,
                },
                Op::Delete {
                    range: KeyRange::Prefix(Bytes::from_static(b"/p/")),
                    prev_kv: false,
                },
                Op::Delete {
                    range: KeyRange::Interval {
                        start: Bytes::from_static(b"/x"),
                        end: Bytes::new(),
                    },
                    prev_kv: false,
                },
                Op::Put {
                    key: Bytes::from_static(b"/empty"),
                    value: Bytes::new(),
                    lease: 0,
                    prev_kv: false,
                },
            ]),
            Mutation::LeaseGrant(30),
            Mutation::LeaseRevoke(-5),
            Mutation::Compact(i64::MAX),
            Mutation::Txn(vec![]),
        ]
    }

    fn encoded(muts: &[Mutation]) -> Bytes {
        let mut out = Vec::new();
        encode(muts, &mut out);
        Bytes::from(out)
    }

    #[test]
    fn payload_round_trips() {
        let muts = sample();
        assert_eq!(decode(&encoded(&muts)).unwrap(), muts);
    }

    #[test]
    fn ranges_and_prev_kv_are_dropped() {
        let muts = vec![Mutation::Txn(vec![
            Op::Range(RangeRequest::new(KeyRange::key("/r"))),
            Op::Put {
                key: Bytes::from_static(b"/k"),
                value: Bytes::from_static(b"v"),
                lease: 0,
                prev_kv: true,
            },
        ])];
        let back = decode(&encoded(&muts)).unwrap();
        assert_eq!(
            back,
            vec![Mutation::Txn(vec![Op::Put {
                key: Bytes::from_static(b"/k"),
                value: Bytes::from_static(b"v"),
                lease: 0,
                prev_kv: false,
            }])]
        );
    }

    #[test]
    fn truncated_or_corrupt_payloads_are_errors() {
        let full = encoded(&sample());
        for n in 0..full.len() {
            assert!(decode(&full.slice(..n)).is_err(), "prefix of {n} bytes");
        }
        let mut extra = full.to_vec();
        extra.push(0);
        assert!(decode(&Bytes::from(extra)).is_err());
        let mut bad_tag = full.to_vec();
        bad_tag[4] = 99;
        assert!(decode(&Bytes::from(bad_tag)).is_err());
        // A huge length must fail cleanly, not allocate or panic.
        let mut huge = vec![1, 0, 0, 0, T_TXN, 1, 0, 0, 0, O_PUT];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&Bytes::from(huge)).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        // A tiny deterministic generator: no dependency, reproducible.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..2000usize {
            let mut buf = Vec::with_capacity(len % 64);
            for _ in 0..len % 64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf.push((x % 6) as u8);
            }
            let _ = decode(&Bytes::from(buf));
        }
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(!crc32_update(!0, b"123456789"), 0xCBF4_3926);
    }

    fn record(payload: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; HEADER];
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn replay_returns_records_in_order_and_stops_at_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path(), true).unwrap();
        wal.reset(10);
        for p in [&b"one"[..], b"two", b"three"] {
            wal.append(&mut record(p)).unwrap();
        }
        let got = wal.replay(10).unwrap();
        let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, vec![11, 12, 13]);
        assert_eq!(got[2].1.as_ref(), b"three");
        // Records redb already has are skipped, and so is everything after.
        assert!(wal.replay(11).unwrap().is_empty());

        // Tear the last record: only the first two survive.
        let third = (2 * HEADER + 6) as u64;
        wal.file.write_all_at(b"XX", third + HEADER as u64).unwrap();
        assert_eq!(wal.replay(10).unwrap().len(), 2);
        // Garbage after a valid prefix is ignored too.
        wal.file.write_all_at(&[0xab; 64], third).unwrap();
        assert_eq!(wal.replay(10).unwrap().len(), 2);
    }

    #[test]
    fn stale_records_after_a_reset_are_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path(), false).unwrap();
        wal.reset(0);
        for p in [&b"a-long-record"[..], b"b", b"c"] {
            wal.append(&mut record(p)).unwrap();
        }
        // Checkpoint at 3, then one new record overwrites the start.
        wal.reset(3);
        wal.append(&mut record(b"d")).unwrap();
        let got = wal.replay(3).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].0, got[0].1.as_ref()), (4, &b"d"[..]));
        // Nothing newer than the checkpoint: nothing replays.
        wal.reset(4);
        assert!(wal.replay(4).unwrap().is_empty());
    }

    #[test]
    fn retracted_records_are_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path(), false).unwrap();
        wal.reset(0);
        wal.append(&mut record(b"kept")).unwrap();
        let mut r = record(b"retracted");
        let seq = wal.append(&mut r).unwrap();
        wal.retract(seq, r.len()).unwrap();
        assert_eq!(wal.replay(0).unwrap().len(), 1);
        assert_eq!(wal.append(&mut record(b"again")).unwrap(), seq);
        assert_eq!(wal.replay(0).unwrap().len(), 2);
    }

    #[test]
    fn a_record_larger_than_the_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path(), false).unwrap();
        let big = vec![0u8; WAL_MAX as usize + 1];
        assert!(!wal.fits(&big));
        assert!(wal.append(&mut big.clone()).is_err());
    }
}

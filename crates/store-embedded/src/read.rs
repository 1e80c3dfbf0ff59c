//! Reads: ranges at the current or a past revision, and the log replay that
//! catches watches up. Readers work on a redb read snapshot, so a read sees
//! one committed revision and never a half-written batch.

use std::ops::Bound;

use bytes::Bytes;
use ironclad_store::{
    Error, Event, KeyRange, KeyValue, RangeRequest, RangeResponse, Result, Revision,
};
use redb::{ReadTransaction, ReadableTable};

use crate::tables::{
    CURRENT, HISTORY, LOG, META, OrBackend, current_kv, log_event, meta_revisions,
};

/// The head and compaction point a snapshot was taken at.
pub(crate) fn revisions(rtx: &ReadTransaction) -> Result<(Revision, Revision)> {
    let meta = match rtx.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok((1, 0)),
        Err(e) => return Err(e).or_backend("open meta"),
    };
    meta_revisions(&meta)
}

fn bounds(range: &KeyRange) -> (Vec<u8>, Option<Vec<u8>>) {
    (range.start().to_vec(), range.end())
}

/// Serves a range read from a snapshot.
pub(crate) fn range(rtx: &ReadTransaction, req: &RangeRequest) -> Result<RangeResponse> {
    req.range.validate()?;
    let (head, compact) = revisions(rtx)?;
    let at = req.effective_revision();
    if at > head {
        return Err(Error::FutureRevision {
            requested: at,
            current: head,
        });
    }
    if at != 0 && at < compact {
        return Err(Error::Compacted {
            requested: at,
            compact_revision: compact,
        });
    }
    if at == 0 || at == head {
        let current = match rtx.open_table(CURRENT) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Ok(RangeResponse {
                    revision: head,
                    ..Default::default()
                });
            }
            Err(e) => return Err(e).or_backend("open current"),
        };
        return range_current(&current, req, head);
    }
    range_past(rtx, req, at, head)
}

/// Collects matching rows, honouring limit, count-only and keys-only.
struct Collector<'r> {
    req: &'r RangeRequest,
    resp: RangeResponse,
}

impl<'r> Collector<'r> {
    fn new(req: &'r RangeRequest, head: Revision) -> Self {
        Collector {
            req,
            resp: RangeResponse {
                revision: head,
                ..Default::default()
            },
        }
    }

    fn push(&mut self, kv: impl FnOnce(bool) -> KeyValue) {
        self.resp.count += 1;
        let limit = self.req.effective_limit();
        if self.req.count_only {
            return;
        }
        if limit == 0 || self.resp.kvs.len() < limit {
            self.resp.kvs.push(kv(self.req.keys_only));
        } else {
            self.resp.more = true;
        }
    }
}

/// A range over the live state (`current`), for any readable table.
pub(crate) fn range_current<T>(
    current: &T,
    req: &RangeRequest,
    head: Revision,
) -> Result<RangeResponse>
where
    T: ReadableTable<&'static [u8], (i64, i64, i64, i64, &'static [u8])>,
{
    let (start, end) = bounds(&req.range);
    let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut out = Collector::new(req, head);
    let iter = current
        .range::<&[u8]>((Bound::Included(start.as_slice()), upper))
        .or_backend("range current")?;
    for entry in iter {
        let (k, v) = entry.or_backend("range current")?;
        out.push(|keys_only| current_kv(k.value(), v.value(), keys_only));
    }
    if req.count_only {
        out.resp.more = false;
    }
    Ok(out.resp)
}

/// A range as of a past revision: for each key, its last change at or
/// before `at`, if that change was a put.
fn range_past(
    rtx: &ReadTransaction,
    req: &RangeRequest,
    at: Revision,
    head: Revision,
) -> Result<RangeResponse> {
    let history = rtx.open_table(HISTORY).or_backend("open history")?;
    let log = rtx.open_table(LOG).or_backend("open log")?;
    let (start, end) = bounds(&req.range);
    let lower = Bound::Included((start.as_slice(), i64::MIN, 0u32));
    let upper = end
        .as_deref()
        .map_or(Bound::Unbounded, |e| Bound::Excluded((e, i64::MIN, 0u32)));
    let mut out = Collector::new(req, head);
    // The last (key, rev, sub) at or before `at` of the key being scanned.
    let mut pending: Option<(Vec<u8>, i64, u32)> = None;
    let emit = |p: Option<(Vec<u8>, i64, u32)>, out: &mut Collector| -> Result<()> {
        let Some((_, r, sub)) = p else { return Ok(()) };
        let row = log.get((r, sub)).or_backend("read log")?;
        if let Some(row) = row {
            let ev = log_event(r, row.value());
            if ev.kind == ironclad_store::EventKind::Put {
                out.push(|keys_only| KeyValue {
                    value: if keys_only {
                        Bytes::new()
                    } else {
                        ev.kv.value.clone()
                    },
                    ..ev.kv.clone()
                });
            }
        }
        Ok(())
    };
    for entry in history
        .range::<(&[u8], i64, u32)>((lower, upper))
        .or_backend("range history")?
    {
        let (k, _) = entry.or_backend("range history")?;
        let (key, r, sub) = k.value();
        let same_key = pending
            .as_ref()
            .is_some_and(|(pk, _, _)| pk.as_slice() == key);
        if !same_key {
            emit(pending.take(), &mut out)?;
        }
        if r <= at {
            pending = Some((key.to_vec(), r, sub));
        }
    }
    emit(pending.take(), &mut out)?;
    if req.count_only {
        out.resp.more = false;
    }
    Ok(out.resp)
}

/// Replays the log for a watch: events in `range` with revisions in
/// `[from, to]`, stopping at a revision boundary once `max` events are
/// gathered. Returns the events and the first revision not yet read.
pub(crate) fn read_events(
    rtx: &ReadTransaction,
    range: &KeyRange,
    from: Revision,
    to: Revision,
    prev_kv: bool,
    max: usize,
) -> Result<(Vec<Event>, Revision)> {
    let (_, compact) = revisions(rtx)?;
    if from < compact {
        return Err(Error::Compacted {
            requested: from,
            compact_revision: compact,
        });
    }
    let log = rtx.open_table(LOG).or_backend("open log")?;
    let history = rtx.open_table(HISTORY).or_backend("open history")?;
    let mut events = Vec::new();
    let mut next = to + 1;
    for entry in log
        .range((from, 0u32)..=(to, u32::MAX))
        .or_backend("scan log")?
    {
        let (k, v) = entry.or_backend("scan log")?;
        let (r, sub) = k.value();
        if events.len() >= max && events.last().is_some_and(|e: &Event| e.kv.mod_revision < r) {
            next = r;
            break;
        }
        let row = v.value();
        if !range.contains(row.0) {
            continue;
        }
        let mut ev = log_event(r, row);
        if prev_kv {
            let before = history
                .range((ev.kv.key.as_ref(), i64::MIN, 0u32)..(ev.kv.key.as_ref(), r, sub))
                .or_backend("scan history")?
                .next_back();
            if let Some(b) = before {
                let (_, pr, psub) = b.or_backend("scan history")?.0.value();
                if let Some(prow) = log.get((pr, psub)).or_backend("read log")? {
                    let pev = log_event(pr, prow.value());
                    if pev.kind == ironclad_store::EventKind::Put {
                        ev.prev_kv = Some(pev.kv);
                    }
                }
            }
        }
        events.push(ev);
    }
    Ok((events, next))
}

//! Translation between the store's request/response types and etcd-client's.

use bytes::Bytes;
use ironclad_store::{
    Compare, CompareOp, CompareTarget, DeleteResponse, Error, Event, EventKind, KeyRange, KeyValue,
    Op, OpResponse, PutResponse, RangeRequest, RangeResponse, Result, Revision, Txn, TxnResponse,
    check_value_size,
};

/// etcd's `(key, range_end)` for a range (see [`KeyRange::to_etcd`], which
/// handles the all-`0xff` prefix and the empty interval start).
pub(crate) fn etcd_range(range: &KeyRange) -> (Vec<u8>, Vec<u8>) {
    range.to_etcd()
}

/// A key-value from a borrowed etcd one (copies the bytes).
pub(crate) fn kv_ref(kv: &etcd_client::KeyValue) -> KeyValue {
    KeyValue {
        key: Bytes::copy_from_slice(kv.key()),
        value: Bytes::copy_from_slice(kv.value()),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        version: kv.version(),
        lease: kv.lease(),
    }
}

/// A key-value from an owned etcd one (moves the bytes).
pub(crate) fn kv_owned(kv: etcd_client::KeyValue) -> KeyValue {
    let (create_revision, mod_revision, version, lease) = (
        kv.create_revision(),
        kv.mod_revision(),
        kv.version(),
        kv.lease(),
    );
    let (key, value) = kv.into_key_value();
    KeyValue {
        key: key.into(),
        value: value.into(),
        create_revision,
        mod_revision,
        version,
        lease,
    }
}

/// Header revision of a response; etcd always sends a header, so a missing
/// one is a protocol error rather than revision 0.
pub(crate) fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Result<Revision> {
    header.map(|h| h.revision()).ok_or_else(|| Error::Backend {
        message: "etcd response without a header".into(),
        source: None,
    })
}

/// The key and options of a range read.
pub(crate) fn get_options(req: &RangeRequest) -> (Vec<u8>, etcd_client::GetOptions) {
    let (key, end) = etcd_range(&req.range);
    let mut opts = etcd_client::GetOptions::new();
    if !end.is_empty() {
        opts = opts.with_range(end);
    }
    let rev = req.effective_revision();
    if rev > 0 {
        opts = opts.with_revision(rev);
    }
    let limit = req.effective_limit();
    if limit > 0 {
        opts = opts.with_limit(i64::try_from(limit).unwrap_or(i64::MAX));
    }
    if req.count_only {
        opts = opts.with_count_only();
    }
    if req.keys_only {
        opts = opts.with_keys_only();
    }
    (key, opts)
}

/// A range response, served at `revision`.
pub(crate) fn range_response(
    mut resp: etcd_client::GetResponse,
    revision: Revision,
) -> RangeResponse {
    RangeResponse {
        revision,
        more: resp.more(),
        count: resp.count(),
        kvs: resp.take_kvs().into_iter().map(kv_owned).collect(),
    }
}

/// The key and options of a delete.
pub(crate) fn delete_options(
    range: &KeyRange,
    prev_kv: bool,
) -> (Vec<u8>, etcd_client::DeleteOptions) {
    let (key, end) = etcd_range(range);
    let mut opts = etcd_client::DeleteOptions::new();
    if !end.is_empty() {
        opts = opts.with_range(end);
    }
    if prev_kv {
        opts = opts.with_prev_key();
    }
    (key, opts)
}

/// The options of a put.
pub(crate) fn put_options(lease: i64, prev_kv: bool) -> etcd_client::PutOptions {
    let mut opts = etcd_client::PutOptions::new();
    if lease != 0 {
        opts = opts.with_lease(lease);
    }
    if prev_kv {
        opts = opts.with_prev_key();
    }
    opts
}

/// Refuses what etcd would refuse with a less precise error, and what must
/// not reach it at all (values over the size limit).
pub(crate) fn validate_op(op: &Op) -> Result<()> {
    match op {
        Op::Put { key, value, .. } => {
            if key.is_empty() {
                return Err(Error::InvalidRequest("empty key".into()));
            }
            check_value_size(key, value)
        }
        Op::Delete { range, .. } => range.validate(),
        Op::Range(req) => req.range.validate(),
    }
}

/// The leases a transaction attaches keys to, in first-use order, without
/// repeats.
pub(crate) fn txn_leases(txn: &Txn) -> Vec<i64> {
    let mut leases = Vec::new();
    let used = txn
        .success
        .iter()
        .chain(&txn.failure)
        .filter_map(|op| match op {
            Op::Put { lease, .. } if *lease != 0 => Some(*lease),
            _ => None,
        });
    for lease in used {
        if !leases.contains(&lease) {
            leases.push(lease);
        }
    }
    leases
}

fn compare(c: Compare) -> Result<etcd_client::Compare> {
    if c.key.is_empty() {
        return Err(Error::InvalidRequest("empty key in compare".into()));
    }
    let op = match c.op {
        CompareOp::Equal => etcd_client::CompareOp::Equal,
        CompareOp::NotEqual => etcd_client::CompareOp::NotEqual,
        CompareOp::Less => etcd_client::CompareOp::Less,
        CompareOp::Greater => etcd_client::CompareOp::Greater,
    };
    let key = Vec::from(c.key);
    Ok(match c.target {
        CompareTarget::Version(v) => etcd_client::Compare::version(key, op, v),
        CompareTarget::CreateRevision(r) => etcd_client::Compare::create_revision(key, op, r),
        CompareTarget::ModRevision(r) => etcd_client::Compare::mod_revision(key, op, r),
        CompareTarget::Value(v) => etcd_client::Compare::value(key, op, Vec::from(v)),
        CompareTarget::Lease(l) => etcd_client::Compare::lease(key, op, l),
    })
}

fn txn_op(op: Op) -> etcd_client::TxnOp {
    match op {
        Op::Put {
            key,
            value,
            lease,
            prev_kv,
        } => etcd_client::TxnOp::put(
            Vec::from(key),
            Vec::from(value),
            Some(put_options(lease, prev_kv)),
        ),
        Op::Delete { range, prev_kv } => {
            let (key, opts) = delete_options(&range, prev_kv);
            etcd_client::TxnOp::delete(key, Some(opts))
        }
        Op::Range(req) => {
            let (key, opts) = get_options(&req);
            etcd_client::TxnOp::get(key, Some(opts))
        }
    }
}

/// An etcd transaction, after validating every compare and op.
pub(crate) fn txn_request(txn: Txn) -> Result<etcd_client::Txn> {
    for op in txn.success.iter().chain(&txn.failure) {
        validate_op(op)?;
    }
    let compares = txn
        .compare
        .into_iter()
        .map(compare)
        .collect::<Result<Vec<_>>>()?;
    let success: Vec<_> = txn.success.into_iter().map(txn_op).collect();
    let failure: Vec<_> = txn.failure.into_iter().map(txn_op).collect();
    Ok(etcd_client::Txn::new()
        .when(compares)
        .and_then(success)
        .or_else(failure))
}

/// Whether a transaction may write, whichever branch runs: only such
/// transactions are unsafe to send twice.
pub(crate) fn txn_may_write(txn: &Txn) -> bool {
    txn.success
        .iter()
        .chain(&txn.failure)
        .any(|op| !matches!(op, Op::Range(_)))
}

/// The store's view of a transaction's answer. etcd fills in only the outer
/// header, so every op response carries the transaction's revision.
pub(crate) fn txn_response(mut resp: etcd_client::TxnResponse) -> Result<TxnResponse> {
    let revision = header_revision(resp.take_header().as_ref())?;
    let responses = resp
        .op_responses()
        .into_iter()
        .map(|r| match r {
            etcd_client::TxnOpResponse::Put(mut p) => Ok(OpResponse::Put(PutResponse {
                revision,
                prev_kv: p.take_prev_key().map(kv_owned),
            })),
            etcd_client::TxnOpResponse::Get(g) => {
                Ok(OpResponse::Range(range_response(g, revision)))
            }
            etcd_client::TxnOpResponse::Delete(mut d) => Ok(OpResponse::Delete(DeleteResponse {
                revision,
                deleted: d.deleted(),
                prev_kvs: d.take_prev_kvs().into_iter().map(kv_owned).collect(),
            })),
            etcd_client::TxnOpResponse::Txn(_) => Err(Error::Backend {
                message: "etcd answered a nested transaction that was never sent".into(),
                source: None,
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TxnResponse {
        succeeded: resp.succeeded(),
        revision,
        responses,
    })
}

/// A watch event.
pub(crate) fn event(e: &etcd_client::Event) -> Result<Event> {
    let kind = match e.event_type() {
        etcd_client::EventType::Put => EventKind::Put,
        etcd_client::EventType::Delete => EventKind::Delete,
    };
    let kv = e.kv().map(kv_ref).ok_or_else(|| Error::Backend {
        message: "etcd watch event without a key-value".into(),
        source: None,
    })?;
    Ok(Event {
        kind,
        kv,
        prev_kv: e.prev_kv().map(kv_ref),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_etcd_would_misread_are_fixed() {
        assert_eq!(
            etcd_range(&KeyRange::prefix("a")),
            (b"a".to_vec(), b"b".to_vec())
        );
        assert_eq!(
            etcd_range(&KeyRange::prefix(&b"\xff\xff"[..])),
            (b"\xff\xff".to_vec(), vec![0])
        );
        assert_eq!(etcd_range(&KeyRange::prefix("")), (vec![0], vec![0]));
        let from_start = KeyRange::Interval {
            start: Bytes::new(),
            end: Bytes::from("m"),
        };
        assert_eq!(etcd_range(&from_start), (vec![0], b"m".to_vec()));
        let all = KeyRange::Interval {
            start: Bytes::new(),
            end: Bytes::new(),
        };
        assert_eq!(etcd_range(&all), (vec![0], vec![0]));
        assert_eq!(etcd_range(&KeyRange::key("k")), (b"k".to_vec(), Vec::new()));
    }

    #[test]
    fn only_reads_are_safe_to_resend() {
        let read = Txn::new().and_then([Op::get("a")]);
        assert!(!txn_may_write(&read));
        assert!(txn_may_write(&read.clone().or_else([Op::delete("a")])));
    }

    #[test]
    fn leases_listed_once() {
        let t = Txn::new()
            .and_then([
                Op::put_with_lease("a", "1", 7),
                Op::put_with_lease("b", "1", 7),
            ])
            .or_else([Op::put("c", "1"), Op::put_with_lease("d", "1", 9)]);
        assert_eq!(txn_leases(&t), vec![7, 9]);
    }
}

//! Key ranges: a single key, a prefix, or a half-open interval, as etcd
//! expresses them with `key` and `range_end`.

use bytes::Bytes;

/// Which keys an operation touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRange {
    /// Exactly this key.
    Key(Bytes),
    /// Every key starting with these bytes (an empty prefix is every key).
    Prefix(Bytes),
    /// Keys in `[start, end)`; an empty `end` means "to the end of the keyspace".
    Interval {
        /// First key included.
        start: Bytes,
        /// First key excluded; empty for unbounded.
        end: Bytes,
    },
}

impl KeyRange {
    /// A single key.
    pub fn key(k: impl Into<Bytes>) -> Self {
        KeyRange::Key(k.into())
    }

    /// Every key under a prefix.
    pub fn prefix(p: impl Into<Bytes>) -> Self {
        KeyRange::Prefix(p.into())
    }

    /// The etcd wire form: `(key, range_end)`, where an empty `range_end`
    /// means a single key and `[0]` means every key `>= key`.
    pub fn to_etcd(&self) -> (Vec<u8>, Vec<u8>) {
        match self {
            KeyRange::Key(k) => (k.to_vec(), Vec::new()),
            KeyRange::Prefix(p) if p.is_empty() => (vec![0], vec![0]),
            KeyRange::Prefix(p) => {
                // A prefix of only 0xff bytes has no end: "every key >= p".
                let end = prefix_end(p);
                (p.to_vec(), if end.is_empty() { vec![0] } else { end })
            }
            KeyRange::Interval { start, end } => {
                // etcd refuses an empty key; [0] is the smallest key there is.
                let start = if start.is_empty() {
                    vec![0]
                } else {
                    start.to_vec()
                };
                (
                    start,
                    if end.is_empty() {
                        vec![0]
                    } else {
                        end.to_vec()
                    },
                )
            }
        }
    }

    /// First key of the range (inclusive).
    pub fn start(&self) -> &[u8] {
        match self {
            KeyRange::Key(k) | KeyRange::Prefix(k) => k,
            KeyRange::Interval { start, .. } => start,
        }
    }

    /// Exclusive end of the range; `None` means unbounded.
    pub fn end(&self) -> Option<Vec<u8>> {
        match self {
            KeyRange::Key(k) => {
                let mut e = k.to_vec();
                e.push(0);
                Some(e)
            }
            KeyRange::Prefix(p) => {
                let e = prefix_end(p);
                (!e.is_empty()).then_some(e)
            }
            KeyRange::Interval { end, .. } => (!end.is_empty()).then(|| end.to_vec()),
        }
    }

    /// Whether `key` falls in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        match self {
            KeyRange::Key(k) => k.as_ref() == key,
            KeyRange::Prefix(p) => key.starts_with(p),
            KeyRange::Interval { start, end } => {
                key >= start.as_ref() && (end.is_empty() || key < end.as_ref())
            }
        }
    }

    /// The same range, starting after `key` (for paging with a limit).
    pub fn continue_after(&self, key: &[u8]) -> KeyRange {
        let mut start = key.to_vec();
        start.push(0);
        let end = self.end().unwrap_or_default();
        KeyRange::Interval {
            start: start.into(),
            end: end.into(),
        }
    }

    /// Refuses ranges no backend can serve: an empty single key.
    pub fn validate(&self) -> crate::Result<()> {
        match self {
            KeyRange::Key(k) if k.is_empty() => {
                Err(crate::Error::InvalidRequest("empty key".into()))
            }
            _ => Ok(()),
        }
    }
}

/// The smallest key greater than every key with this prefix, or empty when
/// there is none (the prefix is all `0xff`, or empty).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end(b"abc"), b"abd");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), b"");
        assert_eq!(prefix_end(b""), b"");
    }

    #[test]
    fn contains_and_continue() {
        let r = KeyRange::prefix("/pods/");
        assert!(r.contains(b"/pods/a"));
        assert!(!r.contains(b"/pods"));
        let c = r.continue_after(b"/pods/a");
        assert!(!c.contains(b"/pods/a"));
        assert!(c.contains(b"/pods/a0"));
        assert!(c.contains(b"/pods/b"));
        assert!(!c.contains(b"/pods0"));
        assert_eq!(KeyRange::prefix("").to_etcd(), (vec![0], vec![0]));
        assert!(KeyRange::key("").validate().is_err());
        assert_eq!(
            KeyRange::prefix(&b"\xff"[..]).to_etcd(),
            (vec![0xff], vec![0])
        );
        let from_start = KeyRange::Interval {
            start: Bytes::new(),
            end: Bytes::from_static(b"b"),
        };
        assert_eq!(from_start.to_etcd(), (vec![0], b"b".to_vec()));
    }
}

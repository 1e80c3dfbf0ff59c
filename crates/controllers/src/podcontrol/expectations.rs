//! Expectations (upstream's `UIDTrackingControllerExpectations`): what a
//! controller has asked of the API server and its cache has not shown
//! yet. While a controller still expects creations or deletions it must
//! not act on its cache again, or it would create or delete twice.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an expectation holds before it is given up as lost (a watch
/// gap can hide a create that was deleted again): upstream's 5 minutes.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
struct Entry {
    /// Creations not yet observed.
    adds: i64,
    /// Uids of pods whose deletion is not yet observed.
    dels: HashSet<String>,
    at: Instant,
}

/// Expectations of every owner, keyed by the owner's uid.
#[derive(Debug, Default)]
pub struct Expectations {
    inner: Mutex<HashMap<String, Entry>>,
}

impl Expectations {
    /// No expectations.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }

    /// The owner `key` is about to create `n` pods.
    pub fn expect_creations(&self, key: &str, n: usize) {
        let adds = i64::try_from(n).unwrap_or(i64::MAX);
        self.with(|m| {
            m.insert(
                key.to_string(),
                Entry {
                    adds,
                    dels: HashSet::new(),
                    at: Instant::now(),
                },
            );
        });
    }

    /// The owner `key` is about to delete the pods with these uids.
    pub fn expect_deletions(&self, key: &str, uids: impl IntoIterator<Item = String>) {
        let dels = uids.into_iter().collect();
        self.with(|m| {
            m.insert(
                key.to_string(),
                Entry {
                    adds: 0,
                    dels,
                    at: Instant::now(),
                },
            );
        });
    }

    /// A creation by `key` was observed, or will never be (it failed).
    pub fn creation_observed(&self, key: &str) {
        self.with(|m| {
            if let Some(e) = m.get_mut(key) {
                e.adds -= 1;
            }
        });
    }

    /// The deletion of pod `uid` by `key` was observed, or will never be.
    pub fn deletion_observed(&self, key: &str, uid: &str) {
        self.with(|m| {
            if let Some(e) = m.get_mut(key) {
                e.dels.remove(uid);
            }
        });
    }

    /// Whether `key` may act on its cache: it expects nothing more, or
    /// its expectations have timed out. `still_there(uid)` tells whether
    /// the cache still shows a pod whose deletion is expected as active;
    /// one that it does not is observed as deleted.
    pub fn satisfied(&self, key: &str, still_there: impl Fn(&str) -> bool) -> bool {
        self.with(|m| {
            let Some(e) = m.get_mut(key) else {
                return true;
            };
            e.dels.retain(|uid| still_there(uid));
            e.adds <= 0 && e.dels.is_empty() || e.at.elapsed() > EXPECTATIONS_TIMEOUT
        })
    }

    /// Forgets the owner `key` (it was deleted).
    pub fn forget(&self, key: &str) {
        self.with(|m| {
            m.remove(key);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creations_and_deletions_must_be_observed() {
        let e = Expectations::new();
        assert!(e.satisfied("rs", |_| true));
        e.expect_creations("rs", 2);
        assert!(!e.satisfied("rs", |_| true));
        e.creation_observed("rs");
        assert!(!e.satisfied("rs", |_| true));
        e.creation_observed("rs");
        assert!(e.satisfied("rs", |_| true));

        e.expect_deletions("rs", ["a".to_string(), "b".to_string()]);
        assert!(!e.satisfied("rs", |_| true));
        e.deletion_observed("rs", "a");
        assert!(!e.satisfied("rs", |_| true));
        // The cache no longer shows b.
        assert!(e.satisfied("rs", |uid| uid != "b"));
        e.forget("rs");
        assert!(e.satisfied("rs", |_| true));
    }
}

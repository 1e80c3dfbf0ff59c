//! Lease deadlines, kept in memory: keep-alives only move a deadline and
//! are never written to disk (as in etcd). After a restart every lease gets
//! its full TTL again, so a restart never expires a lease early.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ironclad_store::{Error, Result};

#[derive(Debug)]
struct Lease {
    ttl: i64,
    deadline: Instant,
    /// A revocation for expiry is queued; don't queue another.
    expiring: bool,
}

/// The live leases and their deadlines.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    map: Mutex<HashMap<i64, Lease>>,
}

impl Leases {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Lease>> {
        // A panic elsewhere while holding this lock leaves plain data behind;
        // the map is still consistent, so carry on with it.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts (or restarts) a lease's clock.
    pub fn insert(&self, id: i64, ttl: i64) {
        let deadline = Instant::now() + Duration::from_secs(ttl as u64);
        self.lock().insert(
            id,
            Lease {
                ttl,
                deadline,
                expiring: false,
            },
        );
    }

    /// Forgets a revoked lease.
    pub fn remove(&self, id: i64) {
        self.lock().remove(&id);
    }

    /// Whether a lease exists (keys may be attached to it).
    pub fn exists(&self, id: i64) -> bool {
        self.lock().contains_key(&id)
    }

    /// Renews a lease that has not expired; returns its TTL.
    pub fn keep_alive(&self, id: i64) -> Result<i64> {
        let mut map = self.lock();
        match map.get_mut(&id) {
            Some(l) if !l.expiring && l.deadline > Instant::now() => {
                l.deadline = Instant::now() + Duration::from_secs(l.ttl as u64);
                Ok(l.ttl)
            }
            _ => Err(Error::LeaseNotFound(id)),
        }
    }

    /// Leases past their deadline not yet queued for revocation; marks them queued.
    pub fn take_expired(&self) -> Vec<i64> {
        let now = Instant::now();
        let mut out = Vec::new();
        for (id, l) in self.lock().iter_mut() {
            if !l.expiring && l.deadline <= now {
                l.expiring = true;
                out.push(*id);
            }
        }
        out
    }

    /// Whether a lease queued for expiry is still expired (not renewed since).
    pub fn still_expired(&self, id: i64) -> bool {
        self.lock()
            .get(&id)
            .is_some_and(|l| l.deadline <= Instant::now())
    }
}

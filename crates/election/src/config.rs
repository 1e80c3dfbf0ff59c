//! What an election is about and how fast it moves.

use std::time::Duration;

use bytes::Bytes;

use crate::{Error, Result};

/// Default lease TTL in seconds. etcd 3.4 refuses anything shorter with its
/// default election timeout (it raises it to its minimum, about 2 s), and 2 s
/// keeps failover after a leader's death within about 3 s.
pub const DEFAULT_TTL_SECS: i64 = 2;

/// Default interval between lease renewals: four per TTL, so a leader rides
/// out two lost renewals before its deadline.
pub const DEFAULT_RENEW_INTERVAL: Duration = Duration::from_millis(500);

/// Default safety margin taken off the TTL for the leader's local deadline:
/// covers clock-rate differences between the leader's machine and the
/// store's, and the time between checking `is_leader` and the act itself.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(500);

/// One candidate's view of one election.
///
/// All candidates of an election must use the same `key`; each needs its own
/// `id`. `ttl_secs`, `renew_interval` and `margin` may differ between
/// candidates but normally do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionConfig {
    /// The well-known key the leader holds, e.g. `/ironclad/leader/podmaster`.
    pub key: Bytes,
    /// This candidate's identity, written as the key's value so followers
    /// can tell who leads.
    pub id: String,
    /// Lease time to live, in whole seconds like etcd leases. A dead leader
    /// is replaced about this long after its last renewal.
    pub ttl_secs: i64,
    /// How often the leader renews its lease.
    pub renew_interval: Duration,
    /// Taken off the TTL for the leader's local deadline (see the crate docs).
    pub margin: Duration,
}

impl ElectionConfig {
    /// A config for `key` and candidate `id`, with the default timings.
    pub fn new(key: impl Into<Bytes>, id: impl Into<String>) -> Self {
        ElectionConfig {
            key: key.into(),
            id: id.into(),
            ttl_secs: DEFAULT_TTL_SECS,
            renew_interval: DEFAULT_RENEW_INTERVAL,
            margin: DEFAULT_MARGIN,
        }
    }

    /// The same config with another TTL.
    pub fn with_ttl_secs(mut self, ttl_secs: i64) -> Self {
        self.ttl_secs = ttl_secs;
        self
    }

    /// The same config with another renew interval.
    pub fn with_renew_interval(mut self, renew_interval: Duration) -> Self {
        self.renew_interval = renew_interval;
        self
    }

    /// The same config with another margin.
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The TTL as a duration.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(u64::try_from(self.ttl_secs).unwrap_or(0))
    }

    /// Checks that the timings can work: a non-empty key and ID, a TTL of at
    /// least 1 s, a margin shorter than the TTL, and a renew interval short
    /// enough that the leader renews before its local deadline.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidConfig(m));
        if self.key.is_empty() {
            return bad("the election key is empty".into());
        }
        if self.id.is_empty() {
            return bad("the candidate ID is empty".into());
        }
        if self.ttl_secs < 1 {
            return bad(format!(
                "ttl_secs is {}; leases need at least 1 s",
                self.ttl_secs
            ));
        }
        let Some(validity) = self.ttl().checked_sub(self.margin).filter(|v| !v.is_zero()) else {
            return bad(format!(
                "margin {:?} leaves nothing of the {} s TTL",
                self.margin, self.ttl_secs
            ));
        };
        if self.renew_interval.is_zero() || self.renew_interval >= validity {
            return bad(format!(
                "renew interval {:?} must be non-zero and shorter than TTL - margin = {validity:?}, \
                 or the leader would lapse between renewals",
                self.renew_interval
            ));
        }
        Ok(())
    }

    /// How long one leadership lasts after a renewal is sent, given the TTL
    /// the store actually granted (etcd may raise a short TTL).
    pub(crate) fn validity(&self, granted_ttl_secs: i64) -> Duration {
        let ttl = Duration::from_secs(u64::try_from(granted_ttl_secs).unwrap_or(0));
        ttl.saturating_sub(self.margin)
    }

    /// How long a single campaign request (a read, a grant, a transaction,
    /// a revoke) may take before it is abandoned and retried: nothing is
    /// worth waiting on for longer than a lease lives.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.ttl().max(Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = ElectionConfig::new("/k", "a");
        c.validate().unwrap();
        assert_eq!(c.validity(c.ttl_secs), Duration::from_millis(1500));
    }

    #[test]
    fn refuses_unworkable_timings() {
        let c = ElectionConfig::new("/k", "a");
        for bad in [
            ElectionConfig::new("", "a"),
            ElectionConfig::new("/k", ""),
            c.clone().with_ttl_secs(0),
            c.clone().with_margin(Duration::from_secs(2)),
            c.clone().with_renew_interval(Duration::ZERO),
            c.clone().with_renew_interval(Duration::from_millis(1500)),
        ] {
            let err = bad.validate().unwrap_err();
            assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
        }
        c.with_ttl_secs(10)
            .with_renew_interval(Duration::from_secs(3))
            .validate()
            .unwrap();
    }

    #[test]
    fn granted_ttl_drives_validity() {
        let c = ElectionConfig::new("/k", "a").with_ttl_secs(1);
        assert_eq!(c.validity(2), Duration::from_millis(1500));
        assert_eq!(c.validity(0), Duration::ZERO);
    }
}

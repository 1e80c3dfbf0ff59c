//! Conversions between `SystemTime` and the certificate time types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// How far in the past a new certificate's notBefore is put, so that a peer
/// whose clock is a little behind still accepts it.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// A `SystemTime` as rcgen's `OffsetDateTime`.
pub(crate) fn to_offset(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}

/// Seconds since the Unix epoch (as X.509 times are read) as a `SystemTime`.
pub(crate) fn from_unix(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_convert_both_ways() {
        assert_eq!(from_unix(0), UNIX_EPOCH);
        assert_eq!(from_unix(86_400), UNIX_EPOCH + Duration::from_secs(86_400));
        assert_eq!(from_unix(-60), UNIX_EPOCH - Duration::from_secs(60));
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(to_offset(t).unix_timestamp(), 1_700_000_000);
    }
}

//! Times as the authenticators read and print them: Unix seconds, and
//! RFC 3339 as Go's `time.RFC3339` layout writes it (UTC, whole seconds,
//! `Z`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::jiff::Timestamp;

/// `t` in whole seconds since the Unix epoch, rounded down (negative
/// before 1970).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            // -0.5 s is second -1.
            if d.subsec_nanos() > 0 {
                (-secs).saturating_sub(1)
            } else {
                -secs
            }
        }
    }
}

/// `t` in nanoseconds since the Unix epoch (negative before 1970).
pub(crate) fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

/// The instant `secs` seconds after the Unix epoch, saturating at the
/// ends of what `SystemTime` holds.
pub(crate) fn from_unix_seconds(secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    let shifted = if secs >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    shifted.unwrap_or(UNIX_EPOCH)
}

/// `secs` (Unix seconds) as `2006-01-02T15:04:05Z`; out-of-range values
/// (before year -9999 or after 9999) print as a plain number of seconds.
pub(crate) fn format_unix(secs: i64) -> String {
    match Timestamp::from_second(secs) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("{secs}s since the Unix epoch"),
    }
}

/// `t` as `2006-01-02T15:04:05Z`, its fraction of a second dropped as Go's
/// `time.RFC3339` layout drops it.
pub(crate) fn format_system_time(t: SystemTime) -> String {
    format_unix(unix_seconds(t))
}

/// Parses an RFC 3339 time (`2024-05-01T12:00:00Z`, with an optional
/// fraction and a numeric offset), as Go's `time.Parse(time.RFC3339, ..)`.
pub(crate) fn parse(s: &str) -> Result<SystemTime, String> {
    let ts: Timestamp = s.parse().map_err(|e| format!("{e}"))?;
    let total = ts.as_nanosecond();
    let secs = i64::try_from(total.div_euclid(1_000_000_000)).unwrap_or(0);
    let nanos = u64::try_from(total.rem_euclid(1_000_000_000)).unwrap_or(0);
    Ok(from_unix_seconds(secs) + Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_formats_like_go() {
        let t = parse("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(unix_seconds(t), 1_714_564_800);
        assert_eq!(format_system_time(t), "2024-05-01T12:00:00Z");
        let with_fraction = t + Duration::from_millis(900);
        assert_eq!(format_system_time(with_fraction), "2024-05-01T12:00:00Z");
        let offset = parse("2024-05-01T14:00:00+02:00").unwrap();
        assert_eq!(offset, t);
        assert!(parse("yesterday").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn nanoseconds() {
        assert_eq!(
            unix_nanos(UNIX_EPOCH + Duration::from_millis(1500)),
            1_500_000_000
        );
        assert_eq!(unix_nanos(UNIX_EPOCH - Duration::from_nanos(1)), -1);
    }

    #[test]
    fn before_the_epoch() {
        let t = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(unix_seconds(t), -1);
        assert_eq!(unix_seconds(from_unix_seconds(-86_400)), -86_400);
        assert_eq!(format_unix(-86_400), "1969-12-31T00:00:00Z");
        assert!(format_unix(i64::MAX).contains("since the Unix epoch"));
    }
}

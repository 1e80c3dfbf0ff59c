//! Which scheduled time a CronJob is due for, and when to look again
//! (upstream's `mostRecentScheduleTime`, `nextScheduleTime` and
//! `nextScheduleTimeDuration`).

use std::time::Duration;

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::schedule::Schedule;
use crate::job::clock::since;

/// Slack added to requeues against clock skew (upstream's
/// `nextScheduleDelta`).
const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);
/// More missed start times than this is reported as a problem.
const TOO_MANY_MISSED: i64 = 100;

/// How many start times were missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missed {
    /// None.
    None,
    /// Some.
    Few,
    /// More than a hundred.
    Many,
}

/// The outcome of [`most_recent`].
#[derive(Debug, Clone)]
pub(crate) struct Recent {
    /// The last schedule time, else the creation time (or the starting
    /// deadline when later).
    pub earliest: Timestamp,
    /// The latest start time at or before now, if one is due.
    pub most_recent: Option<Timestamp>,
    /// How many were missed.
    pub missed: Missed,
}

/// Upstream's `mostRecentScheduleTime`. Errs for schedules whose two next
/// activations are less than a second apart (impossible dates).
pub(crate) fn most_recent(
    cj: &CronJob,
    now: Timestamp,
    schedule: &Schedule,
    with_starting_deadline: bool,
) -> Result<Recent, String> {
    let mut earliest = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
        .or(cj.metadata.creation_timestamp.as_ref())
        .map_or(Timestamp::UNIX_EPOCH, |t| t.0);
    let deadline = cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds);
    if with_starting_deadline && let Some(d) = deadline {
        let floor = now
            .checked_sub(SignedDuration::from_secs(d))
            .unwrap_or(Timestamp::MIN);
        if floor > earliest {
            earliest = floor;
        }
    }
    let none = |earliest| Recent {
        earliest,
        most_recent: None,
        missed: Missed::None,
    };
    let Some(t1) = schedule.next(earliest) else {
        return Ok(none(earliest));
    };
    let Some(t2) = schedule.next(t1) else {
        return Ok(if now < t1 {
            none(earliest)
        } else {
            Recent {
                most_recent: Some(t1),
                ..none(earliest)
            }
        });
    };
    if now < t1 {
        return Ok(none(earliest));
    }
    if now < t2 {
        return Ok(Recent {
            most_recent: Some(t1),
            ..none(earliest)
        });
    }
    let between = t2.duration_since(t1).round(k8s_openapi::jiff::Unit::Second);
    let between = between.map_or(0, |d| d.as_secs());
    if between < 1 {
        return Err("time difference between two schedules is less than 1 second".into());
    }
    let elapsed = now.duration_since(t1).as_secs();
    let missed_count = elapsed / between + 1;
    // Start near the most recent time by arithmetic, then walk to it.
    let mut t = t1
        .checked_add(SignedDuration::from_secs((missed_count - 1) * between))
        .unwrap_or(t1);
    let mut most = None;
    while t <= now {
        most = Some(t);
        match schedule.next(t) {
            Some(n) => t = n,
            None => break,
        }
    }
    let missed = if missed_count > TOO_MANY_MISSED {
        Missed::Many
    } else {
        Missed::Few
    };
    Ok(Recent {
        earliest,
        most_recent: most,
        missed,
    })
}

/// How long until the next start time after the most recent one (plus a
/// little slack).
pub(crate) fn next_requeue(cj: &CronJob, now: Timestamp, schedule: &Schedule) -> Duration {
    let from = match most_recent(cj, now, schedule, false) {
        Err(_) => now,
        Ok(r) => match r.most_recent {
            Some(t) => t,
            None if r.missed == Missed::None => r.earliest,
            None => now,
        },
    };
    match schedule.next(from) {
        Some(next) => since(next, now) + NEXT_SCHEDULE_DELTA,
        // Never again: look at it now and then anyway.
        None => Duration::from_secs(3600),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::batch::v1::{CronJobSpec, CronJobStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::tz::TimeZone;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn cj(created: &str, last: Option<&str>, deadline: Option<i64>) -> CronJob {
        CronJob {
            metadata: kube::api::ObjectMeta {
                creation_timestamp: Some(Time(ts(created))),
                ..Default::default()
            },
            spec: Some(CronJobSpec {
                starting_deadline_seconds: deadline,
                ..Default::default()
            }),
            status: Some(CronJobStatus {
                last_schedule_time: last.map(|l| Time(ts(l))),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn the_most_recent_due_time() {
        let every_minute = Schedule::parse("* * * * *", TimeZone::UTC).unwrap();
        let c = cj("2024-05-01T10:00:30Z", None, None);
        let r = most_recent(&c, ts("2024-05-01T10:00:59Z"), &every_minute, true).unwrap();
        assert_eq!(r.most_recent, None);
        let r = most_recent(&c, ts("2024-05-01T10:01:05Z"), &every_minute, true).unwrap();
        assert_eq!(r.most_recent, Some(ts("2024-05-01T10:01:00Z")));
        assert_eq!(r.missed, Missed::None);
        let r = most_recent(&c, ts("2024-05-01T10:05:05Z"), &every_minute, true).unwrap();
        assert_eq!(r.most_recent, Some(ts("2024-05-01T10:05:00Z")));
        assert_eq!(r.missed, Missed::Few);
        let r = most_recent(&c, ts("2024-05-01T13:00:05Z"), &every_minute, true).unwrap();
        assert_eq!(r.missed, Missed::Many);
        let done = cj("2024-05-01T10:00:30Z", Some("2024-05-01T10:05:00Z"), None);
        let r = most_recent(&done, ts("2024-05-01T10:05:30Z"), &every_minute, true).unwrap();
        assert_eq!(r.most_recent, None);
    }

    #[test]
    fn requeue_aims_at_the_next_time() {
        let hourly = Schedule::parse("@hourly", TimeZone::UTC).unwrap();
        let c = cj("2024-05-01T10:20:00Z", None, None);
        let d = next_requeue(&c, ts("2024-05-01T10:30:00Z"), &hourly);
        assert_eq!(d, Duration::from_secs(1800) + NEXT_SCHEDULE_DELTA);
    }
}

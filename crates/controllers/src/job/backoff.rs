//! The delay before a Job replaces failed pods: exponential in the number
//! of failures since the last success (upstream's pod backoff store),
//! kept in memory per Job as upstream keeps it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::clock::since;
use super::pods::finished_time;

/// Failures since the last success, and when the last one happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BackoffRecord {
    /// Failed pods after the most recent succeeded one.
    pub failures_after_last_success: u32,
    /// When the most recent of them finished.
    pub last_failure_time: Option<Timestamp>,
}

/// Records by Job uid.
#[derive(Debug, Default)]
pub(crate) struct BackoffStore {
    records: Mutex<HashMap<String, BackoffRecord>>,
}

// === impl BackoffStore ===

impl BackoffStore {
    /// The record `job` would have after the newly finished pods (not
    /// yet stored: [`BackoffStore::update`] does once the Job status
    /// recording them is written).
    pub fn next_record(&self, job: &str, succeeded: &[&Pod], failed: &[&Pod]) -> BackoffRecord {
        let old = self
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(job)
            .cloned()
            .unwrap_or_default();
        next_record(old, succeeded, failed)
    }

    /// Keeps `record` for `job`.
    pub fn update(&self, job: &str, record: BackoffRecord) {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job.to_string(), record);
    }

    /// Forgets `job` (finished or deleted).
    pub fn remove(&self, job: &str) {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(job);
    }
}

fn next_record(mut rec: BackoffRecord, succeeded: &[&Pod], failed: &[&Pod]) -> BackoffRecord {
    let mut failed_times: Vec<Timestamp> = failed.iter().map(|p| finished_time(p)).collect();
    failed_times.sort();
    let last_success = succeeded.iter().map(|p| finished_time(p)).max();
    match last_success {
        None => {
            if let Some(last) = failed_times.last() {
                rec.failures_after_last_success += u32::try_from(failed_times.len()).unwrap_or(0);
                rec.last_failure_time = Some(*last);
            }
        }
        Some(success) => {
            rec.failures_after_last_success = 0;
            rec.last_failure_time = None;
            for t in failed_times.iter().rev() {
                if *t <= success {
                    break;
                }
                if rec.last_failure_time.is_none() {
                    rec.last_failure_time = Some(*t);
                }
                rec.failures_after_last_success += 1;
            }
        }
    }
    rec
}

// === impl BackoffRecord ===

impl BackoffRecord {
    /// How long, from `now`, new pods must still wait: `base` doubled per
    /// failure after the first, capped at `max`, counted from the last
    /// failure.
    pub fn remaining(&self, now: Timestamp, base: Duration, max: Duration) -> Duration {
        let (n, Some(last)) = (self.failures_after_last_success, self.last_failure_time) else {
            return Duration::ZERO;
        };
        if n == 0 {
            return Duration::ZERO;
        }
        let mut delay = base;
        for _ in 1..n {
            delay = delay.saturating_mul(2);
            if delay >= max {
                delay = max;
                break;
            }
        }
        delay.saturating_sub(since(now, last))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn finished_at(s: i64) -> Pod {
        Pod {
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: "False".into(),
                    last_transition_time: Some(Time(ts(s))),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            metadata: kube::api::ObjectMeta {
                labels: Some(BTreeMap::new()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn delay_doubles_per_failure_and_is_capped() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(360);
        let rec = |n| BackoffRecord {
            failures_after_last_success: n,
            last_failure_time: Some(ts(1000)),
        };
        assert_eq!(rec(0).remaining(ts(1000), base, max), Duration::ZERO);
        assert_eq!(rec(1).remaining(ts(1000), base, max), base);
        assert_eq!(rec(2).remaining(ts(1000), base, max), 2 * base);
        assert_eq!(
            rec(3).remaining(ts(1005), base, max),
            Duration::from_secs(35)
        );
        assert_eq!(rec(10).remaining(ts(1000), base, max), max);
        assert_eq!(rec(1).remaining(ts(2000), base, max), Duration::ZERO);
    }

    #[test]
    fn failures_count_from_the_last_success() {
        let (f1, f2, s, f3) = (
            finished_at(10),
            finished_at(20),
            finished_at(30),
            finished_at(40),
        );
        let r = next_record(BackoffRecord::default(), &[], &[&f1, &f2]);
        assert_eq!(r.failures_after_last_success, 2);
        assert_eq!(r.last_failure_time, Some(ts(20)));
        let r = next_record(r, &[&s], &[&f3]);
        assert_eq!(r.failures_after_last_success, 1);
        assert_eq!(r.last_failure_time, Some(ts(40)));
        let r = next_record(r, &[&s], &[]);
        assert_eq!(r, BackoffRecord::default());
    }
}

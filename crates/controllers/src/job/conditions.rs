//! Job conditions: the interim ones (SuccessCriteriaMet, FailureTarget)
//! set while pods are still being counted or stopped, and the terminal
//! ones (Complete, Failed) set after.

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The Job ran to completion.
pub const COMPLETE: &str = "Complete";
/// The Job failed.
pub const FAILED: &str = "Failed";
/// The Job will fail once its pods are stopped and counted.
pub const FAILURE_TARGET: &str = "FailureTarget";
/// The Job will complete once its pods are stopped and counted.
pub const SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";
/// The Job is suspended (True) or was resumed (False).
pub const SUSPENDED: &str = "Suspended";

/// More pods failed than `backoffLimit` allows.
pub const REASON_BACKOFF_LIMIT_EXCEEDED: &str = "BackoffLimitExceeded";
/// The Job ran longer than `activeDeadlineSeconds`.
pub const REASON_DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
/// As many pods succeeded as `completions` asks.
pub const REASON_COMPLETIONS_REACHED: &str = "CompletionsReached";
/// A FailJob rule of the pod failure policy matched.
pub const REASON_POD_FAILURE_POLICY: &str = "PodFailurePolicy";
/// A rule of the success policy matched.
pub const REASON_SUCCESS_POLICY: &str = "SuccessPolicy";

/// A condition of `type_` set at `now`.
pub(crate) fn new(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> JobCondition {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    JobCondition {
        type_: type_.into(),
        status: status.into(),
        reason: opt(reason),
        message: opt(message),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// The condition of `type_`, if the Job has one.
pub(crate) fn find<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// The condition of `type_` if it is True.
pub(crate) fn find_true<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    find(job, type_).filter(|c| c.status == "True")
}

/// Complete or Failed (upstream's `IsJobFinished`).
pub fn is_finished(job: &Job) -> bool {
    find_true(job, COMPLETE).is_some() || find_true(job, FAILED).is_some()
}

/// When the Job finished: the transition of its terminal condition.
pub(crate) fn finish_time(job: &Job) -> Option<Timestamp> {
    find_true(job, COMPLETE)
        .or_else(|| find_true(job, FAILED))
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

/// Sets a condition (upstream's `ensureJobConditionStatus`): replaces one
/// of the same type that differs, appends a new one unless it would be
/// False. Returns whether the list changed.
pub(crate) fn ensure(
    list: &mut Vec<JobCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    if let Some(c) = list.iter_mut().find(|c| c.type_ == type_) {
        let same = c.status == status
            && c.reason.as_deref().unwrap_or("") == reason
            && c.message.as_deref().unwrap_or("") == message;
        if same {
            return false;
        }
        *c = new(type_, status, reason, message, now);
        return true;
    }
    if status == "False" {
        return false;
    }
    list.push(new(type_, status, reason, message, now));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_replaces_differing_and_skips_new_false() {
        let now = Timestamp::now();
        let mut list = Vec::new();
        assert!(!ensure(
            &mut list,
            SUSPENDED,
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert!(ensure(
            &mut list,
            SUSPENDED,
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(!ensure(
            &mut list,
            SUSPENDED,
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(ensure(
            &mut list,
            SUSPENDED,
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].status, "False");
    }
}

//! The Jobs a CronJob makes and tracks: their names, their making from
//! the template, references to them in `status.active`, and how they
//! ended.

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::jiff::tz::TimeZone;
use kube::{Resource, ResourceExt};

/// The annotation with the time a Job was scheduled for.
pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// "Complete" or "Failed" when the Job finished.
pub(super) fn finished_type(job: &Job) -> Option<&str> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .map(|c| c.type_.as_str())
}

pub(super) fn active_list(cj: &mut CronJob) -> &mut Vec<ObjectReference> {
    cj.status
        .get_or_insert_with(Default::default)
        .active
        .get_or_insert_with(Vec::new)
}

pub(super) fn in_active_list(cj: &CronJob, uid: &str) -> bool {
    cj.status
        .as_ref()
        .and_then(|s| s.active.as_ref())
        .is_some_and(|a| a.iter().any(|r| r.uid.as_deref() == Some(uid)))
}

pub(super) fn delete_from_active_list(cj: &mut CronJob, uid: &str) {
    let list = active_list(cj);
    list.retain(|r| r.uid.as_deref() != Some(uid));
    if list.is_empty()
        && let Some(s) = cj.status.as_mut()
    {
        s.active = None;
    }
}

/// `name` of the Job for a start time: `<cronjob>-<minutes since epoch>`,
/// so each start time makes one Job at most.
pub fn job_name(cronjob: &str, scheduled: Timestamp) -> String {
    format!("{cronjob}-{}", scheduled.as_second().div_euclid(60))
}

/// Go's RFC 3339 in the schedule's zone (`Z` for a zero offset).
pub(super) fn rfc3339_in(t: Timestamp, tz: &TimeZone) -> String {
    let z = t.to_zoned(tz.clone());
    if z.offset().seconds() == 0 {
        z.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// The Job for `scheduled` (upstream's `getJobFromTemplate2`).
pub(super) fn job_from_template(cj: &CronJob, scheduled: Timestamp, tz: &TimeZone) -> Job {
    let template = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP_ANNOTATION.into(),
        rfc3339_in(scheduled, tz),
    );
    let owner = OwnerReference {
        api_version: CronJob::api_version(&()).into_owned(),
        kind: CronJob::kind(&()).into_owned(),
        name: cj.name_any(),
        uid: cj.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&cj.name_any(), scheduled)),
            namespace: cj.namespace(),
            labels: meta.labels.filter(|l| !l.is_empty()),
            annotations: Some(annotations),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(template.spec.unwrap_or_default()),
        status: None,
    }
}

pub(super) fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some(Job::api_version(&()).into_owned()),
        kind: Some(Job::kind(&()).into_owned()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

pub(super) fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

pub(super) fn already_exists(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cronjob::schedule::load_zone;

    #[test]
    fn job_names_count_minutes_since_the_epoch() {
        let t: Timestamp = "2024-05-01T10:01:00Z".parse().unwrap();
        assert_eq!(
            job_name("hello", t),
            format!("hello-{}", t.as_second() / 60)
        );
        assert_eq!(job_name("hello", t), "hello-28575961");
    }

    #[test]
    fn scheduled_timestamps_are_go_rfc3339_in_the_zone() {
        let t: Timestamp = "2024-05-01T13:00:00Z".parse().unwrap();
        assert_eq!(rfc3339_in(t, &TimeZone::UTC), "2024-05-01T13:00:00Z");
        let ny = load_zone("America/New_York").unwrap();
        assert_eq!(rfc3339_in(t, &ny), "2024-05-01T09:00:00-04:00");
    }
}

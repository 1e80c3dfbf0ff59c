//! Jobs and CronJobs.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use super::cron::parse_schedule;
use super::error::{FieldError, Path};
use super::fields::nonnegative;
use super::meta::{immutable, s, validate_annotations, validate_labels, validate_object_meta};
use super::names::name_is_dns_subdomain;
use super::pod::{spec_or_default, validate_pod_template_spec};
use super::selector::{is_convertible, selector_matches, validate_label_selector};
use super::workloads::{selector_mismatch, template_labels};

/// Most indexes (and parallelism) an Indexed job may have.
const MAX_INDEXED: i32 = 100_000;

/// The label key of the job's uid in generated selectors.
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
/// The label key of the job's name on its pods.
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";

/// The rules shared by jobs and the job templates of CronJobs.
fn validate_job_spec_common(spec: &JobSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (field, v) in [
        ("parallelism", spec.parallelism.map(i64::from)),
        ("completions", spec.completions.map(i64::from)),
        ("activeDeadlineSeconds", spec.active_deadline_seconds),
        ("backoffLimit", spec.backoff_limit.map(i64::from)),
        (
            "ttlSecondsAfterFinished",
            spec.ttl_seconds_after_finished.map(i64::from),
        ),
        (
            "backoffLimitPerIndex",
            spec.backoff_limit_per_index.map(i64::from),
        ),
        ("maxFailedIndexes", spec.max_failed_indexes.map(i64::from)),
    ] {
        if let Some(v) = v {
            errs.extend(nonnegative(v, &path.child(field)));
        }
    }
    let mode = s(&spec.completion_mode);
    let indexed = mode == "Indexed";
    if spec.completion_mode.is_some() && mode != "NonIndexed" && !indexed {
        errs.push(FieldError::not_supported(
            &path.child("completionMode"),
            mode,
            &["NonIndexed", "Indexed"],
        ));
    }
    if indexed {
        match spec.completions {
            None => errs.push(FieldError::required(
                &path.child("completions"),
                "when completion mode is Indexed",
            )),
            Some(c) if c > MAX_INDEXED => errs.push(FieldError::invalid(
                &path.child("completions"),
                c,
                format!(
                    "must be less than or equal to {MAX_INDEXED} when completion mode is Indexed"
                ),
            )),
            Some(_) => {}
        }
        if let Some(p) = spec.parallelism.filter(|p| *p > MAX_INDEXED) {
            errs.push(FieldError::invalid(
                &path.child("parallelism"),
                p,
                format!(
                    "must be less than or equal to {MAX_INDEXED} when completion mode is Indexed"
                ),
            ));
        }
    }
    if !indexed {
        if spec.backoff_limit_per_index.is_some() {
            errs.push(FieldError::forbidden(
                &path.child("backoffLimitPerIndex"),
                "requires indexed completion mode",
            ));
        }
        if spec.max_failed_indexes.is_some() {
            errs.push(FieldError::forbidden(
                &path.child("maxFailedIndexes"),
                "requires indexed completion mode",
            ));
        }
    }
    if let Some(p) = spec.pod_replacement_policy.as_deref() {
        if p != "Failed" && p != "TerminatingOrFailed" {
            errs.push(FieldError::not_supported(
                &path.child("podReplacementPolicy"),
                p,
                &["Failed", "TerminatingOrFailed"],
            ));
        } else if spec.pod_failure_policy.is_some() && p != "Failed" {
            errs.push(FieldError::not_supported(
                &path.child("podReplacementPolicy"),
                p,
                &["Failed"],
            ));
        }
    }
    if let Some(pfp) = &spec.pod_failure_policy {
        for (i, r) in pfp.rules.iter().enumerate() {
            let actions = ["Count", "FailIndex", "FailJob", "Ignore"];
            if !actions.contains(&r.action.as_str()) {
                errs.push(FieldError::not_supported(
                    &path
                        .child("podFailurePolicy")
                        .child("rules")
                        .index(i)
                        .child("action"),
                    r.action.as_str(),
                    &actions,
                ));
            }
        }
    }
    let tp = path.child("template");
    errs.extend(validate_pod_template_spec(&spec.template, &tp));
    let pod_spec = spec_or_default(spec.template.spec.as_ref());
    let restart = s(&pod_spec.restart_policy);
    let rp = tp.child("spec").child("restartPolicy");
    if restart != "OnFailure" && restart != "Never" {
        errs.push(FieldError::not_supported(
            &rp,
            restart,
            &["OnFailure", "Never"],
        ));
    } else if restart == "OnFailure" && spec.pod_failure_policy.is_some() {
        errs.push(FieldError::invalid(
            &rp,
            restart,
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }
    errs
}

/// The labels the server puts on a job's pods and in its generated
/// selector, keyed by the job's uid (upstream sets both the current and the
/// legacy key on the pods).
pub fn job_selector_labels(uid: &str) -> BTreeMap<String, String> {
    [CONTROLLER_UID_LABEL, "controller-uid"]
        .iter()
        .map(|k| (k.to_string(), uid.to_string()))
        .collect()
}

/// The job-name labels of a job's pods.
pub fn job_name_labels(name: &str) -> BTreeMap<String, String> {
    [JOB_NAME_LABEL, "job-name"]
        .iter()
        .map(|k| (k.to_string(), name.to_string()))
        .collect()
}

fn has_label(t: &PodTemplateSpec, key: &str, want: &str, path: &Path) -> Option<FieldError> {
    let labels = template_labels(t);
    let p = path.child("labels").key(key);
    match labels.get(key) {
        None => Some(FieldError::required(&p, want)),
        Some(v) if v != want => Some(FieldError::invalid(
            &p,
            serde_json::to_value(&labels).unwrap_or(Value::Null),
            format!("must be '{want}'"),
        )),
        Some(_) => None,
    }
}

/// A generated selector must be exactly the uid selector, with the labels
/// on the template (checked once the server has set the uid).
fn validate_generated_selector(job: &Job, spec: &JobSpec) -> Vec<FieldError> {
    let uid = s(&job.metadata.uid);
    if spec.manual_selector == Some(true) || uid.is_empty() {
        return Vec::new();
    }
    let name = s(&job.metadata.name);
    let mp = Path::new("spec").child("template").child("metadata");
    let mut errs = Vec::new();
    for (key, want) in [
        ("controller-uid", uid),
        ("job-name", name),
        (CONTROLLER_UID_LABEL, uid),
        (JOB_NAME_LABEL, name),
    ] {
        errs.extend(has_label(&spec.template, key, want, &mp));
    }
    let expected = LabelSelector {
        match_labels: Some([(CONTROLLER_UID_LABEL.to_string(), uid.to_string())].into()),
        match_expressions: None,
    };
    let actual = spec.selector.clone().unwrap_or_default();
    let same = actual.match_labels == expected.match_labels
        && actual.match_expressions.as_ref().is_none_or(Vec::is_empty);
    if !same {
        errs.push(FieldError::invalid(
            &Path::new("spec").child("selector"),
            serde_json::to_value(&actual).unwrap_or(Value::Null),
            "`selector` not auto-generated",
        ));
    }
    errs
}

/// A Job; `create` adds the generated-selector checks.
pub fn validate_job(job: &Job, namespaced: bool, create: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &job.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = job.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    if create {
        errs.extend(validate_generated_selector(job, &spec));
    }
    match &spec.selector {
        None => errs.push(FieldError::required(&sp.child("selector"), "")),
        Some(sel) => {
            errs.extend(validate_label_selector(sel, &sp.child("selector")));
            if is_convertible(sel) && !selector_matches(sel, &template_labels(&spec.template)) {
                errs.push(selector_mismatch(&spec.template, &sp.child("template")));
            }
        }
    }
    errs.extend(validate_job_spec_common(&spec, &sp));
    errs
}

/// A Job update: the selector, the pod template (but the scheduling
/// directives of a suspended job that never started) and the completion
/// settings are immutable.
pub fn validate_job_update(new: &Job, old: &Job) -> Vec<FieldError> {
    let n = new.spec.clone().unwrap_or_default();
    let o = old.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let mut errs = Vec::new();
    errs.extend(immutable(&n.selector, &o.selector, &sp.child("selector")));
    let mut old_template = o.template.clone();
    let never_started = old.status.as_ref().is_none_or(|st| st.start_time.is_none());
    if n.suspend == Some(true) && never_started {
        let (nm, om) = (
            n.template.metadata.clone(),
            old_template.metadata.get_or_insert_with(Default::default),
        );
        om.labels = nm.as_ref().and_then(|m| m.labels.clone());
        om.annotations = nm.as_ref().and_then(|m| m.annotations.clone());
        if let (Some(ns), Some(os)) = (&n.template.spec, old_template.spec.as_mut()) {
            os.node_selector.clone_from(&ns.node_selector);
            os.tolerations.clone_from(&ns.tolerations);
            os.affinity.clone_from(&ns.affinity);
            os.scheduling_gates.clone_from(&ns.scheduling_gates);
        }
    }
    let a = super::pod_update::prune(serde_json::to_value(&n.template).unwrap_or(Value::Null));
    let b = super::pod_update::prune(serde_json::to_value(&old_template).unwrap_or(Value::Null));
    if a != b {
        errs.push(FieldError::invalid(
            &sp.child("template"),
            a,
            super::meta::FIELD_IMMUTABLE,
        ));
    }
    let indexed = s(&n.completion_mode) == "Indexed";
    if !indexed {
        errs.extend(immutable(
            &n.completions,
            &o.completions,
            &sp.child("completions"),
        ));
    } else if n.completions != o.completions && n.completions != n.parallelism {
        errs.push(FieldError::invalid(
            &sp.child("completions"),
            serde_json::to_value(n.completions).unwrap_or(Value::Null),
            "can only be modified in tandem with spec.parallelism",
        ));
    }
    errs.extend(immutable(
        &n.completion_mode,
        &o.completion_mode,
        &sp.child("completionMode"),
    ));
    errs.extend(immutable(
        &n.pod_failure_policy,
        &o.pod_failure_policy,
        &sp.child("podFailurePolicy"),
    ));
    errs.extend(immutable(
        &n.backoff_limit_per_index,
        &o.backoff_limit_per_index,
        &sp.child("backoffLimitPerIndex"),
    ));
    errs.extend(immutable(
        &n.managed_by,
        &o.managed_by,
        &sp.child("managedBy"),
    ));
    errs.extend(immutable(
        &n.success_policy,
        &o.success_policy,
        &sp.child("successPolicy"),
    ));
    errs
}

/// A CronJob.
pub fn validate_cron_job(cj: &CronJob, namespaced: bool, create: bool) -> Vec<FieldError> {
    let mp = Path::new("metadata");
    let mut errs = validate_object_meta(&cj.metadata, namespaced, name_is_dns_subdomain, &mp);
    let name = s(&cj.metadata.name);
    if create && name.len() > 52 {
        // The controller appends an 11-character suffix to make job names.
        errs.push(FieldError::invalid(
            &mp.child("name"),
            name,
            "must be no more than 52 characters",
        ));
    }
    let spec = cj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let schedule_path = sp.child("schedule");
    if spec.schedule.is_empty() {
        errs.push(FieldError::required(&schedule_path, ""));
    } else {
        if let Err(e) = parse_schedule(&spec.schedule) {
            errs.push(FieldError::invalid(
                &schedule_path,
                spec.schedule.as_str(),
                e,
            ));
        }
        if create && spec.schedule.contains("TZ") {
            errs.push(FieldError::invalid(
                &schedule_path,
                spec.schedule.as_str(),
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    if let Some(d) = spec.starting_deadline_seconds {
        errs.extend(nonnegative(d, &sp.child("startingDeadlineSeconds")));
    }
    if let Some(tz) = spec.time_zone.as_deref() {
        let tzp = sp.child("timeZone");
        if tz.is_empty() {
            errs.push(FieldError::invalid(
                &tzp,
                tz,
                "timeZone must be nil or non-empty string",
            ));
        } else if tz.eq_ignore_ascii_case("local") {
            errs.push(FieldError::invalid(
                &tzp,
                tz,
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            ));
        } else if !tz
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        {
            errs.push(FieldError::invalid(
                &tzp,
                tz,
                format!("unknown time zone {tz}"),
            ));
        }
    }
    match s(&spec.concurrency_policy) {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(FieldError::required(&sp.child("concurrencyPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            &sp.child("concurrencyPolicy"),
            other,
            &["Allow", "Forbid", "Replace"],
        )),
    }
    for (field, v) in [
        (
            "successfulJobsHistoryLimit",
            spec.successful_jobs_history_limit,
        ),
        ("failedJobsHistoryLimit", spec.failed_jobs_history_limit),
    ] {
        if let Some(v) = v {
            errs.extend(nonnegative(i64::from(v), &sp.child(field)));
        }
    }
    let jt = sp.child("jobTemplate");
    let jmeta = spec.job_template.metadata.as_ref();
    errs.extend(validate_labels(
        jmeta.and_then(|m| m.labels.as_ref()),
        &jt.child("metadata").child("labels"),
    ));
    errs.extend(validate_annotations(
        jmeta.and_then(|m| m.annotations.as_ref()),
        &jt.child("metadata").child("annotations"),
    ));
    let job_spec = spec.job_template.spec.clone().unwrap_or_default();
    let jsp = jt.child("spec");
    errs.extend(validate_job_spec_common(&job_spec, &jsp));
    if let Some(sel) = &job_spec.selector {
        errs.push(FieldError::invalid(
            &jsp.child("selector"),
            serde_json::to_value(sel).unwrap_or(Value::Null),
            "`selector` will be auto-generated",
        ));
    }
    if job_spec.manual_selector == Some(true) {
        errs.push(FieldError::not_supported(
            &jsp.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
    errs
}

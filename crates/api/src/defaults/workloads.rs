//! Workload defaults: ReplicationControllers, Deployments, ReplicaSets,
//! DaemonSets, StatefulSets, Jobs and CronJobs (and the pod templates
//! inside them).

use serde_json::{Map, Value, json};

use super::pod::template;
use super::{child, child_or_insert, each, has_entries, set, set_str};
use crate::validation::batch::{CONTROLLER_UID_LABEL, job_name_labels, job_selector_labels};

type Obj = Map<String, Value>;

fn template_labels(spec: &Obj) -> Option<Value> {
    spec.get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.is_object())
        .cloned()
}

/// The object's own labels default to its template's.
fn labels_from_template(o: &mut Obj, labels: Option<Value>) {
    let Some(labels) = labels else { return };
    if let Some(meta) = child_or_insert(o, "metadata")
        && !has_entries(meta, "labels")
    {
        meta.insert("labels".into(), labels);
    }
}

/// A ReplicationController: selector and labels from the template's labels.
pub(crate) fn replication_controller(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    let labels = template_labels(spec);
    if let Some(l) = &labels
        && !has_entries(spec, "selector")
    {
        spec.insert("selector".into(), l.clone());
    }
    set(spec, "replicas", json!(1));
    if let Some(t) = child(spec, "template") {
        template(t);
    }
    labels_from_template(o, labels);
}

/// A Deployment: one replica, a 25%/25% rolling update, 10 old ReplicaSets
/// kept, 600s to make progress.
pub(crate) fn deployment(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    set(spec, "replicas", json!(1));
    if let Some(strategy) = child_or_insert(spec, "strategy") {
        set_str(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child_or_insert(strategy, "rollingUpdate")
        {
            set(ru, "maxUnavailable", json!("25%"));
            set(ru, "maxSurge", json!("25%"));
        }
    }
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    if let Some(t) = child_or_insert(spec, "template") {
        template(t);
    }
}

/// A ReplicaSet: one replica.
pub(crate) fn replica_set(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    set(spec, "replicas", json!(1));
    if let Some(t) = child(spec, "template") {
        template(t);
    }
}

/// A DaemonSet: a rolling update of one node at a time without surge, 10
/// old revisions kept.
pub(crate) fn daemon_set(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    if let Some(strategy) = child_or_insert(spec, "updateStrategy") {
        set_str(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child_or_insert(strategy, "rollingUpdate")
        {
            set(ru, "maxUnavailable", json!(1));
            set(ru, "maxSurge", json!(0));
        }
    }
    set(spec, "revisionHistoryLimit", json!(10));
    if let Some(t) = child_or_insert(spec, "template") {
        template(t);
    }
}

/// A StatefulSet: one replica, pods one by one in order, a rolling update
/// from partition 0, 10 old revisions kept, claims retained; and each
/// claim template's own defaults. (`maxUnavailable` belongs to an alpha
/// feature upstream and is not defaulted.)
pub(crate) fn stateful_set(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    set_str(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = child_or_insert(spec, "updateStrategy") {
        // Upstream creates the rollingUpdate only together with the type.
        if strategy.get("type").is_none_or(|t| t.is_null() || t == "") {
            strategy.insert("type".into(), json!("RollingUpdate"));
            set(strategy, "rollingUpdate", json!({}));
        }
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child(strategy, "rollingUpdate")
        {
            set(ru, "partition", json!(0));
        }
    }
    if let Some(policy) = child_or_insert(spec, "persistentVolumeClaimRetentionPolicy") {
        set_str(policy, "whenDeleted", "Retain");
        set_str(policy, "whenScaled", "Retain");
    }
    set(spec, "replicas", json!(1));
    set(spec, "revisionHistoryLimit", json!(10));
    if let Some(t) = child_or_insert(spec, "template") {
        template(t);
    }
    for claim in each(spec, "volumeClaimTemplates") {
        if let Some(status) = child_or_insert(claim, "status") {
            set_str(status, "phase", "Pending");
        }
        if let Some(claim_spec) = child_or_insert(claim, "spec") {
            set_str(claim_spec, "volumeMode", "Filesystem");
        }
    }
}

/// A Job: one pod at a time to one completion, six retries, and the
/// current API's policies.
pub(crate) fn job(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    let unset = |m: &Obj, k: &str| m.get(k).is_none_or(Value::is_null);
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
    }
    set(spec, "parallelism", json!(1));
    let backoff = if unset(spec, "backoffLimitPerIndex") {
        i64::from(6)
    } else {
        i64::from(i32::MAX)
    };
    set(spec, "backoffLimit", json!(backoff));
    set(spec, "completionMode", json!("NonIndexed"));
    set(spec, "suspend", json!(false));
    set(spec, "manualSelector", json!(false));
    let has_failure_policy = !unset(spec, "podFailurePolicy");
    if let Some(pfp) = child(spec, "podFailurePolicy") {
        for rule in each(pfp, "rules") {
            for pattern in each(rule, "onPodConditions") {
                set_str(pattern, "status", "True");
            }
        }
    }
    let replacement = if has_failure_policy {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    set(spec, "podReplacementPolicy", json!(replacement));
    if let Some(t) = child_or_insert(spec, "template") {
        template(t);
    }
    let labels = template_labels(spec);
    labels_from_template(o, labels);
}

/// A CronJob: concurrent runs allowed, not suspended, 3 successful and 1
/// failed job kept.
pub(crate) fn cron_job(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    set_str(spec, "concurrencyPolicy", "Allow");
    set(spec, "suspend", json!(false));
    set(spec, "successfulJobsHistoryLimit", json!(3));
    set(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(t) = child(spec, "jobTemplate")
        .and_then(|jt| child(jt, "spec"))
        .and_then(|js| child(js, "template"))
    {
        template(t);
    }
}

/// Gives a Job the selector and pod labels upstream generates for it
/// (unless `spec.manualSelector` is true): the job-name and controller-uid
/// labels on the template where absent, and a selector on the uid. Labels
/// the user already set are kept; validation then rejects a mismatch. The
/// job's own labels default to the template's, as upstream's read-back
/// defaulting gives them.
pub fn generate_job_selector(job: &mut Value, uid: &str) {
    let Some(o) = job.as_object_mut() else { return };
    let name = o
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let Some(labels) = child_or_insert(spec, "template")
        .and_then(|t| child_or_insert(t, "metadata"))
        .and_then(|m| child_or_insert(m, "labels"))
    else {
        return;
    };
    for (k, v) in job_name_labels(&name)
        .into_iter()
        .chain(job_selector_labels(uid))
    {
        labels.entry(k).or_insert(Value::String(v));
    }
    if let Some(ml) =
        child_or_insert(spec, "selector").and_then(|s| child_or_insert(s, "matchLabels"))
    {
        ml.entry(CONTROLLER_UID_LABEL).or_insert(json!(uid));
    }
    let labels = template_labels(spec);
    labels_from_template(o, labels);
}

//! Workload kinds: pod templates, replication controllers, replica sets,
//! deployments, controller revisions, jobs and cron jobs.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Printer, Row};
use crate::column::{Column, age, containers_and_images, core, doc, name, text};
use crate::format::{containers, format_label_selector, format_labels, label_selector, since};
use crate::value::{
    array_at, at, created, int_at, is_deleting, name_of, opt_bool_at, opt_int_at, opt_str_at,
    str_at, time_at,
};

fn apps(type_name: &str) -> String {
    format!("io.k8s.api.apps.v1.{type_name}")
}

fn batch(type_name: &str) -> String {
    format!("io.k8s.api.batch.v1.{type_name}")
}

/// The template's pod spec, under `path`.
fn pod_spec<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    at(obj, path)
}

/// `spec.replicas`, which upstream's defaulting sets to 1 when omitted.
fn desired(obj: &Value) -> i64 {
    opt_int_at(obj, &["spec", "replicas"]).unwrap_or(1)
}

pub(crate) const POD_TEMPLATE: Printer = Printer {
    columns: || {
        vec![
            name(),
            text(
                "Containers",
                "string",
                "Names of each container in the template.",
            ),
            text(
                "Images",
                "string",
                "Images referenced by each container in the template.",
            ),
            text("Pod Labels", "string", "The labels for the pod template."),
        ]
    },
    row: |obj, _| {
        let (names, images) = containers(pod_spec(obj, &["template", "spec"]));
        Row::cells(vec![
            json!(name_of(obj)),
            json!(names),
            json!(images),
            json!(format_labels(obj, &["template", "metadata", "labels"])),
        ])
    },
};

/// DESIRED, CURRENT, READY, AGE; wide CONTAINERS, IMAGES, SELECTOR.
fn replica_columns(spec: &str, status: &str) -> Vec<Column> {
    let [containers, images] = containers_and_images();
    vec![
        name(),
        Column::new("Desired", "integer", doc(spec, "replicas")),
        Column::new("Current", "integer", doc(status, "replicas")),
        Column::new("Ready", "integer", doc(status, "readyReplicas")),
        age(),
        containers,
        images,
        Column::new("Selector", "string", doc(spec, "selector")).wide(),
    ]
}

fn replica_cells(obj: &Value, now: DateTime<Utc>, selector: String) -> Vec<Value> {
    let (names, images) = containers(pod_spec(obj, &["spec", "template", "spec"]));
    vec![
        json!(name_of(obj)),
        json!(desired(obj)),
        json!(int_at(obj, &["status", "replicas"])),
        json!(int_at(obj, &["status", "readyReplicas"])),
        json!(since(created(obj), now)),
        json!(names),
        json!(images),
        json!(selector),
    ]
}

pub(crate) const REPLICATION_CONTROLLER: Printer = Printer {
    columns: || {
        replica_columns(
            &core("ReplicationControllerSpec"),
            &core("ReplicationControllerStatus"),
        )
    },
    // A replication controller's selector is a plain label map.
    row: |obj, now| {
        Row::cells(replica_cells(
            obj,
            now,
            format_labels(obj, &["spec", "selector"]),
        ))
    },
};

pub(crate) const REPLICA_SET: Printer = Printer {
    columns: || replica_columns(&apps("ReplicaSetSpec"), &apps("ReplicaSetStatus")),
    row: |obj, now| {
        let selector = format_label_selector(obj, &["spec", "selector"]);
        Row::cells(replica_cells(obj, now, selector))
    },
};

pub(crate) const DEPLOYMENT: Printer = Printer {
    columns: || {
        let [containers, images] = containers_and_images();
        vec![
            name(),
            text("Ready", "string", "Number of the pod with ready state"),
            Column::new(
                "Up-to-date",
                "string",
                doc(&apps("DeploymentStatus"), "updatedReplicas"),
            ),
            Column::new(
                "Available",
                "string",
                doc(&apps("DeploymentStatus"), "availableReplicas"),
            ),
            age(),
            containers,
            images,
            Column::new(
                "Selector",
                "string",
                doc(&apps("DeploymentSpec"), "selector"),
            )
            .wide(),
        ]
    },
    row: |obj, now| {
        let (names, images) = containers(pod_spec(obj, &["spec", "template", "spec"]));
        // Unlike other workloads, an empty selector prints as "".
        let selector = match label_selector(at(obj, &["spec", "selector"])) {
            Some(s) => s.to_string(),
            None => "<invalid>".to_string(),
        };
        Row::cells(vec![
            json!(name_of(obj)),
            json!(format!(
                "{}/{}",
                int_at(obj, &["status", "readyReplicas"]),
                desired(obj)
            )),
            json!(int_at(obj, &["status", "updatedReplicas"])),
            json!(int_at(obj, &["status", "availableReplicas"])),
            json!(since(created(obj), now)),
            json!(names),
            json!(images),
            json!(selector),
        ])
    },
};

/// `kind.group/name` of the controlling owner, lowercased, or `<none>`.
fn controller_of(obj: &Value) -> String {
    let Some(owner) = array_at(obj, &["metadata", "ownerReferences"])
        .iter()
        .find(|o| opt_bool_at(o, &["controller"]) == Some(true))
    else {
        return "<none>".to_string();
    };
    let api_version = str_at(owner, &["apiVersion"]);
    let group = match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    let kind = str_at(owner, &["kind"]);
    let name = str_at(owner, &["name"]);
    let group_kind = match (kind, group) {
        ("", "") => return name.to_string(),
        (kind, "") => kind.to_string(),
        (kind, group) => format!("{kind}.{group}"),
    };
    format!("{}/{name}", group_kind.to_lowercase())
}

pub(crate) const CONTROLLER_REVISION: Printer = Printer {
    columns: || {
        vec![
            name(),
            text("Controller", "string", "Controller of the object"),
            Column::new(
                "Revision",
                "string",
                doc(&apps("ControllerRevision"), "revision"),
            ),
            age(),
        ]
    },
    row: |obj, now| {
        Row::cells(vec![
            json!(name_of(obj)),
            json!(controller_of(obj)),
            json!(int_at(obj, &["revision"])),
            json!(since(created(obj), now)),
        ])
    },
};

/// Whether the job's first condition of this type is true.
fn job_condition(obj: &Value, kind: &str) -> bool {
    array_at(obj, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == kind)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

fn job_status(obj: &Value) -> &'static str {
    if job_condition(obj, "Complete") {
        "Complete"
    } else if job_condition(obj, "Failed") {
        "Failed"
    } else if is_deleting(obj) {
        "Terminating"
    } else if job_condition(obj, "Suspended") {
        "Suspended"
    } else if job_condition(obj, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

fn completions(obj: &Value) -> String {
    let succeeded = int_at(obj, &["status", "succeeded"]);
    match opt_int_at(obj, &["spec", "completions"]) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match opt_int_at(obj, &["spec", "parallelism"]).unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    }
}

fn job_duration(obj: &Value, now: DateTime<Utc>) -> String {
    let Some(start) = time_at(obj, &["status", "startTime"]) else {
        return String::new();
    };
    let end = time_at(obj, &["status", "completionTime"]).unwrap_or(now);
    crate::format::human_duration(end - start)
}

pub(crate) const JOB: Printer = Printer {
    columns: || {
        let [containers, images] = containers_and_images();
        vec![
            name(),
            text("Status", "string", "Status of the job."),
            Column::new(
                "Completions",
                "string",
                doc(&batch("JobStatus"), "succeeded"),
            ),
            text("Duration", "string", "Time required to complete the job."),
            age(),
            containers,
            images,
            Column::new("Selector", "string", doc(&batch("JobSpec"), "selector")).wide(),
        ]
    },
    row: |obj, now| {
        let (names, images) = containers(pod_spec(obj, &["spec", "template", "spec"]));
        Row::cells(vec![
            json!(name_of(obj)),
            json!(job_status(obj)),
            json!(completions(obj)),
            json!(job_duration(obj, now)),
            json!(since(created(obj), now)),
            json!(names),
            json!(images),
            json!(format_label_selector(obj, &["spec", "selector"])),
        ])
    },
};

pub(crate) const CRON_JOB: Printer = Printer {
    columns: || {
        let [containers, images] = containers_and_images();
        let spec = batch("CronJobSpec");
        let status = batch("CronJobStatus");
        vec![
            name(),
            Column::new("Schedule", "string", doc(&spec, "schedule")),
            Column::new("Timezone", "string", doc(&spec, "timeZone")),
            Column::new("Suspend", "boolean", doc(&spec, "suspend")),
            Column::new("Active", "integer", doc(&status, "active")),
            Column::new("Last Schedule", "string", doc(&status, "lastScheduleTime")),
            age(),
            containers,
            images,
            Column::new("Selector", "string", doc(&batch("JobSpec"), "selector")).wide(),
        ]
    },
    row: |obj, now| {
        let template = &["spec", "jobTemplate", "spec", "template", "spec"];
        let (names, images) = containers(pod_spec(obj, template));
        let last_schedule = match time_at(obj, &["status", "lastScheduleTime"]) {
            Some(t) => since(Some(t), now),
            None => "<none>".to_string(),
        };
        let suspend = match opt_bool_at(obj, &["spec", "suspend"]) {
            Some(true) => "True",
            Some(false) => "False",
            None => "<unset>",
        };
        Row::cells(vec![
            json!(name_of(obj)),
            json!(str_at(obj, &["spec", "schedule"])),
            json!(opt_str_at(obj, &["spec", "timeZone"]).unwrap_or("<none>")),
            json!(suspend),
            json!(array_at(obj, &["status", "active"]).len()),
            json!(last_schedule),
            json!(since(created(obj), now)),
            json!(names),
            json!(images),
            json!(format_label_selector(
                obj,
                &["spec", "jobTemplate", "spec", "selector"]
            )),
        ])
    },
};

#[cfg(test)]
mod tests;

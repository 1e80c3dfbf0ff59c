//! The workloads that place pods per node or per ordinal: daemon sets and
//! stateful sets.

use serde_json::json;

use super::{Printer, Row};
use crate::column::{Column, age, containers_and_images, core, doc, name, text};
use crate::format::{containers, format_label_selector, format_labels, since};
use crate::value::{at, created, int_at, name_of, opt_int_at};

fn apps(type_name: &str) -> String {
    format!("io.k8s.api.apps.v1.{type_name}")
}

/// DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE, NODE SELECTOR, AGE;
/// wide CONTAINERS, IMAGES, SELECTOR.
pub(crate) const DAEMON_SET: Printer = Printer {
    columns: || {
        let status = apps("DaemonSetStatus");
        let [containers, images] = containers_and_images();
        vec![
            name(),
            Column::new("Desired", "integer", doc(&status, "desiredNumberScheduled")),
            Column::new("Current", "integer", doc(&status, "currentNumberScheduled")),
            Column::new("Ready", "integer", doc(&status, "numberReady")),
            Column::new(
                "Up-to-date",
                "integer",
                doc(&status, "updatedNumberScheduled"),
            ),
            Column::new("Available", "integer", doc(&status, "numberAvailable")),
            Column::new(
                "Node Selector",
                "string",
                doc(&core("PodSpec"), "nodeSelector"),
            ),
            age(),
            containers,
            images,
            Column::new(
                "Selector",
                "string",
                doc(&apps("DaemonSetSpec"), "selector"),
            )
            .wide(),
        ]
    },
    row: |obj, now| {
        let template = &["spec", "template", "spec"];
        let (names, images) = containers(at(obj, template));
        let status = |field| json!(int_at(obj, &["status", field]));
        Row::cells(vec![
            json!(name_of(obj)),
            status("desiredNumberScheduled"),
            status("currentNumberScheduled"),
            status("numberReady"),
            status("updatedNumberScheduled"),
            status("numberAvailable"),
            json!(format_labels(
                obj,
                &["spec", "template", "spec", "nodeSelector"]
            )),
            json!(since(created(obj), now)),
            json!(names),
            json!(images),
            json!(format_label_selector(obj, &["spec", "selector"])),
        ])
    },
};

/// READY (`ready/desired`), AGE; wide CONTAINERS, IMAGES.
pub(crate) const STATEFUL_SET: Printer = Printer {
    columns: || {
        let [containers, images] = containers_and_images();
        vec![
            name(),
            text("Ready", "string", "Number of the pod with ready state"),
            age(),
            containers,
            images,
        ]
    },
    row: |obj, now| {
        let (names, images) = containers(at(obj, &["spec", "template", "spec"]));
        // Defaulting sets spec.replicas to 1 when omitted.
        let desired = opt_int_at(obj, &["spec", "replicas"]).unwrap_or(1);
        Row::cells(vec![
            json!(name_of(obj)),
            json!(format!(
                "{}/{desired}",
                int_at(obj, &["status", "readyReplicas"])
            )),
            json!(since(created(obj), now)),
            json!(names),
            json!(images),
        ])
    },
};

#[cfg(test)]
mod tests;

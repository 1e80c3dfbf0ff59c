//! Which fields each resource lets clients select on, and their values.
//!
//! Upstream decides this in two places that do not fully agree, and both
//! are reproduced here:
//! - the per-kind field label conversion (`AddFieldLabelConversionFunc` in
//!   `pkg/apis/<group>/<version>/conversion.go`) decides which labels are
//!   accepted, renames some (pods' legacy `spec.host`, events.k8s.io's
//!   `regarding.*`), and words the rejection. Kinds without one accept only
//!   `metadata.name` and `metadata.namespace` (which is why apps/v1
//!   ReplicaSets reject `status.replicas` upstream).
//! - the registry's `ToSelectableFields` renders the values. A label that is
//!   accepted but never rendered (pods' `status.podIPs`) reads as "".

use serde_json::Value;

use super::SelectorError;
use super::validation::go_quote;
use crate::registry::ResourceInfo;

/// How a kind words the rejection of an unsupported label.
#[derive(Clone, Copy)]
enum Reject {
    /// `field label not supported: X`, most per-kind conversions.
    NotSupported,
    /// batch/v1 Job's `field label "X" not supported for batchv1.Job`.
    Job,
    /// The generic conversion: `"X" is not a known field selector: only ...`.
    Generic,
}

/// A kind's accepted labels: (what the client writes, the canonical label).
struct Rules {
    accepted: &'static [(&'static str, &'static str)],
    reject: Reject,
}

const NAME: (&str, &str) = ("metadata.name", "metadata.name");
const NAMESPACE: (&str, &str) = ("metadata.namespace", "metadata.namespace");

const fn same(label: &'static str) -> (&'static str, &'static str) {
    (label, label)
}

static GENERIC: Rules = Rules {
    accepted: &[NAME, NAMESPACE],
    reject: Reject::Generic,
};

static PODS: Rules = Rules {
    accepted: &[
        NAME,
        NAMESPACE,
        same("spec.nodeName"),
        same("spec.restartPolicy"),
        same("spec.schedulerName"),
        same("spec.serviceAccountName"),
        same("spec.hostNetwork"),
        same("status.phase"),
        same("status.podIP"),
        same("status.podIPs"),
        same("status.nominatedNodeName"),
        // Old v1 clients send spec.host.
        ("spec.host", "spec.nodeName"),
    ],
    reject: Reject::NotSupported,
};

static NODES: Rules = Rules {
    accepted: &[NAME, same("spec.unschedulable")],
    reject: Reject::NotSupported,
};

static NAMESPACES: Rules = Rules {
    accepted: &[same("status.phase"), NAME],
    reject: Reject::NotSupported,
};

static SECRETS: Rules = Rules {
    accepted: &[same("type"), NAMESPACE, NAME],
    reject: Reject::NotSupported,
};

static SERVICES: Rules = Rules {
    accepted: &[NAMESPACE, NAME, same("spec.clusterIP"), same("spec.type")],
    reject: Reject::NotSupported,
};

static REPLICATION_CONTROLLERS: Rules = Rules {
    accepted: &[NAME, NAMESPACE, same("status.replicas")],
    reject: Reject::NotSupported,
};

static CORE_EVENTS: Rules = Rules {
    accepted: &[
        same("involvedObject.kind"),
        same("involvedObject.namespace"),
        same("involvedObject.name"),
        same("involvedObject.uid"),
        same("involvedObject.apiVersion"),
        same("involvedObject.resourceVersion"),
        same("involvedObject.fieldPath"),
        same("reason"),
        same("reportingComponent"),
        same("source"),
        same("type"),
        NAMESPACE,
        NAME,
    ],
    reject: Reject::NotSupported,
};

static EVENTS_K8S_IO: Rules = Rules {
    accepted: &[
        same("reason"),
        ("regarding.kind", "involvedObject.kind"),
        ("regarding.namespace", "involvedObject.namespace"),
        ("regarding.name", "involvedObject.name"),
        ("regarding.uid", "involvedObject.uid"),
        ("regarding.apiVersion", "involvedObject.apiVersion"),
        (
            "regarding.resourceVersion",
            "involvedObject.resourceVersion",
        ),
        ("regarding.fieldPath", "involvedObject.fieldPath"),
        ("reportingController", "reportingComponent"),
        same("source"),
        same("type"),
        NAMESPACE,
        NAME,
    ],
    reject: Reject::NotSupported,
};

static JOBS: Rules = Rules {
    accepted: &[NAME, NAMESPACE, same("status.successful")],
    reject: Reject::Job,
};

fn rules(info: &ResourceInfo) -> &'static Rules {
    match (info.group, info.plural) {
        ("", "pods") => &PODS,
        ("", "nodes") => &NODES,
        ("", "namespaces") => &NAMESPACES,
        ("", "secrets") => &SECRETS,
        ("", "services") => &SERVICES,
        ("", "replicationcontrollers") => &REPLICATION_CONTROLLERS,
        ("", "events") => &CORE_EVENTS,
        ("events.k8s.io", "events") => &EVENTS_K8S_IO,
        ("batch", "jobs") => &JOBS,
        _ => &GENERIC,
    }
}

/// The labels a resource accepts in field selectors, in upstream's order
/// (pods' legacy alias `spec.host` is accepted too but not listed).
pub fn supported_fields(info: &ResourceInfo) -> Vec<&'static str> {
    rules(info)
        .accepted
        .iter()
        .map(|(label, _)| *label)
        .filter(|label| *label != "spec.host")
        .collect()
}

/// The canonical label for what a client wrote, or upstream's rejection.
pub(super) fn canonical_field(
    info: &ResourceInfo,
    label: &str,
) -> Result<&'static str, SelectorError> {
    let rules = rules(info);
    if let Some((_, canonical)) = rules.accepted.iter().find(|(l, _)| *l == label) {
        return Ok(canonical);
    }
    let message = match rules.reject {
        Reject::NotSupported => format!("field label not supported: {label}"),
        Reject::Job => format!(
            "field label {} not supported for batchv1.Job",
            go_quote(label)
        ),
        Reject::Generic => format!(
            "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            go_quote(label)
        ),
    };
    Err(SelectorError::UnsupportedField {
        field: label.to_string(),
        message,
    })
}

/// The value of a selectable field as upstream's field set renders it:
/// strings as they are ("" when absent), booleans as `true`/`false`,
/// counts as decimal integers. `None` when the resource does not accept
/// the field.
pub fn field_value(info: &ResourceInfo, obj: &Value, field: &str) -> Option<String> {
    let canonical = canonical_field(info, field).ok()?;
    Some(field_value_canonical(info, obj, canonical))
}

fn at<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, key| v.get(*key))
}

fn string_at(obj: &Value, path: &[&str]) -> String {
    at(obj, path)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn bool_at(obj: &Value, path: &[&str]) -> String {
    at(obj, path)
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string()
}

fn int_at(obj: &Value, path: &[&str]) -> String {
    at(obj, path)
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .to_string()
}

fn first_non_empty(a: String, b: impl FnOnce() -> String) -> String {
    if a.is_empty() { b() } else { a }
}

/// Renders a canonical label. Events may be stored in either API's shape
/// (both APIs share storage), so the event fields read whichever the
/// object carries.
pub(super) fn field_value_canonical(info: &ResourceInfo, obj: &Value, canonical: &str) -> String {
    match canonical {
        "metadata.name" => return string_at(obj, &["metadata", "name"]),
        // Cluster-scoped field sets have no namespace.
        "metadata.namespace" if !info.namespaced => return String::new(),
        "metadata.namespace" => return string_at(obj, &["metadata", "namespace"]),
        _ => {}
    }
    match (info.group, info.plural) {
        ("", "pods") => pod_field(obj, canonical),
        ("", "nodes") if canonical == "spec.unschedulable" => {
            bool_at(obj, &["spec", "unschedulable"])
        }
        ("", "namespaces") if canonical == "status.phase" => string_at(obj, &["status", "phase"]),
        ("", "secrets") if canonical == "type" => string_at(obj, &["type"]),
        ("", "services") if canonical == "spec.clusterIP" => string_at(obj, &["spec", "clusterIP"]),
        ("", "services") if canonical == "spec.type" => string_at(obj, &["spec", "type"]),
        ("", "replicationcontrollers") if canonical == "status.replicas" => {
            int_at(obj, &["status", "replicas"])
        }
        ("batch", "jobs") if canonical == "status.successful" => {
            int_at(obj, &["status", "succeeded"])
        }
        ("", "events") | ("events.k8s.io", "events") => event_field(obj, canonical),
        _ => String::new(),
    }
}

fn pod_field(obj: &Value, canonical: &str) -> String {
    match canonical {
        "spec.nodeName" => string_at(obj, &["spec", "nodeName"]),
        "spec.restartPolicy" => string_at(obj, &["spec", "restartPolicy"]),
        "spec.schedulerName" => string_at(obj, &["spec", "schedulerName"]),
        "spec.serviceAccountName" => {
            first_non_empty(string_at(obj, &["spec", "serviceAccountName"]), || {
                string_at(obj, &["spec", "serviceAccount"])
            })
        }
        "spec.hostNetwork" => bool_at(obj, &["spec", "hostNetwork"]),
        "status.phase" => string_at(obj, &["status", "phase"]),
        // Upstream renders the first of status.podIPs, which the v1 API
        // fills from status.podIP.
        "status.podIP" => first_non_empty(
            at(obj, &["status", "podIPs"])
                .and_then(|ips| ips.get(0))
                .map(|ip| string_at(ip, &["ip"]))
                .unwrap_or_default(),
            || string_at(obj, &["status", "podIP"]),
        ),
        "status.nominatedNodeName" => string_at(obj, &["status", "nominatedNodeName"]),
        _ => String::new(),
    }
}

fn event_field(obj: &Value, canonical: &str) -> String {
    let new_shape = obj.get("apiVersion").and_then(Value::as_str) == Some("events.k8s.io/v1");
    let (reference, controller, source) = if new_shape {
        ("regarding", "reportingController", "deprecatedSource")
    } else {
        ("involvedObject", "reportingComponent", "source")
    };
    if let Some(field) = canonical.strip_prefix("involvedObject.") {
        return string_at(obj, &[reference, field]);
    }
    match canonical {
        "reason" => string_at(obj, &["reason"]),
        "type" => string_at(obj, &["type"]),
        "reportingComponent" => string_at(obj, &[controller]),
        "source" => first_non_empty(string_at(obj, &[source, "component"]), || {
            string_at(obj, &[controller])
        }),
        _ => String::new(),
    }
}

//! Events in both APIs. Core v1 events get upstream's lenient legacy rules;
//! events.k8s.io/v1 ones the strict rules of the newer API (reported with
//! that API's field names).

use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
use k8s_openapi::api::events::v1::Event;

use super::error::{FieldError, Path};
use super::meta::{immutable, s, validate_object_meta};
use super::names::{
    dns1123_subdomain_errors, name_is_dns_subdomain, name_is_path_segment, qualified_name_errors,
};

const LIMIT_128: usize = 128;
const NOTE_LIMIT: usize = 1024;

fn namespace_matches(
    event_ns: &str,
    regarding: Option<&ObjectReference>,
    has_time: bool,
    path: &Path,
) -> Option<FieldError> {
    let obj_ns = regarding.map_or("", |r| s(&r.namespace));
    let ok = if !has_time {
        if obj_ns.is_empty() {
            event_ns.is_empty() || event_ns == "default"
        } else {
            event_ns == obj_ns
        }
    } else {
        !obj_ns.is_empty() || event_ns == "default" || event_ns == "kube-system"
    };
    (!ok).then(|| FieldError::invalid(path, obj_ns, "does not match event.namespace"))
}

fn length(v: &str, max: usize, path: &Path) -> Option<FieldError> {
    (v.len() > max)
        .then(|| FieldError::invalid(path, "", format!("can have at most {max} characters")))
}

/// The fields a new-style event (one with eventTime) must carry.
struct Reported<'a> {
    controller: (&'a str, &'static str),
    instance: &'a str,
    action: &'a str,
    reason: &'a str,
    note: (&'a str, &'static str),
}

fn reported(r: &Reported<'_>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let cp = Path::new(r.controller.1);
    if r.controller.0.is_empty() {
        errs.push(FieldError::required(&cp, ""));
    }
    for m in qualified_name_errors(r.controller.0) {
        errs.push(FieldError::invalid(&cp, r.controller.0, m));
    }
    for (field, v) in [
        ("reportingInstance", r.instance),
        ("action", r.action),
        ("reason", r.reason),
    ] {
        let p = Path::new(field);
        if v.is_empty() {
            errs.push(FieldError::required(&p, ""));
        }
        errs.extend(length(v, LIMIT_128, &p));
    }
    errs.extend(length(r.note.0, NOTE_LIMIT, &Path::new(r.note.1)));
    errs
}

fn namespace_syntax(ns: &str) -> Vec<FieldError> {
    dns1123_subdomain_errors(ns)
        .into_iter()
        .map(|m| FieldError::invalid(&Path::new("namespace"), ns, m))
        .collect()
}

/// A core v1 Event (legacy rules: the name need only be a path segment).
pub fn validate_core_event(e: &CoreEvent, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &e.metadata,
        namespaced,
        name_is_path_segment,
        &Path::new("metadata"),
    );
    let ns = s(&e.metadata.namespace);
    let has_time = e.event_time.is_some();
    errs.extend(namespace_matches(
        ns,
        Some(&e.involved_object),
        has_time,
        &Path::new("involvedObject").child("namespace"),
    ));
    if has_time {
        errs.extend(reported(&Reported {
            controller: (s(&e.reporting_component), "reportingComponent"),
            instance: s(&e.reporting_instance),
            action: s(&e.action),
            reason: s(&e.reason),
            note: (s(&e.message), "message"),
        }));
    }
    if !ns.is_empty() {
        errs.extend(namespace_syntax(ns));
    }
    errs
}

/// An events.k8s.io/v1 Event: the legacy rules always, and the strict
/// rules of the newer API when `creating` (an update instead gets
/// [`validate_event_update`]), as upstream's `ValidateEventCreate` and
/// `ValidateEventUpdate` split them. So an event written through core/v1
/// (with core's deprecated fields set) can be updated through this API.
pub fn validate_event(e: &Event, namespaced: bool, creating: bool) -> Vec<FieldError> {
    let ns = s(&e.metadata.namespace);
    let has_time = e.event_time.is_some();
    let mut errs = Vec::new();
    errs.extend(namespace_matches(
        ns,
        e.regarding.as_ref(),
        has_time,
        &Path::new("regarding").child("namespace"),
    ));
    if has_time {
        errs.extend(reported(&Reported {
            controller: (s(&e.reporting_controller), "reportingController"),
            instance: s(&e.reporting_instance),
            action: s(&e.action),
            reason: s(&e.reason),
            note: (s(&e.note), "note"),
        }));
    }
    if !ns.is_empty() {
        errs.extend(namespace_syntax(ns));
    }
    if !creating {
        return errs;
    }
    errs.extend(validate_object_meta(
        &e.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    ));
    errs.extend(series_errors(e));
    if !has_time {
        errs.push(FieldError::required(&Path::new("eventTime"), ""));
    }
    let ty = s(&e.type_);
    if ty != "Normal" && ty != "Warning" {
        errs.push(FieldError::invalid(
            &Path::new("type"),
            "",
            format!("has invalid value: {ty}"),
        ));
    }
    for (field, set) in [
        (
            "deprecatedFirstTimestamp",
            e.deprecated_first_timestamp.is_some(),
        ),
        (
            "deprecatedLastTimestamp",
            e.deprecated_last_timestamp.is_some(),
        ),
        ("deprecatedCount", e.deprecated_count.unwrap_or(0) != 0),
        (
            "deprecatedSource",
            e.deprecated_source
                .as_ref()
                .is_some_and(|src| !s(&src.component).is_empty() || !s(&src.host).is_empty()),
        ),
    ] {
        if set {
            errs.push(FieldError::invalid(
                &Path::new(field),
                "",
                "needs to be unset",
            ));
        }
    }
    errs
}

fn series_errors(e: &Event) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(series) = &e.series {
        if series.count < 2 {
            errs.push(FieldError::invalid(
                &Path::new("series.count"),
                "",
                "should be at least 2",
            ));
        }
        if series.last_observed_time.0 == Default::default() {
            errs.push(FieldError::required(
                &Path::new("series.lastObservedTime"),
                "",
            ));
        }
    }
    errs
}

/// An events.k8s.io/v1 Event update: what was reported stays; only the
/// series (checked when it changes) and metadata may change.
pub fn validate_event_update(new: &Event, old: &Event) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if new.series != old.series {
        errs.extend(series_errors(new));
    }
    errs.extend(immutable(
        &new.regarding,
        &old.regarding,
        &Path::new("regarding"),
    ));
    errs.extend(immutable(&new.reason, &old.reason, &Path::new("reason")));
    errs.extend(immutable(&new.note, &old.note, &Path::new("note")));
    errs.extend(immutable(
        &new.deprecated_source,
        &old.deprecated_source,
        &Path::new("deprecatedSource"),
    ));
    errs.extend(immutable(
        &new.deprecated_first_timestamp,
        &old.deprecated_first_timestamp,
        &Path::new("deprecatedFirstTimestamp"),
    ));
    errs.extend(immutable(
        &new.deprecated_last_timestamp,
        &old.deprecated_last_timestamp,
        &Path::new("deprecatedLastTimestamp"),
    ));
    errs.extend(immutable(
        &new.deprecated_count,
        &old.deprecated_count,
        &Path::new("deprecatedCount"),
    ));
    errs.extend(immutable(
        &new.event_time,
        &old.event_time,
        &Path::new("eventTime"),
    ));
    errs.extend(immutable(&new.action, &old.action, &Path::new("action")));
    errs.extend(immutable(&new.related, &old.related, &Path::new("related")));
    errs.extend(immutable(
        &new.reporting_controller,
        &old.reporting_controller,
        &Path::new("reportingController"),
    ));
    errs.extend(immutable(
        &new.reporting_instance,
        &old.reporting_instance,
        &Path::new("reportingInstance"),
    ));
    errs.extend(immutable(&new.type_, &old.type_, &Path::new("type")));
    errs
}

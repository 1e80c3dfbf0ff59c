//! APIServices, with the columns kube-aggregator's own table gives them:
//! the backing service (or `Local`) and whether the API is available.

use serde_json::{Value, json};

use super::{Printer, Row};
use crate::column::{age, name, text};
use crate::format::since;
use crate::value::{array_at, at, created, name_of, str_at};

/// `namespace/name` of the backing service, or `Local`.
fn service(obj: &Value) -> String {
    match at(obj, &["spec", "service"]).filter(|s| !s.is_null()) {
        Some(s) => format!("{}/{}", str_at(s, &["namespace"]), str_at(s, &["name"])),
        None => "Local".to_string(),
    }
}

/// The Available condition: `True`, `False (Reason)`, or `Unknown` when
/// there is none.
fn available(obj: &Value) -> String {
    let Some(c) = array_at(obj, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Available")
    else {
        return "Unknown".to_string();
    };
    let (status, reason) = (str_at(c, &["status"]), str_at(c, &["reason"]));
    if status != "True" && !reason.is_empty() {
        format!("{status} ({reason})")
    } else {
        status.to_string()
    }
}

/// NAME, SERVICE, AVAILABLE, AGE.
pub(crate) const API_SERVICE: Printer = Printer {
    columns: || {
        vec![
            name(),
            text(
                "Service",
                "string",
                "The reference to the service that hosts this API endpoint.",
            ),
            text("Available", "string", "Whether this service is available."),
            age(),
        ]
    },
    row: |obj, now| {
        Row::cells(vec![
            json!(name_of(obj)),
            json!(service(obj)),
            json!(available(obj)),
            json!(since(created(obj), now)),
        ])
    },
};

#[cfg(test)]
mod tests;

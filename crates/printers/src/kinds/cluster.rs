//! Leases, role bindings, and the generic table upstream's API server uses
//! for kinds without a printer (roles, cluster roles, limit ranges, ...):
//! NAME and CREATED AT.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{Printer, Row};
use crate::column::{Column, OBJECT_META, age, doc, name, text};
use crate::format::since;
use crate::value::{array_at, created, name_of, str_at};

pub(crate) const LEASE: Printer = Printer {
    columns: || {
        vec![
            name(),
            Column::new(
                "Holder",
                "string",
                doc("io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity"),
            ),
            age(),
        ]
    },
    row: |lease, now| {
        Row::cells(vec![
            json!(name_of(lease)),
            json!(str_at(lease, &["spec", "holderIdentity"])),
            json!(since(created(lease), now)),
        ])
    },
};

fn binding_columns(kind: &'static str) -> Vec<Column> {
    let definition = format!("io.k8s.api.rbac.v1.{kind}");
    let (users, groups, sas) = match kind {
        "RoleBinding" => (
            "Users in the roleBinding",
            "Groups in the roleBinding",
            "ServiceAccounts in the roleBinding",
        ),
        _ => (
            "Users in the clusterRoleBinding",
            "Groups in the clusterRoleBinding",
            "ServiceAccounts in the clusterRoleBinding",
        ),
    };
    vec![
        name(),
        Column::new("Role", "string", doc(&definition, "roleRef")),
        age(),
        text("Users", "string", users).wide(),
        text("Groups", "string", groups).wide(),
        text("ServiceAccounts", "string", sas).wide(),
    ]
}

/// ROLE as `Kind/name`, then the subjects by kind (service accounts as
/// `namespace/name`), each list joined with ", ".
fn binding_row(binding: &Value, now: DateTime<Utc>) -> Row {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for subject in array_at(binding, &["subjects"]) {
        let name = str_at(subject, &["name"]);
        match str_at(subject, &["kind"]) {
            "ServiceAccount" => sas.push(format!("{}/{name}", str_at(subject, &["namespace"]))),
            "User" => users.push(name.to_string()),
            "Group" => groups.push(name.to_string()),
            _ => {}
        }
    }
    Row::cells(vec![
        json!(name_of(binding)),
        json!(format!(
            "{}/{}",
            str_at(binding, &["roleRef", "kind"]),
            str_at(binding, &["roleRef", "name"])
        )),
        json!(since(created(binding), now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ])
}

pub(crate) const ROLE_BINDING: Printer = Printer {
    columns: || binding_columns("RoleBinding"),
    row: binding_row,
};

pub(crate) const CLUSTER_ROLE_BINDING: Printer = Printer {
    columns: || binding_columns("ClusterRoleBinding"),
    row: binding_row,
};

/// Upstream's default table convertor.
pub(crate) const DEFAULT: Printer = Printer {
    columns: || {
        vec![
            name(),
            Column::new("Created At", "date", doc(OBJECT_META, "creationTimestamp")),
        ]
    },
    row: |obj, _| {
        // RFC 3339 in UTC to the second; the zero time when absent.
        let created_at = match created(obj) {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
            None => "0001-01-01T00:00:00Z".to_string(),
        };
        Row::cells(vec![json!(name_of(obj)), json!(created_at)])
    },
};

#[cfg(test)]
mod tests;

//! The policy file as written (audit.k8s.io/v1 `Policy`). Decoding is
//! lenient like upstream's fallback: unknown fields are reported by
//! [`unknown_fields`] (for a warning) and otherwise ignored.

use serde::Deserialize;
use serde_json::Value;

use crate::go_json::nullable;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilePolicy {
    /// `audit.k8s.io/v1`.
    #[serde(default, deserialize_with = "nullable")]
    pub api_version: String,
    /// `Policy`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// The rules; the first that matches decides.
    #[serde(default, deserialize_with = "nullable")]
    pub rules: Vec<FileRule>,
    /// Stages no event is written for, whatever the rule.
    #[serde(default, deserialize_with = "nullable")]
    pub omit_stages: Vec<String>,
    /// Whether bodies lose `metadata.managedFields` (rules may override).
    #[serde(default, deserialize_with = "nullable")]
    pub omit_managed_fields: bool,
}

/// One rule.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileRule {
    /// `None`, `Metadata`, `Request`, `RequestResponse`.
    #[serde(default, deserialize_with = "nullable")]
    pub level: String,
    /// User names it applies to (empty: all).
    #[serde(default, deserialize_with = "nullable")]
    pub users: Vec<String>,
    /// Groups it applies to (empty: all).
    #[serde(default, deserialize_with = "nullable")]
    pub user_groups: Vec<String>,
    /// Verbs it applies to (empty: all).
    #[serde(default, deserialize_with = "nullable")]
    pub verbs: Vec<String>,
    /// Resources it applies to.
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<FileGroupResources>,
    /// Namespaces it applies to ("" is cluster-scoped).
    #[serde(default, deserialize_with = "nullable")]
    pub namespaces: Vec<String>,
    /// Non-resource paths it applies to (`/healthz*`).
    #[serde(default, rename = "nonResourceURLs", deserialize_with = "nullable")]
    pub non_resource_urls: Vec<String>,
    /// Stages no event is written for.
    #[serde(default, deserialize_with = "nullable")]
    pub omit_stages: Vec<String>,
    /// Overrides the policy's `omitManagedFields`.
    #[serde(default)]
    pub omit_managed_fields: Option<bool>,
}

/// Resources of one group.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileGroupResources {
    /// The group ("" is core).
    #[serde(default, deserialize_with = "nullable")]
    pub group: String,
    /// Resources (`pods`, `pods/log`, `*/scale`, `pods/*`, `*`); empty:
    /// all of the group.
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<String>,
    /// Object names (empty: all).
    #[serde(default, deserialize_with = "nullable")]
    pub resource_names: Vec<String>,
}

const POLICY_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "rules",
    "omitStages",
    "omitManagedFields",
];
const RULE_FIELDS: &[&str] = &[
    "level",
    "users",
    "userGroups",
    "verbs",
    "resources",
    "namespaces",
    "nonResourceURLs",
    "omitStages",
    "omitManagedFields",
];
const GROUP_RESOURCES_FIELDS: &[&str] = &["group", "resources", "resourceNames"];

/// The paths of fields the policy does not know (`rules[0].levle`).
pub(crate) fn unknown_fields(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    unknown_in(doc, "", POLICY_FIELDS, &mut out);
    let rules = doc.get("rules").and_then(Value::as_array);
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        let path = format!("rules[{i}]");
        unknown_in(rule, &path, RULE_FIELDS, &mut out);
        let resources = rule.get("resources").and_then(Value::as_array);
        for (j, gr) in resources.into_iter().flatten().enumerate() {
            unknown_in(
                gr,
                &format!("{path}.resources[{j}]"),
                GROUP_RESOURCES_FIELDS,
                &mut out,
            );
        }
    }
    out
}

fn unknown_in(value: &Value, path: &str, known: &[&str], out: &mut Vec<String>) {
    let Some(map) = value.as_object() else {
        return;
    };
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            out.push(if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            });
        }
    }
}

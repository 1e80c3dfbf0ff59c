//! Reading upstream's ABAC policy file: one JSON object per line, blank
//! lines and `#` comments skipped; each line either a versioned
//! `abac.authorization.kubernetes.io/v1beta1` Policy or an unversioned (v0)
//! one, converted as upstream converts it. Unknown fields are refused.

use serde::Deserialize;
use serde_json::Value;

use super::{Policy, PolicyError, PolicySpec};
use crate::user::AUTHENTICATED;

/// The API group of ABAC policies.
pub const GROUP: &str = "abac.authorization.kubernetes.io";
/// The current `apiVersion`.
pub const V1BETA1: &str = "abac.authorization.kubernetes.io/v1beta1";
/// The explicit form of the legacy version.
pub const V0: &str = "abac.authorization.kubernetes.io/v0";
/// The `kind` of a policy line.
pub const KIND: &str = "Policy";

/// A `v1beta1` policy line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1beta1Policy {
    #[serde(rename = "apiVersion")]
    _api_version: String,
    #[serde(rename = "kind")]
    _kind: String,
    #[serde(default)]
    spec: Option<V1beta1Spec>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V1beta1Spec {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    readonly: Option<bool>,
    #[serde(default)]
    api_group: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    non_resource_path: Option<String>,
}

/// A legacy (v0) policy line: the attributes at the top level.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct V0Policy {
    #[serde(default, rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(default, rename = "kind")]
    _kind: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    readonly: Option<bool>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// Parses a whole policy file.
pub(super) fn parse_policies(text: &str) -> Result<Vec<Policy>, PolicyError> {
    let mut policies = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let spec = parse_line(raw).map_err(|message| PolicyError { line, message })?;
        policies.push(Policy { line, spec });
    }
    Ok(policies)
}

/// One policy line.
fn parse_line(text: &str) -> Result<PolicySpec, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {}", describe(&e)))?;
    let Value::Object(object) = &value else {
        return Err("a policy must be a JSON object".to_string());
    };
    let field = |name: &str| -> Result<String, String> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("\"{name}\" must be a string")),
        }
    };
    let api_version = field("apiVersion")?;
    let kind = field("kind")?;
    if api_version.is_empty() || kind.is_empty() {
        // Upstream decodes a line that lacks either as an unversioned
        // policy.
        return v0(text);
    }
    match (api_version.as_str(), kind.as_str()) {
        (V1BETA1, KIND) => v1beta1(text),
        (V0, KIND) => v0(text),
        (V1BETA1 | V0, other) => Err(format!(
            "unknown kind {other:?} in {api_version:?}: expected kind \"{KIND}\""
        )),
        (other, _) => Err(format!(
            "unknown apiVersion {other:?}: expected \"{V1BETA1}\" (or no apiVersion for the legacy format)"
        )),
    }
}

/// A v1beta1 line, converted as upstream converts it: a user or group of
/// `*` means every authenticated user.
fn v1beta1(text: &str) -> Result<PolicySpec, String> {
    // Decoded from the text again, not from the tree: the tree keeps only
    // the last of repeated fields, which strict decoding refuses.
    let policy: V1beta1Policy = serde_json::from_str(text).map_err(|e| describe(&e))?;
    let spec = policy.spec.unwrap_or_default();
    let mut out = PolicySpec {
        user: spec.user.unwrap_or_default(),
        group: spec.group.unwrap_or_default(),
        readonly: spec.readonly.unwrap_or_default(),
        api_group: spec.api_group.unwrap_or_default(),
        resource: spec.resource.unwrap_or_default(),
        namespace: spec.namespace.unwrap_or_default(),
        non_resource_path: spec.non_resource_path.unwrap_or_default(),
    };
    if out.user == "*" || out.group == "*" {
        out.group = AUTHENTICATED.to_string();
        out.user = String::new();
    }
    Ok(out)
}

/// A v0 line, converted as upstream converts it: no user and no group, or
/// either `*`, means every authenticated user; no namespace means all of
/// them; no resource means all of them; every API group; and no namespace
/// and no resource also means every non-resource path.
fn v0(text: &str) -> Result<PolicySpec, String> {
    let policy: V0Policy = serde_json::from_str(text).map_err(|e| describe(&e))?;
    let user = policy.user.unwrap_or_default();
    let group = policy.group.unwrap_or_default();
    let namespace = policy.namespace.unwrap_or_default();
    let resource = policy.resource.unwrap_or_default();
    let mut spec = PolicySpec {
        user: user.clone(),
        group: group.clone(),
        readonly: policy.readonly.unwrap_or_default(),
        api_group: "*".to_string(),
        resource: resource.clone(),
        namespace: namespace.clone(),
        non_resource_path: String::new(),
    };
    if user.is_empty() && group.is_empty() {
        spec.group = AUTHENTICATED.to_string();
    }
    if user == "*" || group == "*" {
        spec.group = AUTHENTICATED.to_string();
        spec.user = String::new();
    }
    if namespace.is_empty() {
        spec.namespace = "*".to_string();
    }
    if resource.is_empty() {
        spec.resource = "*".to_string();
    }
    if namespace.is_empty() && resource.is_empty() {
        spec.non_resource_path = "*".to_string();
    }
    Ok(spec)
}

/// A decoding error with its column in the line (serde's "at line 1
/// column N" would read as a line of the file).
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&position) {
        Some(message) if error.column() > 0 => format!("{message} (column {})", error.column()),
        Some(message) => message.to_string(),
        None => text,
    }
}

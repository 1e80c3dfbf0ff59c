//! The building blocks of the operations in a group/version document:
//! how upstream names operations and tags, the media types, responses and
//! bodies, and the path-level parameters.

use serde_json::{Map, Value, json};

use super::params;
use crate::schema::REF_PREFIX;

/// Definition names the operations refer to besides the kinds.
pub(super) const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
pub(super) const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
pub(super) const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
pub(super) const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
pub(super) const RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";

/// The media types of a single object in a reply.
pub(super) const OBJECT_MEDIA: &[&str] = &[
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
];
/// The media types of a list or watch reply.
pub(super) const LIST_MEDIA: &[&str] = &[
    "application/json",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/yaml",
];
/// Every patch type kubectl sends; kubectl computes strategic merge
/// patches from the schema only when the PATCH operation accepts them.
pub(super) const PATCH_MEDIA: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

/// The status codes of reads, creations, updates and deletions.
pub(super) const OK: &[(&str, &str)] = &[("200", "OK")];
pub(super) const CREATED: &[(&str, &str)] =
    &[("200", "OK"), ("201", "Created"), ("202", "Accepted")];
pub(super) const UPDATED: &[(&str, &str)] = &[("200", "OK"), ("201", "Created")];
pub(super) const DELETED: &[(&str, &str)] = &[("200", "OK"), ("202", "Accepted")];

/// How a group/version names its operations and tags.
pub(super) struct Names {
    /// `CoreV1`, `RbacAuthorizationV1`: the middle of operation ids.
    pub prefix: String,
    /// `core_v1`, `rbacAuthorization_v1`.
    pub tag: String,
    /// `/api/v1` or `/apis/<group>/<version>`.
    pub root: String,
    /// `Core`, `Apps`: the group part of the prefix.
    pub group: String,
}

/// `status` -> `Status`.
pub(super) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Names {
    /// The names of a group/version ("" is the core group).
    pub(super) fn new(group: &str, version: &str) -> Names {
        let words: Vec<&str> = if group.is_empty() {
            vec!["core"]
        } else {
            group.trim_end_matches(".k8s.io").split('.').collect()
        };
        let camel: String = words.iter().map(|w| capitalize(w)).collect();
        let mut tag: String = words.first().copied().unwrap_or_default().to_string();
        tag.extend(words.iter().skip(1).map(|w| capitalize(w)));
        let root = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        Names {
            prefix: format!("{camel}{}", capitalize(version)),
            tag: format!("{tag}_{version}"),
            root,
            group: camel,
        }
    }
}

/// A `$ref` to a definition.
pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{REF_PREFIX}{name}") })
}

/// A `content` map: each media type with the same schema.
pub(super) fn content(media: &[&str], schema: &Value) -> Value {
    let map: Map<String, Value> = media
        .iter()
        .map(|m| (m.to_string(), json!({ "schema": schema })))
        .collect();
    Value::Object(map)
}

/// The responses of an operation, each code with the same schema.
pub(super) fn responses(codes: &[(&str, &str)], media: &[&str], schema: &Value) -> Value {
    let mut out = Map::new();
    for (code, description) in codes {
        out.insert(
            code.to_string(),
            json!({ "content": content(media, schema), "description": description }),
        );
    }
    out.insert("401".into(), json!({ "description": "Unauthorized" }));
    Value::Object(out)
}

/// A required request body.
pub(super) fn body(media: &[&str], schema: &Value) -> Value {
    json!({ "content": content(media, schema), "required": true })
}

/// One operation of one path.
pub(super) struct Op<'a> {
    pub(super) action: &'a str,
    pub(super) id: String,
    pub(super) description: String,
    pub(super) gvk: (&'a str, &'a str, &'a str),
    pub(super) params: Vec<Value>,
    pub(super) body: Option<Value>,
    pub(super) responses: Value,
}

impl Op<'_> {
    pub(super) fn build(self, names: &Names) -> Value {
        let (group, version, kind) = self.gvk;
        let mut op = json!({
            "description": self.description,
            "operationId": self.id,
            "responses": self.responses,
            "tags": [names.tag],
            "x-kubernetes-action": self.action,
            "x-kubernetes-group-version-kind": {"group": group, "kind": kind, "version": version},
        });
        if !self.params.is_empty() {
            op["parameters"] = Value::Array(self.params);
        }
        if let Some(body) = self.body {
            op["requestBody"] = body;
        }
        op
    }
}

/// The path-level parameters: `name`, `namespace` (when namespaced) and
/// `pretty`, plus `extra`, sorted by name as upstream sorts them.
pub(super) fn path_params(namespaced: bool, name_of: Option<&str>, extra: Vec<Value>) -> Value {
    let mut out = extra;
    out.extend(name_of.map(params::name));
    if namespaced {
        out.push(params::namespace());
    }
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Value::Array(out)
}

/// Adds a path with its operations, unless it has none.
pub(super) fn insert(
    paths: &mut Map<String, Value>,
    path: String,
    mut item: Map<String, Value>,
    parameters: Value,
) {
    if item.is_empty() {
        return;
    }
    item.insert("parameters".into(), parameters);
    paths.insert(path, Value::Object(item));
}

//! The paths of subresources: reads and writes of another view of the
//! object (`status`, `scale`, `finalize`), creations (`binding`,
//! `eviction`, `token`), the log, and the streaming `exec`, `attach` and
//! `portforward` connections.

use serde_json::{Map, Value, json};

use super::operation::{
    CREATED, Names, OBJECT_MEDIA, OK, Op, PATCH, PATCH_MEDIA, UPDATED, body, capitalize, insert,
    path_params, responses, schema_ref,
};
use super::params;
use crate::registry::{ResourceInfo, Subresource};
use crate::schema::type_name;

/// The path of one subresource of `r`, below its item path.
pub(super) fn paths(
    names: &Names,
    r: &ResourceInfo,
    s: &Subresource,
    item: &str,
    paths: &mut Map<String, Value>,
) {
    let (kind, prefix, sub) = (r.kind, names.prefix.as_str(), s.name);
    let ns = if r.namespaced { "Namespaced" } else { "" };
    let suffix = capitalize(sub);
    let path = format!("{item}/{sub}");
    let gvk = (s.group, s.version, s.kind);
    let text = json!({"type": "string"});
    let mut ops = Map::new();
    match sub {
        "exec" | "attach" | "portforward" | "proxy" => {
            for (verb, method, word) in [("get", "get", "Get"), ("create", "post", "Post")] {
                if !s.verbs.contains(&verb) {
                    continue;
                }
                let o = Op {
                    action: "connect",
                    id: format!("connect{prefix}{word}{ns}{kind}{suffix}"),
                    description: format!(
                        "connect {} requests to {sub} of {kind}",
                        word.to_uppercase()
                    ),
                    gvk,
                    params: Vec::new(),
                    body: None,
                    responses: responses(OK, &["*/*"], &text),
                };
                ops.insert(method.into(), o.build(names));
            }
            let extra = params::connect(sub);
            insert(
                paths,
                path,
                ops,
                path_params(r.namespaced, Some(s.kind), extra),
            );
        }
        "log" => {
            let o = Op {
                action: "get",
                id: format!("read{prefix}{ns}{kind}Log"),
                description: format!("read log of the specified {kind}"),
                gvk,
                params: Vec::new(),
                body: None,
                responses: responses(OK, &[OBJECT_MEDIA, &["text/plain"]].concat(), &text),
            };
            ops.insert("get".into(), o.build(names));
            let mut extra = params::connect(sub);
            extra.push(params::pretty());
            insert(
                paths,
                path,
                ops,
                path_params(r.namespaced, Some(kind), extra),
            );
        }
        _ => {
            let Some(def) = type_name(s.group, s.version, s.kind) else {
                return;
            };
            let sub_ref = schema_ref(def);
            let table = [
                (
                    "get",
                    "get",
                    "get",
                    "read",
                    format!("read {sub} of the specified {kind}"),
                ),
                (
                    "update",
                    "put",
                    "put",
                    "replace",
                    format!("replace {sub} of the specified {kind}"),
                ),
                (
                    "patch",
                    "patch",
                    "patch",
                    "patch",
                    format!("partially update {sub} of the specified {kind}"),
                ),
                (
                    "create",
                    "post",
                    "post",
                    "create",
                    format!("create {sub} of a {kind}"),
                ),
            ];
            for (verb, method, action, word, description) in table {
                if !s.verbs.contains(&verb) {
                    continue;
                }
                let (params, body, codes) = match method {
                    "get" => (Vec::new(), None, OK),
                    "put" => (params::write(), Some(body(&["*/*"], &sub_ref)), UPDATED),
                    "patch" => (
                        params::patch(),
                        Some(body(PATCH_MEDIA, &schema_ref(PATCH))),
                        UPDATED,
                    ),
                    _ => (params::write(), Some(body(&["*/*"], &sub_ref)), CREATED),
                };
                let o = Op {
                    action,
                    id: format!("{word}{prefix}{ns}{kind}{suffix}"),
                    description,
                    gvk,
                    params,
                    body,
                    responses: responses(codes, OBJECT_MEDIA, &sub_ref),
                };
                ops.insert(method.into(), o.build(names));
            }
            insert(
                paths,
                path,
                ops,
                path_params(r.namespaced, Some(s.kind), vec![params::pretty()]),
            );
        }
    }
}

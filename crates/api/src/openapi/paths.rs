//! The `paths` of a group/version document: for every resource the
//! collection, item, all-namespaces and deprecated watch paths, with
//! operation ids, actions, group-version-kinds, parameters and bodies
//! named as upstream names them (`patchCoreV1NamespacedPod`).

use serde_json::{Map, Value, json};

use super::operation::{
    CREATED, DELETE_OPTIONS, DELETED, LIST_MEDIA, Names, OBJECT_MEDIA, OK, Op, PATCH, PATCH_MEDIA,
    RESOURCE_LIST, STATUS, UPDATED, WATCH_EVENT, body, content, insert, path_params, responses,
    schema_ref,
};
use super::{params, subresources};
use crate::registry::{ResourceInfo, resources_of};
use crate::schema::type_name_of;

/// Every path of one group/version.
pub(super) fn group_version(group: &str, version: &str) -> Map<String, Value> {
    let names = Names::new(group, version);
    let mut paths = Map::new();
    paths.insert(
        format!("{}/", names.root),
        json!({"get": {
            "description": "get available resources",
            "operationId": format!("get{}APIResources", names.prefix),
            "responses": responses(OK, OBJECT_MEDIA, &schema_ref(RESOURCE_LIST)),
            "tags": [names.tag],
        }}),
    );
    for r in resources_of(group, version) {
        resource(&names, r, &mut paths);
    }
    paths
}

fn resource(names: &Names, r: &ResourceInfo, paths: &mut Map<String, Value>) {
    // A kind without a schema cannot be described; the registry tests
    // make sure every served kind has one.
    let Some(def) = type_name_of(r) else { return };
    let (kind, prefix) = (r.kind, names.prefix.as_str());
    let kind_ref = schema_ref(def);
    let list_ref = schema_ref(&format!("{def}List"));
    let status_ref = schema_ref(STATUS);
    let ns = if r.namespaced { "Namespaced" } else { "" };
    let scope = if r.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{}{scope}/{}", names.root, r.plural);
    let item_path = format!("{collection}/{{name}}");
    let gvk = (r.group, r.version, r.kind);
    let op = |action, id: String, description: String| Op {
        action,
        id,
        description,
        gvk,
        params: Vec::new(),
        body: None,
        responses: Value::Null,
    };

    let mut coll = Map::new();
    if r.has_verb("list") {
        let o = Op {
            params: params::list(),
            responses: responses(OK, LIST_MEDIA, &list_ref),
            ..op(
                "list",
                format!("list{prefix}{ns}{kind}"),
                format!("list or watch objects of kind {kind}"),
            )
        };
        coll.insert("get".into(), o.build(names));
    }
    if r.has_verb("create") {
        let o = Op {
            params: params::write(),
            body: Some(body(&["*/*"], &kind_ref)),
            responses: responses(CREATED, OBJECT_MEDIA, &kind_ref),
            ..op(
                "post",
                format!("create{prefix}{ns}{kind}"),
                format!("create a {kind}"),
            )
        };
        coll.insert("post".into(), o.build(names));
    }
    if r.has_verb("deletecollection") {
        let o = Op {
            params: params::delete_collection(),
            body: Some(json!({"content": content(&["*/*"], &schema_ref(DELETE_OPTIONS))})),
            responses: responses(OK, OBJECT_MEDIA, &status_ref),
            ..op(
                "deletecollection",
                format!("delete{prefix}Collection{ns}{kind}"),
                format!("delete collection of {kind}"),
            )
        };
        coll.insert("delete".into(), o.build(names));
    }
    insert(
        paths,
        collection,
        coll,
        path_params(r.namespaced, None, vec![params::pretty()]),
    );

    let mut item = Map::new();
    if r.has_verb("get") {
        let o = Op {
            responses: responses(OK, OBJECT_MEDIA, &kind_ref),
            ..op(
                "get",
                format!("read{prefix}{ns}{kind}"),
                format!("read the specified {kind}"),
            )
        };
        item.insert("get".into(), o.build(names));
    }
    if r.has_verb("update") {
        let o = Op {
            params: params::write(),
            body: Some(body(&["*/*"], &kind_ref)),
            responses: responses(UPDATED, OBJECT_MEDIA, &kind_ref),
            ..op(
                "put",
                format!("replace{prefix}{ns}{kind}"),
                format!("replace the specified {kind}"),
            )
        };
        item.insert("put".into(), o.build(names));
    }
    if r.has_verb("patch") {
        let o = Op {
            params: params::patch(),
            body: Some(body(PATCH_MEDIA, &schema_ref(PATCH))),
            responses: responses(UPDATED, OBJECT_MEDIA, &kind_ref),
            ..op(
                "patch",
                format!("patch{prefix}{ns}{kind}"),
                format!("partially update the specified {kind}"),
            )
        };
        item.insert("patch".into(), o.build(names));
    }
    if r.has_verb("delete") {
        let o = Op {
            params: params::delete(),
            body: Some(json!({"content": content(&["*/*"], &schema_ref(DELETE_OPTIONS))})),
            responses: responses(DELETED, OBJECT_MEDIA, &status_ref),
            ..op(
                "delete",
                format!("delete{prefix}{ns}{kind}"),
                format!("delete a {kind}"),
            )
        };
        item.insert("delete".into(), o.build(names));
    }
    insert(
        paths,
        item_path.clone(),
        item,
        path_params(r.namespaced, Some(kind), vec![params::pretty()]),
    );

    let with_list = || {
        let mut p = params::list();
        p.push(params::pretty());
        p
    };
    if r.namespaced && r.has_verb("list") {
        let o = Op {
            responses: responses(OK, LIST_MEDIA, &list_ref),
            ..op(
                "list",
                format!("list{prefix}{kind}ForAllNamespaces"),
                format!("list or watch objects of kind {kind}"),
            )
        };
        let all = Map::from_iter([("get".to_string(), o.build(names))]);
        let path = format!("{}/{}", names.root, r.plural);
        insert(paths, path, all, path_params(false, None, with_list()));
    }

    if r.has_verb("watch") {
        let event = responses(OK, LIST_MEDIA, &schema_ref(WATCH_EVENT));
        let list_desc = format!(
            "watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."
        );
        let item_desc = format!(
            "watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
        );
        let watch_root = format!("{}/watch{scope}/{}", names.root, r.plural);
        let mut watch = |path: String,
                         action,
                         id: String,
                         description: String,
                         name_of: Option<&str>,
                         namespaced| {
            let o = Op {
                responses: event.clone(),
                ..op(action, id, description)
            };
            let entry = Map::from_iter([("get".to_string(), o.build(names))]);
            insert(
                paths,
                path,
                entry,
                path_params(namespaced, name_of, with_list()),
            );
        };
        watch(
            watch_root.clone(),
            "watchlist",
            format!("watch{prefix}{ns}{kind}List"),
            list_desc.clone(),
            None,
            r.namespaced,
        );
        watch(
            format!("{watch_root}/{{name}}"),
            "watch",
            format!("watch{prefix}{ns}{kind}"),
            item_desc,
            Some(kind),
            r.namespaced,
        );
        if r.namespaced {
            let path = format!("{}/watch/{}", names.root, r.plural);
            watch(
                path,
                "watchlist",
                format!("watch{prefix}{kind}ListForAllNamespaces"),
                list_desc,
                None,
                false,
            );
        }
    }

    for s in r.subresources {
        subresources::paths(names, r, s, &item_path, paths);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_upstream() {
        let core = Names::new("", "v1");
        assert_eq!(
            (core.prefix.as_str(), core.tag.as_str()),
            ("CoreV1", "core_v1")
        );
        assert_eq!(core.root, "/api/v1");
        let rbac = Names::new("rbac.authorization.k8s.io", "v1");
        assert_eq!(rbac.prefix, "RbacAuthorizationV1");
        assert_eq!(rbac.tag, "rbacAuthorization_v1");
        assert_eq!(rbac.group, "RbacAuthorization");
    }

    #[test]
    fn pods_have_every_path_upstream_has() {
        let paths = group_version("", "v1");
        let item = &paths["/api/v1/namespaces/{namespace}/pods/{name}"];
        assert_eq!(item["patch"]["operationId"], "patchCoreV1NamespacedPod");
        assert_eq!(item["patch"]["x-kubernetes-action"], "patch");
        assert_eq!(
            item["patch"]["x-kubernetes-group-version-kind"]["kind"],
            "Pod"
        );
        assert!(
            item["patch"]["requestBody"]["content"]["application/strategic-merge-patch+json"]
                .is_object()
        );
        let coll = &paths["/api/v1/namespaces/{namespace}/pods"];
        assert_eq!(coll["get"]["operationId"], "listCoreV1NamespacedPod");
        assert_eq!(
            coll["delete"]["operationId"],
            "deleteCoreV1CollectionNamespacedPod"
        );
        assert_eq!(
            paths["/api/v1/pods"]["get"]["operationId"],
            "listCoreV1PodForAllNamespaces"
        );
        let exec = &paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"];
        assert_eq!(
            exec["post"]["operationId"],
            "connectCoreV1PostNamespacedPodExec"
        );
        assert_eq!(
            exec["get"]["x-kubernetes-group-version-kind"]["kind"],
            "PodExecOptions"
        );
        let log = &paths["/api/v1/namespaces/{namespace}/pods/{name}/log"];
        assert!(
            log["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "follow")
        );
        let status = &paths["/api/v1/namespaces/{namespace}/pods/{name}/status"];
        assert_eq!(
            status["patch"]["operationId"],
            "patchCoreV1NamespacedPodStatus"
        );
        assert!(paths.contains_key("/api/v1/watch/namespaces/{namespace}/pods/{name}"));
        assert!(paths.contains_key("/api/v1/nodes/{name}"));
        assert!(!paths.contains_key("/api/v1/bindings"));
        assert!(paths["/api/v1/namespaces/{namespace}/bindings"]["post"].is_object());
    }

    #[test]
    fn scale_speaks_autoscaling_v1() {
        let paths = group_version("apps", "v1");
        let scale = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
        let gvk = &scale["patch"]["x-kubernetes-group-version-kind"];
        assert_eq!(
            (gvk["group"].as_str(), gvk["kind"].as_str()),
            (Some("autoscaling"), Some("Scale"))
        );
        assert_eq!(
            scale["get"]["operationId"],
            "readAppsV1NamespacedDeploymentScale"
        );
    }
}

//! API discovery: the documents kubectl reads to learn which groups,
//! versions and resources the server has. Aggregated discovery
//! (`apidiscovery.k8s.io/v2`, one request for `/api` and one for `/apis`)
//! is what kubectl 1.26+ asks for first; the plain `APIVersions`,
//! `APIGroupList`, `APIGroup` and `APIResourceList` forms serve older
//! clients and the fallback path. `/version` lives here too.

use serde_json::{Map, Value, json};

use crate::registry::{RESOURCES, ResourceInfo, groups, resources_of};

/// The `Content-Type` of an aggregated discovery reply; kubectl accepts
/// the reply as aggregated only with exactly this type.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
/// The `Content-Type` of the v2beta1 form older kubectl (1.26-1.29) asks for.
pub const AGGREGATED_CONTENT_TYPE_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// The Kubernetes release ironclad reports and whose API it serves.
pub const GIT_VERSION: &str = "v1.33.0";
const MAJOR: &str = "1";
const MINOR: &str = "33";

/// `GET /api` with the aggregated Accept: the core group and its `v1`.
pub fn aggregated_core() -> Value {
    discovery_list(vec![aggregated_group("")])
}

/// `GET /apis` with the aggregated Accept: every named group, each with
/// its versions, the preferred one first.
pub fn aggregated_groups() -> Value {
    let items = groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, _)| aggregated_group(g))
        .collect();
    discovery_list(items)
}

/// An aggregated document in the `apidiscovery.k8s.io/v2beta1` form: the
/// same shape under the older apiVersion.
pub fn as_v2beta1(mut doc: Value) -> Value {
    doc["apiVersion"] = Value::from("apidiscovery.k8s.io/v2beta1");
    doc
}

fn discovery_list(items: Vec<Value>) -> Value {
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn aggregated_group(group: &str) -> Value {
    let versions: Vec<Value> = versions_of(group)
        .into_iter()
        .map(|version| {
            let mut resources: Vec<&ResourceInfo> = resources_of(group, version).collect();
            resources.sort_by_key(|r| r.plural);
            json!({
                "version": version,
                "resources": resources.into_iter().map(aggregated_resource).collect::<Vec<_>>(),
                "freshness": "Current",
            })
        })
        .collect();
    // Upstream omits the empty name of the core group.
    let metadata = if group.is_empty() {
        json!({})
    } else {
        json!({ "name": group })
    };
    json!({ "metadata": metadata, "versions": versions })
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "version": version, "kind": kind })
}

fn aggregated_resource(r: &ResourceInfo) -> Value {
    let mut out = json!({
        "resource": r.plural,
        "responseKind": gvk(r.group, r.version, r.kind),
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        out["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        out["categories"] = json!(r.categories);
    }
    let mut subs: Vec<_> = r.subresources.iter().collect();
    subs.sort_by_key(|s| s.name);
    if !subs.is_empty() {
        let subs: Vec<Value> = subs
            .into_iter()
            .map(|s| {
                json!({
                    "subresource": s.name,
                    "responseKind": gvk(s.group, s.version, s.kind),
                    "verbs": s.verbs,
                })
            })
            .collect();
        out["subresources"] = Value::Array(subs);
    }
    out
}

fn versions_of(group: &str) -> Vec<&'static str> {
    groups()
        .into_iter()
        .find(|(g, _)| *g == group)
        .map(|(_, versions)| versions)
        .unwrap_or_default()
}

/// Plain `GET /api`: `APIVersions` with `v1` and the address clients in
/// any network reach the server at.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            { "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }
        ],
    })
}

fn group_body(group: &str) -> Option<Map<String, Value>> {
    let versions = versions_of(group);
    let preferred = *versions.first()?;
    let gv = |v: &str| json!({ "groupVersion": format!("{group}/{v}"), "version": v });
    let mut out = Map::new();
    out.insert("name".into(), Value::from(group));
    out.insert(
        "versions".into(),
        Value::Array(versions.iter().map(|v| gv(v)).collect()),
    );
    out.insert("preferredVersion".into(), gv(preferred));
    Some(out)
}

/// Plain `GET /apis`: `APIGroupList` of every named group.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .filter_map(|(g, _)| group_body(g).map(Value::Object))
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `GET /apis/<group>`: the `APIGroup`, or None for an unknown group (and
/// for the core group, which is not served under `/apis`).
pub fn api_group(group: &str) -> Option<Value> {
    if group.is_empty() {
        return None;
    }
    let mut body = group_body(group)?;
    body.insert("kind".into(), Value::from("APIGroup"));
    body.insert("apiVersion".into(), Value::from("v1"));
    Some(Value::Object(body))
}

/// `GET /api/v1` or `/apis/<group>/<version>`: the `APIResourceList`,
/// resources and their subresources (`pods/status`) sorted by name, or
/// None when the group/version is not served.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let mut entries: Vec<(String, Value)> = Vec::new();
    for r in resources_of(group, version) {
        let mut main = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            main["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            main["categories"] = json!(r.categories);
        }
        entries.push((r.plural.to_string(), main));
        for s in r.subresources {
            let name = format!("{}/{}", r.plural, s.name);
            let mut sub = json!({
                "name": name,
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": s.kind,
                "verbs": s.verbs,
            });
            // Upstream names the group and version only where they differ
            // from the list's (deployments/scale speaks autoscaling/v1).
            if s.group != group || s.version != version {
                sub["group"] = Value::from(s.group);
                sub["version"] = Value::from(s.version);
            }
            entries.push((name, sub));
        }
    }
    if entries.is_empty() {
        return None;
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": entries.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    }))
}

/// `GET /version`: a Kubernetes 1.33 server on this machine's platform.
pub fn version_info() -> Value {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    json!({
        "major": MAJOR,
        "minor": MINOR,
        "emulationMajor": MAJOR,
        "emulationMinor": MINOR,
        "minCompatibilityMajor": MAJOR,
        "minCompatibilityMinor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": format!("{}/{arch}", std::env::consts::OS),
    })
}

/// Whether the registry serves any resource of `group` (any version).
pub fn has_group(group: &str) -> bool {
    RESOURCES.iter().any(|r| r.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource<'a>(doc: &'a Value, group: &str, plural: &str) -> &'a Value {
        let item = doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metadata"]["name"].as_str().unwrap_or("") == group)
            .unwrap();
        item["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == plural)
            .unwrap()
    }

    #[test]
    fn aggregated_core_has_pods_as_kubectl_needs_them() {
        let doc = aggregated_core();
        assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
        assert_eq!(doc["kind"], "APIGroupDiscoveryList");
        assert_eq!(doc["items"].as_array().unwrap().len(), 1);
        assert_eq!(doc["items"][0]["versions"][0]["version"], "v1");
        assert_eq!(doc["items"][0]["versions"][0]["freshness"], "Current");
        let pods = resource(&doc, "", "pods");
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(pods["singularResource"], "pod");
        assert_eq!(
            pods["responseKind"],
            json!({"group": "", "version": "v1", "kind": "Pod"})
        );
        let subs: Vec<&str> = pods["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subresource"].as_str().unwrap())
            .collect();
        for name in ["status", "log", "exec", "binding"] {
            assert!(subs.contains(&name), "{name} missing from {subs:?}");
        }
        let nodes = resource(&doc, "", "nodes");
        assert_eq!(nodes["scope"], "Cluster");
        assert!(nodes.get("categories").is_none());
    }

    #[test]
    fn aggregated_groups_name_every_group_and_scale() {
        let doc = aggregated_groups();
        let names: Vec<&str> = doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"apps") && names.contains(&"rbac.authorization.k8s.io"));
        assert!(!names.contains(&""));
        let deploy = resource(&doc, "apps", "deployments");
        assert_eq!(deploy["shortNames"], json!(["deploy"]));
        let scale = deploy["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subresource"] == "scale")
            .unwrap();
        assert_eq!(
            scale["responseKind"],
            json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
        );
        assert_eq!(scale["verbs"], json!(["get", "patch", "update"]));
        assert_eq!(as_v2beta1(doc)["apiVersion"], "apidiscovery.k8s.io/v2beta1");
    }

    #[test]
    fn legacy_lists_include_subresources() {
        let core = api_resource_list("", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        let resources = core["resources"].as_array().unwrap();
        let find = |n: &str| resources.iter().find(|r| r["name"] == n).unwrap();
        assert_eq!(find("pods")["shortNames"], json!(["po"]));
        assert_eq!(find("pods/status")["kind"], "Pod");
        assert_eq!(find("pods/status")["singularName"], "");
        assert!(find("pods/status").get("group").is_none());
        assert_eq!(find("pods/eviction")["group"], "policy");
        let apps = api_resource_list("apps", "v1").unwrap();
        let scale = apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(
            (scale["group"].as_str(), scale["version"].as_str()),
            (Some("autoscaling"), Some("v1"))
        );
        assert_eq!(scale["kind"], "Scale");
        assert!(api_resource_list("apps", "v2").is_none());
        assert!(api_resource_list("nope", "v1").is_none());
    }

    #[test]
    fn plain_group_documents() {
        let list = api_group_list();
        assert_eq!(list["kind"], "APIGroupList");
        let apps = api_group("apps").unwrap();
        assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
        assert_eq!(apps["versions"][0]["version"], "v1");
        assert!(api_group("").is_none() && api_group("nope").is_none());
        assert!(has_group("batch") && !has_group("nope"));
        let v = api_versions("10.0.0.1:6443");
        assert_eq!(
            v["serverAddressByClientCIDRs"][0]["serverAddress"],
            "10.0.0.1:6443"
        );
        let info = version_info();
        assert_eq!(
            (info["major"].as_str(), info["minor"].as_str()),
            (Some("1"), Some("33"))
        );
        assert!(info["gitVersion"].as_str().unwrap().starts_with("v1.33."));
    }
}

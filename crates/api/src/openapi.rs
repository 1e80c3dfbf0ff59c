//! The OpenAPI v3 documents (`/openapi/v3` and `/openapi/v3/<path>`).
//! kubectl reads them for `create -f`, `apply` and `explain`: it accepts
//! `fieldValidation` only if a group/version's PATCH operation for the
//! kind lists it, computes client-side apply patches from the schemas'
//! merge keys, and finds a kind's schema by its
//! `x-kubernetes-group-version-kind`. Every document is built once, on
//! first use, and served from memory with a content hash in its URL.

pub(crate) mod extensions;

mod components;
mod operation;
mod params;
mod paths;
mod subresources;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value, json};

use crate::discovery::GIT_VERSION;
use crate::registry::groups;
use operation::{Names, responses, schema_ref};

/// One served document.
struct Document {
    bytes: Arc<Vec<u8>>,
    hash: String,
}

fn documents() -> &'static BTreeMap<String, Document> {
    static DOCS: OnceLock<BTreeMap<String, Document>> = OnceLock::new();
    DOCS.get_or_init(build_all)
}

/// The document paths (`api/v1`, `apis/apps/v1`, `api`, `apis`,
/// `apis/apps`, `version`), sorted.
pub fn paths() -> Vec<&'static str> {
    documents().keys().map(String::as_str).collect()
}

/// `GET /openapi/v3`: where each document is, with its hash in the URL so
/// clients may cache it for good.
pub fn index() -> Value {
    let entries: Map<String, Value> = documents()
        .iter()
        .map(|(path, doc)| {
            let url = format!("/openapi/v3/{path}?hash={}", doc.hash);
            (path.clone(), json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": entries })
}

fn key(path: &str) -> &str {
    path.trim_matches('/')
}

/// `GET /openapi/v3/<path>` (`api/v1`, `apis/apps/v1`; surrounding
/// slashes are ignored): the serialized JSON document, or None for a path
/// the server has no document for.
pub fn document(path: &str) -> Option<Arc<Vec<u8>>> {
    documents().get(key(path)).map(|d| Arc::clone(&d.bytes))
}

/// The content hash of a document (128 uppercase hex digits, the shape of
/// upstream's SHA-512 hashes), or None for an unknown path.
pub fn hash(path: &str) -> Option<String> {
    documents().get(key(path)).map(|d| d.hash.clone())
}

fn build_all() -> BTreeMap<String, Document> {
    let mut docs = BTreeMap::new();
    let mut add = |path: String, paths: Map<String, Value>| {
        let doc = assemble(paths);
        let bytes = serde_json::to_vec(&doc).unwrap_or_default();
        let hash = content_hash(&bytes);
        docs.insert(
            path,
            Document {
                bytes: Arc::new(bytes),
                hash,
            },
        );
    };
    for (group, versions) in groups() {
        for version in versions {
            let path = if group.is_empty() {
                format!("api/{version}")
            } else {
                format!("apis/{group}/{version}")
            };
            add(path, paths::group_version(group, version));
        }
        if !group.is_empty() {
            let names = Names::new(group, "");
            let op = discovery_op(
                "get information of a group",
                &format!("get{}APIGroup", names.group),
                names.tag.trim_end_matches('_'),
                "APIGroup",
            );
            add(
                format!("apis/{group}"),
                single(&format!("/apis/{group}/"), op),
            );
        }
    }
    let core = discovery_op(
        "get available API versions",
        "getCoreAPIVersions",
        "core",
        "APIVersions",
    );
    add("api".into(), single("/api/", core));
    let all = discovery_op(
        "get available API versions",
        "getAPIVersions",
        "apis",
        "APIGroupList",
    );
    add("apis".into(), single("/apis/", all));
    let version = json!({
        "description": "get the version information for this server",
        "operationId": "getCodeVersion",
        "responses": responses(
            &[("200", "OK")],
            &["application/json"],
            &schema_ref("io.k8s.apimachinery.pkg.version.Info"),
        ),
        "tags": ["version"],
    });
    add("version".into(), single("/version/", version));
    docs
}

fn single(path: &str, get: Value) -> Map<String, Value> {
    Map::from_iter([(path.to_string(), json!({ "get": get }))])
}

fn discovery_op(description: &str, id: &str, tag: &str, kind: &str) -> Value {
    json!({
        "description": description,
        "operationId": id,
        "responses": responses(
            &[("200", "OK")],
            &["application/json", "application/vnd.kubernetes.protobuf", "application/yaml"],
            &schema_ref(&format!("io.k8s.apimachinery.pkg.apis.meta.v1.{kind}")),
        ),
        "tags": [tag],
    })
}

fn assemble(paths: Map<String, Value>) -> Value {
    let schemas = components::schemas(&paths);
    json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": GIT_VERSION },
        "paths": paths,
        "components": { "schemas": schemas },
    })
}

/// A stable 512-bit digest: eight FNV-1a lanes with distinct offsets,
/// each finished with the splitmix64 mixer. Not cryptographic; it only has
/// to change when a document changes, like upstream's cache-busting hash.
fn content_hash(bytes: &[u8]) -> String {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut lanes: [u64; 8] = std::array::from_fn(|i| {
        0xcbf2_9ce4_8422_2325 ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    });
    for &b in bytes {
        for lane in &mut lanes {
            *lane = (*lane ^ u64::from(b)).wrapping_mul(PRIME);
        }
    }
    lanes
        .iter()
        .map(|&lane| {
            let mut z = lane ^ (bytes.len() as u64);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            format!("{:016X}", z ^ (z >> 31))
        })
        .collect()
}

#[cfg(test)]
mod tests;

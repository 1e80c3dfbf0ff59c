//! The OpenAPI v3 schemas of every served kind, generated once from the
//! `k8s-openapi` types (their `schemars` implementations). Discovery's
//! OpenAPI documents, strict field validation and the patch engines all
//! navigate these same definitions.

use std::sync::OnceLock;

use k8s_openapi::api::{
    apps::v1 as apps, authentication::v1 as authn, authorization::v1 as authz,
    autoscaling::v1 as autoscaling, batch::v1 as batch, certificates::v1 as certificates,
    coordination::v1 as coordination, core::v1 as core, discovery::v1 as discovery,
    events::v1 as events, networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
};
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value};

use crate::registry::{RESOURCES, ResourceInfo};

// The merge metadata of the definitions' fields: the table that also puts
// upstream's `x-kubernetes-*` extensions into them, for the patch engines,
// so that they merge by exactly what the OpenAPI documents publish.
pub use crate::openapi::extensions::{FieldMeta, ListType, MapType, field_meta, type_is_atomic};

/// The JSON pointer prefix of a definition reference.
pub const REF_PREFIX: &str = "#/components/schemas/";

/// All definitions, keyed by their OpenAPI name
/// (`io.k8s.api.core.v1.Pod`).
pub struct Schemas {
    definitions: Map<String, Value>,
    /// (group, kind, definition name); every kind here is version v1.
    kinds: Vec<(&'static str, &'static str, String)>,
}

impl Schemas {
    /// The definitions, generated on first use.
    pub fn get() -> &'static Schemas {
        static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
        SCHEMAS.get_or_init(generate)
    }

    /// Every definition.
    pub fn definitions(&self) -> &Map<String, Value> {
        &self.definitions
    }

    /// One definition by name.
    pub fn definition(&self, name: &str) -> Option<&Value> {
        self.definitions.get(name)
    }

    /// Follows a `$ref` (possibly nested in `allOf`, as schemars writes a
    /// reference that carries its own description) to its definition;
    /// returns the schema itself when it is not a reference.
    pub fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match ref_name(schema) {
            Some(name) => self.definitions.get(name).unwrap_or(schema),
            None => schema,
        }
    }

    /// The definition of a resource's kind, or of a subresource's kind.
    pub fn for_kind(&self, group: &str, version: &str, kind: &str) -> Option<&Value> {
        self.definitions.get(type_name(group, version, kind)?)
    }
}

/// The definition name a schema refers to, if it is a reference.
pub fn ref_name(schema: &Value) -> Option<&str> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.strip_prefix(REF_PREFIX);
    }
    schema
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|all| all.iter().find_map(ref_name))
}

/// The OpenAPI definition name of a kind (`io.k8s.api.apps.v1.Deployment`).
pub fn type_name(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    if version != "v1" {
        return None;
    }
    Schemas::get()
        .kinds
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)
        .map(|(_, _, name)| name.as_str())
}

/// The definition name of a resource's main kind.
pub fn type_name_of(info: &ResourceInfo) -> Option<&'static str> {
    type_name(info.group, info.version, info.kind)
}

macro_rules! kinds {
    ($( ($group:literal, $kind:literal, $ty:ty) ),* $(,)?) => {
        /// Registers every kind's schema; returns (group, kind, definition name).
        fn register(generator: &mut SchemaGenerator) -> Vec<(&'static str, &'static str, String)> {
            vec![$( {
                let _ = generator.subschema_for::<$ty>();
                ($group, $kind, <$ty as schemars::JsonSchema>::schema_name().into_owned())
            } ),*]
        }
    };
}

kinds! {
    ("", "Binding", core::Binding),
    ("", "ConfigMap", core::ConfigMap),
    ("", "Endpoints", core::Endpoints),
    ("", "Event", core::Event),
    ("", "LimitRange", core::LimitRange),
    ("", "Namespace", core::Namespace),
    ("", "Node", core::Node),
    ("", "Pod", core::Pod),
    ("", "PodTemplate", core::PodTemplate),
    ("", "ReplicationController", core::ReplicationController),
    ("", "ResourceQuota", core::ResourceQuota),
    ("", "Secret", core::Secret),
    ("", "ServiceAccount", core::ServiceAccount),
    ("", "Service", core::Service),
    ("apiregistration.k8s.io", "APIService", apiregistration::APIService),
    ("apps", "ControllerRevision", apps::ControllerRevision),
    ("apps", "DaemonSet", apps::DaemonSet),
    ("apps", "Deployment", apps::Deployment),
    ("apps", "ReplicaSet", apps::ReplicaSet),
    ("apps", "StatefulSet", apps::StatefulSet),
    ("autoscaling", "Scale", autoscaling::Scale),
    ("batch", "CronJob", batch::CronJob),
    ("batch", "Job", batch::Job),
    ("certificates.k8s.io", "CertificateSigningRequest", certificates::CertificateSigningRequest),
    ("coordination.k8s.io", "Lease", coordination::Lease),
    ("discovery.k8s.io", "EndpointSlice", discovery::EndpointSlice),
    ("events.k8s.io", "Event", events::Event),
    ("networking.k8s.io", "Ingress", networking::Ingress),
    ("policy", "Eviction", policy::Eviction),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", rbac::ClusterRoleBinding),
    ("rbac.authorization.k8s.io", "ClusterRole", rbac::ClusterRole),
    ("rbac.authorization.k8s.io", "RoleBinding", rbac::RoleBinding),
    ("rbac.authorization.k8s.io", "Role", rbac::Role),
    ("authentication.k8s.io", "SelfSubjectReview", authn::SelfSubjectReview),
    ("authentication.k8s.io", "TokenRequest", authn::TokenRequest),
    ("authentication.k8s.io", "TokenReview", authn::TokenReview),
    ("authorization.k8s.io", "LocalSubjectAccessReview", authz::LocalSubjectAccessReview),
    ("authorization.k8s.io", "SelfSubjectAccessReview", authz::SelfSubjectAccessReview),
    ("authorization.k8s.io", "SelfSubjectRulesReview", authz::SelfSubjectRulesReview),
    ("authorization.k8s.io", "SubjectAccessReview", authz::SubjectAccessReview),
}

fn generate() -> Schemas {
    let mut generator = SchemaGenerator::new(SchemaSettings::openapi3());
    let kinds = register(&mut generator);
    register_envelopes(&mut generator);
    let mut definitions = generator.take_definitions(true);
    // Upstream's patch-strategy, merge-key, list- and map-type extensions,
    // which k8s-openapi's schemas lack; kubectl's client-side apply merges
    // lists by them. Entries without a definition are reported by the
    // extensions' own test, not at run time.
    let _ = crate::openapi::extensions::annotate(&mut definitions);
    Schemas { definitions, kinds }
}

/// The apimachinery types of the API's envelopes (lists, errors, watch
/// events, patch bodies, discovery, `/version`), which the OpenAPI
/// documents refer to.
fn register_envelopes(generator: &mut SchemaGenerator) {
    use k8s_openapi::apimachinery::pkg::{apis::meta::v1 as meta, version};
    let _ = generator.subschema_for::<meta::ListMeta>();
    let _ = generator.subschema_for::<meta::Status>();
    let _ = generator.subschema_for::<meta::WatchEvent<serde_json::Value>>();
    let _ = generator.subschema_for::<meta::Patch>();
    let _ = generator.subschema_for::<meta::DeleteOptions>();
    let _ = generator.subschema_for::<meta::APIResourceList>();
    let _ = generator.subschema_for::<meta::APIGroup>();
    let _ = generator.subschema_for::<meta::APIGroupList>();
    let _ = generator.subschema_for::<meta::APIVersions>();
    let _ = generator.subschema_for::<version::Info>();
}

/// Whether every stored resource has a schema (used by tests and at start).
pub fn missing_schemas() -> Vec<&'static str> {
    RESOURCES
        .iter()
        .filter(|r| type_name_of(r).is_none())
        .map(|r| r.plural)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_has_a_generated_definition() {
        assert!(missing_schemas().is_empty(), "{:?}", missing_schemas());
        let s = Schemas::get();
        for (g, k, name) in &s.kinds {
            assert!(s.definition(name).is_some(), "{g} {k}: no {name}");
        }
        assert_eq!(
            type_name("apps", "v1", "Deployment"),
            Some("io.k8s.api.apps.v1.Deployment")
        );
    }

    #[test]
    fn references_resolve_to_nested_types() {
        let s = Schemas::get();
        let pod = s.for_kind("", "v1", "Pod").unwrap();
        let spec = s.resolve(&pod["properties"]["spec"]);
        let containers = &spec["properties"]["containers"];
        assert_eq!(containers["type"], "array");
        let container = s.resolve(&containers["items"]);
        assert!(container["properties"]["image"].is_object());
    }
}

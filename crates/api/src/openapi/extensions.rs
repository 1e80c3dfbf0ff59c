//! The Kubernetes vendor extensions that k8s-openapi's generated schemas
//! leave out: patch strategies and merge keys (kubectl's client-side apply
//! builds its strategic merge patches from them, and the server must merge
//! with the same keys), list and map types (server-side apply), and atomic
//! structs.
//!
//! This is the one table of them in ironclad (`extensions/table.rs`).
//! [`annotate`] writes it into the shared definitions, so the OpenAPI
//! documents carry upstream's `x-kubernetes-*` extensions; the patch engines
//! query it through [`field_meta`] and [`type_is_atomic`] (re-exported by
//! [`crate::schema`]). What the server publishes and how it merges cannot
//! drift apart.

mod table;

use serde_json::{Map, Value, json};

/// How server-side apply treats a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Owned and replaced as a whole (also the default of untagged lists).
    Atomic,
    /// A set of scalars, each element owned separately.
    Set,
    /// A list of objects identified by the values of their key fields.
    Map(&'static [&'static str]),
}

/// Whether a map or struct is owned as a whole or field by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapType {
    /// Owned and replaced as a whole.
    Atomic,
    /// Each key owned separately (the default).
    Granular,
}

/// The shape marker of a field in the table (`+listType`, `+mapType`),
/// before it is split into [`FieldMeta`]'s fields. Upstream's other markers
/// (`+structType` on a field) appear only on types ironclad does not serve;
/// they get a variant when one is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// No list/map marker, only patch tags.
    Unspecified,
    /// `+listType=atomic`.
    ListAtomic,
    /// `+listType=set`.
    ListSet,
    /// `+listType=map` with its `+listMapKey`s.
    ListMap(&'static [&'static str]),
    /// `+mapType=atomic`.
    MapAtomic,
    /// `+mapType=granular` (PersistentVolumeClaimStatus's
    /// allocatedResourceStatuses).
    MapGranular,
}

/// The merge metadata of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldMeta {
    /// `x-kubernetes-patch-strategy`: `merge`, `retainKeys`,
    /// `merge,retainKeys` or `replace`; empty when absent.
    pub patch_strategy: &'static str,
    /// `x-kubernetes-patch-merge-key`, for lists of objects that merge.
    pub patch_merge_key: Option<&'static str>,
    /// `x-kubernetes-list-type` (with `x-kubernetes-list-map-keys`).
    pub list_type: Option<ListType>,
    /// `x-kubernetes-map-type` (for maps and structs).
    pub map_type: Option<MapType>,
}

impl FieldMeta {
    /// No metadata: lists are atomic, maps granular.
    pub const NONE: FieldMeta = FieldMeta {
        patch_strategy: "",
        patch_merge_key: None,
        list_type: None,
        map_type: None,
    };

    const fn new(strategy: &'static str, merge_key: &'static str, shape: Shape) -> Self {
        let (list_type, map_type) = match shape {
            Shape::Unspecified => (None, None),
            Shape::ListAtomic => (Some(ListType::Atomic), None),
            Shape::ListSet => (Some(ListType::Set), None),
            Shape::ListMap(keys) => (Some(ListType::Map(keys)), None),
            Shape::MapAtomic => (None, Some(MapType::Atomic)),
            Shape::MapGranular => (None, Some(MapType::Granular)),
        };
        FieldMeta {
            patch_strategy: strategy,
            patch_merge_key: if merge_key.is_empty() {
                None
            } else {
                Some(merge_key)
            },
            list_type,
            map_type,
        }
    }

    /// Whether a strategic merge patch merges this list (rather than
    /// replacing it).
    pub fn merges(&self) -> bool {
        self.strategies().any(|s| s == "merge")
    }

    /// Whether a strategic merge patch replaces this map wholesale.
    pub fn replaces(&self) -> bool {
        self.strategies().any(|s| s == "replace")
    }

    /// Whether clients send `$retainKeys` for this field.
    pub fn retains_keys(&self) -> bool {
        self.strategies().any(|s| s == "retainKeys")
    }

    fn strategies(&self) -> impl Iterator<Item = &'static str> {
        self.patch_strategy.split(',').filter(|s| !s.is_empty())
    }

    /// The `x-kubernetes-*` OpenAPI extensions upstream publishes for this
    /// field, to be merged into the field's property schema.
    pub fn extensions(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if !self.patch_strategy.is_empty() {
            out.insert(
                "x-kubernetes-patch-strategy".into(),
                json!(self.patch_strategy),
            );
        }
        if let Some(key) = self.patch_merge_key {
            out.insert("x-kubernetes-patch-merge-key".into(), json!(key));
        }
        let list_type = match self.list_type {
            Some(ListType::Atomic) => Some("atomic"),
            Some(ListType::Set) => Some("set"),
            Some(ListType::Map(keys)) => {
                out.insert("x-kubernetes-list-map-keys".into(), json!(keys));
                Some("map")
            }
            None => None,
        };
        if let Some(list_type) = list_type {
            out.insert("x-kubernetes-list-type".into(), json!(list_type));
        }
        let map_type = match self.map_type {
            Some(MapType::Atomic) => Some("atomic"),
            Some(MapType::Granular) => Some("granular"),
            None => None,
        };
        if let Some(map_type) = map_type {
            out.insert("x-kubernetes-map-type".into(), json!(map_type));
        }
        out
    }
}

/// The metadata of `field` in the definition `type_name`
/// (`("io.k8s.api.core.v1.PodSpec", "containers")`), or `None` when the
/// field has none (or is unknown).
pub fn field_meta(type_name: &str, field: &str) -> Option<FieldMeta> {
    table::FIELDS
        .binary_search_by(|(t, f, _)| (*t, *f).cmp(&(type_name, field)))
        .ok()
        .and_then(|i| table::FIELDS.get(i))
        .map(|(_, _, meta)| *meta)
}

/// Whether values of the definition are atomic for server-side apply
/// (`x-kubernetes-map-type: atomic` on the definition, upstream's
/// `+structType=atomic`), e.g. `LabelSelector` or `ObjectReference`.
pub fn type_is_atomic(type_name: &str) -> bool {
    table::ATOMIC_TYPES.binary_search(&type_name).is_ok()
}

/// Adds the table's extensions to the definitions (keyed by definition
/// name): the patch and list metadata on each listed property, and
/// `x-kubernetes-map-type: atomic` on atomic definitions. Returns the
/// entries that found no definition or property (none, when the table
/// matches the generated schemas).
pub(crate) fn annotate(definitions: &mut Map<String, Value>) -> Vec<String> {
    let mut unmatched = Vec::new();
    for (ty, field, meta) in table::FIELDS {
        match definitions
            .get_mut(*ty)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*field))
            .and_then(Value::as_object_mut)
        {
            Some(prop) => prop.extend(meta.extensions()),
            None => unmatched.push(format!("{ty}.{field}")),
        }
    }
    for ty in table::ATOMIC_TYPES {
        match definitions.get_mut(*ty).and_then(Value::as_object_mut) {
            Some(def) => {
                def.insert("x-kubernetes-map-type".into(), json!("atomic"));
            }
            None => unmatched.push((*ty).to_string()),
        }
    }
    unmatched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schemas;

    #[test]
    fn table_is_sorted_and_every_entry_lands_on_a_generated_definition() {
        assert!(
            table::FIELDS
                .windows(2)
                .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)),
            "FIELDS must be sorted by (type, field) without duplicates"
        );
        assert!(
            table::ATOMIC_TYPES.windows(2).all(|w| w[0] < w[1]),
            "ATOMIC_TYPES must be sorted without duplicates"
        );
        let mut definitions = Schemas::get().definitions().clone();
        assert_eq!(annotate(&mut definitions), Vec::<String>::new());
    }

    #[test]
    fn well_known_fields() {
        let c = field_meta("io.k8s.api.core.v1.PodSpec", "containers").unwrap();
        assert!(c.merges());
        assert_eq!(c.patch_merge_key, Some("name"));
        assert_eq!(c.list_type, Some(ListType::Map(&["name"])));
        let ports = field_meta("io.k8s.api.core.v1.Container", "ports").unwrap();
        assert_eq!(ports.patch_merge_key, Some("containerPort"));
        assert_eq!(
            ports.list_type,
            Some(ListType::Map(&["containerPort", "protocol"]))
        );
        let fin = field_meta(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
        )
        .unwrap();
        assert!(fin.merges());
        assert_eq!(fin.patch_merge_key, None);
        assert_eq!(fin.list_type, Some(ListType::Set));
        let vols = field_meta("io.k8s.api.core.v1.PodSpec", "volumes").unwrap();
        assert!(vols.merges() && vols.retains_keys() && !vols.replaces());
        let strategy = field_meta("io.k8s.api.apps.v1.DeploymentSpec", "strategy").unwrap();
        assert!(strategy.retains_keys() && !strategy.merges());
        assert_eq!(strategy.list_type, None);
        // Upstream merges these by key in strategic merge patches but keeps
        // them atomic for server-side apply.
        let job = field_meta("io.k8s.api.batch.v1.JobStatus", "conditions").unwrap();
        assert!(job.merges());
        assert_eq!(job.list_type, Some(ListType::Atomic));
        let tol = field_meta("io.k8s.api.core.v1.PodSpec", "tolerations").unwrap();
        assert!(!tol.merges());
        assert_eq!(tol.list_type, Some(ListType::Atomic));
        let sel = field_meta("io.k8s.api.core.v1.ServiceSpec", "selector").unwrap();
        assert_eq!(sel.map_type, Some(MapType::Atomic));
        assert!(field_meta("io.k8s.api.core.v1.PodSpec", "nope").is_none());
        assert!(field_meta("no.such.Type", "containers").is_none());
        assert!(type_is_atomic(
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
        ));
        assert!(!type_is_atomic("io.k8s.api.core.v1.PodSpec"));
    }

    #[test]
    fn extensions_are_upstream_names() {
        let ports = field_meta("io.k8s.api.core.v1.Container", "ports").unwrap();
        let ext = ports.extensions();
        assert_eq!(ext.len(), 4);
        assert_eq!(ext["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(ext["x-kubernetes-patch-merge-key"], "containerPort");
        assert_eq!(ext["x-kubernetes-list-type"], "map");
        assert_eq!(
            ext["x-kubernetes-list-map-keys"],
            json!(["containerPort", "protocol"])
        );
        let granular = FieldMeta {
            map_type: Some(MapType::Granular),
            ..FieldMeta::NONE
        };
        assert_eq!(
            Value::Object(granular.extensions()),
            json!({ "x-kubernetes-map-type": "granular" })
        );
        assert!(FieldMeta::NONE.extensions().is_empty());
    }

    #[test]
    fn the_shared_schemas_carry_the_table() {
        let s = Schemas::get();
        let spec = &s.definition("io.k8s.api.core.v1.PodSpec").unwrap()["properties"];
        let containers = &spec["containers"];
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
        assert_eq!(spec["nodeSelector"]["x-kubernetes-map-type"], "atomic");
        assert!(spec["hostname"].get("x-kubernetes-list-type").is_none());
        let ports = &s.definition("io.k8s.api.core.v1.Container").unwrap()["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-list-map-keys"][1], "protocol");
        let owner = s.definition("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference");
        assert_eq!(owner.unwrap()["x-kubernetes-map-type"], "atomic");
        let pod = s.definition("io.k8s.api.core.v1.PodSpec").unwrap();
        assert!(pod.get("x-kubernetes-map-type").is_none());
    }
}

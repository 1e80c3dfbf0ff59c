//! How each field of a served type merges: the strategic-merge-patch
//! strategy and merge key, and the server-side-apply list, map and struct
//! types. The generated OpenAPI schemas do not carry upstream's
//! `x-kubernetes-*` extensions, so this table supplies them; the API server
//! can also use it to add those extensions to the OpenAPI documents it
//! publishes ([`FieldMeta::extensions`]).

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

/// The shape annotation of a field in the table (`+listType`, `+mapType`,
/// `+structType`), before it is split into [`FieldMeta`]'s fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No list/map/struct marker, only patch tags.
    Unspecified,
    /// `+listType=atomic`.
    ListAtomic,
    /// `+listType=set`.
    ListSet,
    /// `+listType=map` with its `+listMapKey`s.
    ListMap(&'static [&'static str]),
    /// `+mapType=atomic`.
    MapAtomic,
    // The markers below appear upstream only on types ironclad does not
    // serve yet; they are kept so every marker has a spelling.
    /// `+mapType=granular`.
    #[allow(dead_code)]
    MapGranular,
    /// `+structType=atomic` on the field.
    #[allow(dead_code)]
    StructAtomic,
    /// `+structType=granular` on the field (overrides an atomic type).
    #[allow(dead_code)]
    StructGranular,
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

    pub(crate) const fn new(strategy: &'static str, merge_key: &'static str, shape: Shape) -> Self {
        let (list_type, map_type) = match shape {
            Shape::Unspecified => (None, None),
            Shape::ListAtomic => (Some(ListType::Atomic), None),
            Shape::ListSet => (Some(ListType::Set), None),
            Shape::ListMap(keys) => (Some(ListType::Map(keys)), None),
            Shape::MapAtomic | Shape::StructAtomic => (None, Some(MapType::Atomic)),
            Shape::MapGranular | Shape::StructGranular => (None, Some(MapType::Granular)),
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
        match self.list_type {
            Some(ListType::Atomic) => {
                out.insert("x-kubernetes-list-type".into(), json!("atomic"));
            }
            Some(ListType::Set) => {
                out.insert("x-kubernetes-list-type".into(), json!("set"));
            }
            Some(ListType::Map(keys)) => {
                out.insert("x-kubernetes-list-type".into(), json!("map"));
                out.insert("x-kubernetes-list-map-keys".into(), json!(keys));
            }
            None => {}
        }
        match self.map_type {
            Some(MapType::Atomic) => {
                out.insert("x-kubernetes-map-type".into(), json!("atomic"));
            }
            Some(MapType::Granular) => {
                out.insert("x-kubernetes-map-type".into(), json!("granular"));
            }
            None => {}
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

/// Every (definition, field, metadata) in the table, sorted.
pub fn all_field_meta() -> impl Iterator<Item = (&'static str, &'static str, FieldMeta)> {
    table::FIELDS.iter().map(|(t, f, m)| (*t, *f, *m))
}

/// Whether values of the definition are atomic for server-side apply
/// (`x-kubernetes-map-type: atomic` on the definition, upstream's
/// `+structType=atomic`), e.g. `LabelSelector` or `ObjectReference`.
pub fn type_is_atomic(type_name: &str) -> bool {
    table::ATOMIC_TYPES.binary_search(&type_name).is_ok()
}

/// Adds upstream's `x-kubernetes-*` extensions to OpenAPI definitions
/// (keyed by definition name, as `Schemas::definitions` holds them): the
/// patch and list metadata on each listed property, and
/// `x-kubernetes-map-type: atomic` on atomic definitions. Definitions or
/// properties that are absent are skipped.
pub fn annotate_definitions(definitions: &mut Map<String, Value>) {
    for (ty, field, meta) in all_field_meta() {
        if let Some(Value::Object(prop)) = definitions
            .get_mut(ty)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(field))
        {
            prop.extend(meta.extensions());
        }
    }
    for ty in table::ATOMIC_TYPES {
        if let Some(Value::Object(def)) = definitions.get_mut(*ty) {
            def.insert("x-kubernetes-map-type".into(), json!("atomic"));
        }
    }
}

/// The value server-side apply assumes for a list-map key field an element
/// leaves out, as upstream's schema defaults do (a port's protocol is TCP).
pub fn list_map_key_default(key: &str) -> Option<Value> {
    (key == "protocol").then(|| json!("TCP"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_api::schema::Schemas;

    #[test]
    fn table_is_sorted_and_names_real_fields() {
        let schemas = Schemas::get();
        let mut prev: Option<(&str, &str)> = None;
        for (ty, field, _) in all_field_meta() {
            if let Some(p) = prev {
                assert!(p < (ty, field), "{p:?} before {ty}.{field}");
            }
            prev = Some((ty, field));
            let def = schemas.definition(ty).unwrap_or_else(|| panic!("no {ty}"));
            assert!(def["properties"][field].is_object(), "{ty} has no {field}");
        }
        let mut prev = "";
        for ty in table::ATOMIC_TYPES {
            assert!(prev < *ty);
            prev = ty;
            assert!(schemas.definition(ty).is_some(), "no {ty}");
        }
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
        assert!(vols.merges() && vols.retains_keys());
        let tol = field_meta("io.k8s.api.core.v1.PodSpec", "tolerations").unwrap();
        assert!(!tol.merges());
        assert_eq!(tol.list_type, Some(ListType::Atomic));
        let sel = field_meta("io.k8s.api.core.v1.ServiceSpec", "selector").unwrap();
        assert_eq!(sel.map_type, Some(MapType::Atomic));
        assert!(field_meta("io.k8s.api.core.v1.PodSpec", "nope").is_none());
        assert!(type_is_atomic(
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
        ));
        assert!(!type_is_atomic("io.k8s.api.core.v1.PodSpec"));
    }

    #[test]
    fn extensions_are_upstream_names() {
        let ports = field_meta("io.k8s.api.core.v1.Container", "ports").unwrap();
        let ext = ports.extensions();
        assert_eq!(ext["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(ext["x-kubernetes-patch-merge-key"], "containerPort");
        assert_eq!(ext["x-kubernetes-list-type"], "map");
        assert_eq!(
            ext["x-kubernetes-list-map-keys"],
            json!(["containerPort", "protocol"])
        );
    }

    #[test]
    fn annotates_definitions() {
        let mut defs = Schemas::get().definitions().clone();
        annotate_definitions(&mut defs);
        let spec = &defs["io.k8s.api.core.v1.PodSpec"]["properties"];
        assert_eq!(spec["containers"]["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(
            spec["containers"]["x-kubernetes-list-map-keys"],
            json!(["name"])
        );
        assert_eq!(spec["nodeSelector"]["x-kubernetes-map-type"], "atomic");
        let selector = &defs["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"];
        assert_eq!(selector["x-kubernetes-map-type"], "atomic");
    }
}

//! A position in a type: the generated OpenAPI schema of the value found
//! there plus the merge metadata of the field holding it. The patch engines
//! walk objects and types side by side with it; where the schema says
//! nothing (unknown types, free-form fields) the value's own shape decides,
//! as upstream's "deduced" type does.

use ironclad_api::schema::{Schemas, ref_name};
use serde_json::Value;

use crate::meta::{FieldMeta, ListType, MapType, field_meta, type_is_atomic};

/// What a schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string, number, boolean or int-or-string.
    Scalar,
    /// An object with declared properties.
    Struct,
    /// An object with arbitrary keys of one value type.
    Map,
    /// An array.
    List,
    /// No schema: deduced from the value.
    Untyped,
}

/// A typed position (cheap to copy).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ty {
    schema: Option<&'static Value>,
    def: Option<&'static str>,
    meta: FieldMeta,
}

impl Ty {
    /// The top of an object of the definition `type_name`, if it exists.
    pub(crate) fn root(type_name: &str) -> Option<Ty> {
        let schemas = Schemas::get();
        let (name, schema) = schemas.definitions().get_key_value(type_name)?;
        Some(Ty {
            schema: Some(schema),
            def: Some(name.as_str()),
            meta: FieldMeta::NONE,
        })
    }

    /// The top of an object of `type_name`, or an untyped one.
    pub(crate) fn root_or_untyped(type_name: &str) -> Ty {
        Ty::root(type_name).unwrap_or_else(Ty::untyped)
    }

    /// A position without a schema.
    pub(crate) fn untyped() -> Ty {
        Ty {
            schema: None,
            def: None,
            meta: FieldMeta::NONE,
        }
    }

    fn from_schema(schema: &'static Value, meta: FieldMeta) -> Ty {
        let schemas = Schemas::get();
        let def = ref_name(schema).and_then(|n| schemas.definitions().get_key_value(n));
        match def {
            Some((name, resolved)) => Ty {
                schema: Some(resolved),
                def: Some(name.as_str()),
                meta,
            },
            None => Ty {
                schema: Some(schema),
                def: None,
                meta,
            },
        }
    }

    /// The definition name of this position's type, if it is a named one.
    pub(crate) fn def(&self) -> Option<&'static str> {
        self.def
    }

    /// The metadata of the field holding this value.
    pub(crate) fn meta(&self) -> FieldMeta {
        self.meta
    }

    pub(crate) fn kind(&self) -> Kind {
        let Some(s) = self.schema else {
            return Kind::Untyped;
        };
        if s.get("properties").is_some_and(Value::is_object) {
            return Kind::Struct;
        }
        if s.get("additionalProperties").is_some_and(Value::is_object) {
            return Kind::Map;
        }
        if s.get("x-kubernetes-int-or-string").is_some() {
            return Kind::Scalar;
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => Some(t.as_str()),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
            _ => None,
        };
        match ty {
            Some("array") => Kind::List,
            Some("string" | "integer" | "number" | "boolean") => Kind::Scalar,
            _ => Kind::Untyped,
        }
    }

    /// The JSON type a scalar must have (`string`, `number` or `boolean`);
    /// `None` for int-or-string and untyped positions, which take any.
    pub(crate) fn scalar_type(&self) -> Option<&'static str> {
        let s = self.schema?;
        if s.get("x-kubernetes-int-or-string").is_some() {
            return None;
        }
        match s.get("type")?.as_str()? {
            "string" => Some("string"),
            "integer" | "number" => Some("number"),
            "boolean" => Some("boolean"),
            _ => None,
        }
    }

    /// Whether `name` is a declared property of this struct.
    pub(crate) fn declares(&self, name: &str) -> bool {
        self.kind() == Kind::Struct && self.property(name).is_some()
    }

    fn property(&self, name: &str) -> Option<&'static Value> {
        self.schema?.get("properties")?.get(name)
    }

    /// The type of the value under key `name`: a declared property of a
    /// struct, the value type of a map, untyped otherwise (`None` for an
    /// undeclared property of a struct).
    pub(crate) fn field(&self, name: &str) -> Option<Ty> {
        match self.kind() {
            Kind::Struct => {
                let schema = self.property(name)?;
                let meta = self
                    .def
                    .and_then(|d| field_meta(d, name))
                    .unwrap_or(FieldMeta::NONE);
                Some(Ty::from_schema(schema, meta))
            }
            Kind::Map => Some(
                self.schema
                    .and_then(|s| s.get("additionalProperties"))
                    .map(|s| Ty::from_schema(s, FieldMeta::NONE))
                    .unwrap_or_else(Ty::untyped),
            ),
            _ => Some(Ty::untyped()),
        }
    }

    /// Like [`Ty::field`], with undeclared properties untyped.
    pub(crate) fn field_or_untyped(&self, name: &str) -> Ty {
        self.field(name).unwrap_or_else(Ty::untyped)
    }

    /// The type of a list's elements.
    pub(crate) fn elem(&self) -> Ty {
        match (self.kind(), self.schema.and_then(|s| s.get("items"))) {
            (Kind::List, Some(items)) => Ty::from_schema(items, FieldMeta::NONE),
            _ => Ty::untyped(),
        }
    }

    /// How server-side apply treats this list (atomic unless tagged).
    pub(crate) fn list_type(&self) -> ListType {
        self.meta.list_type.unwrap_or(ListType::Atomic)
    }

    /// Whether server-side apply owns this map or struct as a whole: the
    /// field says so, or the type does and the field does not override it.
    pub(crate) fn is_atomic_object(&self) -> bool {
        match self.meta.map_type {
            Some(MapType::Atomic) => true,
            Some(MapType::Granular) => false,
            None => self.def.is_some_and(type_is_atomic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigates_a_deployment() {
        let d = Ty::root("io.k8s.api.apps.v1.Deployment").unwrap();
        assert_eq!(d.kind(), Kind::Struct);
        let spec = d.field("spec").unwrap();
        assert_eq!(spec.def(), Some("io.k8s.api.apps.v1.DeploymentSpec"));
        let pod = spec.field("template").unwrap().field("spec").unwrap();
        let containers = pod.field("containers").unwrap();
        assert_eq!(containers.kind(), Kind::List);
        assert_eq!(containers.meta().patch_merge_key, Some("name"));
        let c = containers.elem();
        assert_eq!(c.def(), Some("io.k8s.api.core.v1.Container"));
        assert_eq!(c.field("image").unwrap().kind(), Kind::Scalar);
        let limits = c.field("resources").unwrap().field("limits").unwrap();
        assert_eq!(limits.kind(), Kind::Map);
        assert_eq!(limits.field("cpu").unwrap().kind(), Kind::Scalar);
        assert!(spec.field("selector").unwrap().is_atomic_object());
        assert!(pod.field("nodeSelector").unwrap().is_atomic_object());
        assert!(c.field("nope").is_none());
        assert_eq!(c.field_or_untyped("nope").kind(), Kind::Untyped);
        assert!(Ty::root("no.such.Type").is_none());
    }
}

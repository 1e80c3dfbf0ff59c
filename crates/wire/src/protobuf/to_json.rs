//! Conversion of prost messages to the JSON Go's `encoding/json` writes for the same
//! object, so a protobuf body becomes what kubectl would have sent as JSON.
//!
//! Go's gogo marshaller writes every non-pointer field, zero or not, so "present in the
//! protobuf" does not mean "set by the user". Go's JSON then leaves a zero value out only
//! for a non-pointer field tagged `omitempty`; such fields are listed plainly in
//! [`message!`], the others (pointers, fields without `omitempty`) carry `: keep`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::WireError;

/// A prost message, scalar or bytes value that has a JSON form.
pub(crate) trait ToJson {
    /// The value as JSON; `Null` means "write nothing" (a zero timestamp).
    fn to_json(&self) -> Result<Value, WireError>;

    /// Whether this is Go's zero value, which a non-pointer `omitempty` field leaves out.
    /// Messages are structs in Go, which `omitempty` never leaves out.
    fn is_zero(&self) -> bool {
        false
    }
}

impl ToJson for String {
    fn to_json(&self) -> Result<Value, WireError> {
        Ok(Value::String(self.clone()))
    }
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Result<Value, WireError> {
        Ok(Value::Bool(*self))
    }
    fn is_zero(&self) -> bool {
        !*self
    }
}

macro_rules! integer_to_json {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Result<Value, WireError> {
                Ok(Value::from(*self))
            }
            fn is_zero(&self) -> bool {
                *self == 0
            }
        }
    )*};
}
integer_to_json!(i32, i64, u32, u64);

impl ToJson for f64 {
    fn to_json(&self) -> Result<Value, WireError> {
        serde_json::Number::from_f64(*self)
            .map(Value::Number)
            .ok_or_else(|| WireError::invalid(format!("{self} is not a finite number")))
    }
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
}

impl ToJson for f32 {
    fn to_json(&self) -> Result<Value, WireError> {
        f64::from(*self).to_json()
    }
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
}

/// Go's `[]byte` is base64 (standard alphabet, padded) in JSON.
impl ToJson for Vec<u8> {
    fn to_json(&self) -> Result<Value, WireError> {
        use base64::Engine as _;
        Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(self),
        ))
    }
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<T: ToJson> ToJson for Box<T> {
    fn to_json(&self) -> Result<Value, WireError> {
        T::to_json(self)
    }
    fn is_zero(&self) -> bool {
        T::is_zero(self)
    }
}

/// A field of a prost message: `Option` (proto2 optional), `Vec` (repeated) or
/// `BTreeMap` (map). `None` from [`Slot::emit`] means the key is left out.
pub(crate) trait Slot {
    /// The field's JSON value, if Go's JSON would write one; `keep_zero` for pointer
    /// fields and fields without `omitempty`.
    fn emit(&self, keep_zero: bool) -> Result<Option<Value>, WireError>;
}

impl<T: ToJson> Slot for Option<T> {
    fn emit(&self, keep_zero: bool) -> Result<Option<Value>, WireError> {
        match self {
            None => Ok(None),
            Some(v) if !keep_zero && v.is_zero() => Ok(None),
            Some(v) => v.to_json().map(|j| (!j.is_null()).then_some(j)),
        }
    }
}

/// Empty lists are left out: Go writes `null` or nothing, and both mean "unset".
impl<T: ToJson> Slot for Vec<T> {
    fn emit(&self, _keep_zero: bool) -> Result<Option<Value>, WireError> {
        if self.is_empty() {
            return Ok(None);
        }
        let items = self
            .iter()
            .enumerate()
            .map(|(i, v)| v.to_json().map_err(|e| e.within(&format!("[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Value::Array(items)))
    }
}

/// Map entries are written whatever their value, as Go does.
impl<V: ToJson> Slot for BTreeMap<String, V> {
    fn emit(&self, _keep_zero: bool) -> Result<Option<Value>, WireError> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut object = Map::new();
        for (k, v) in self {
            object.insert(k.clone(), v.to_json().map_err(|e| e.within(k))?);
        }
        Ok(Some(Value::Object(object)))
    }
}

/// Writes one field under its JSON name.
pub(crate) fn put(
    out: &mut Map<String, Value>,
    name: String,
    field: &impl Slot,
    keep_zero: bool,
) -> Result<(), WireError> {
    match field.emit(keep_zero) {
        Ok(Some(value)) => {
            out.insert(name, value);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e.within(&name)),
    }
}

/// Writes the fields of an embedded struct Go inlines (`json:",inline"`), e.g. a
/// Volume's VolumeSource or a Probe's ProbeHandler, into the enclosing object.
pub(crate) fn inline<T: ToJson>(
    out: &mut Map<String, Value>,
    field: &Option<T>,
) -> Result<(), WireError> {
    let Some(value) = field else {
        return Ok(());
    };
    if let Value::Object(fields) = value.to_json()? {
        out.extend(fields);
    }
    Ok(())
}

/// lowerCamelCase of a prost field name (`r#type` → `type`, `host_ip` → `hostIp`);
/// names that differ (`hostIP`) are spelled out in [`message!`].
pub(crate) fn camel(field: &str) -> String {
    let field = field.strip_prefix("r#").unwrap_or(field);
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `impl ToJson` for a prost message, listing every field:
/// `message! { pb::ContainerPort { name, container_port: keep, host_ip => "hostIP" } }`
///
/// - `field`: JSON name is the lowerCamelCase of the Rust name; a zero value is left out.
/// - `field => "json"`: the JSON name, where camel case would get it wrong.
/// - `: keep`: zero values are written too (Go pointer, or no `omitempty`).
/// - `: inline`: the message's fields are written into this object.
///
/// The fields are bound by an exhaustive pattern, so a prost type that gains a field
/// fails to compile until the field is listed: none is dropped silently.
macro_rules! message {
    (@name $field:ident) => {
        $crate::protobuf::to_json::camel(stringify!($field))
    };
    (@name $field:ident, $json:literal) => {
        ::std::string::String::from($json)
    };
    (@field $out:ident, $field:ident, $name:expr) => {
        $crate::protobuf::to_json::put(&mut $out, $name, $field, false)?
    };
    (@field $out:ident, $field:ident, $name:expr, keep) => {
        $crate::protobuf::to_json::put(&mut $out, $name, $field, true)?
    };
    (@field $out:ident, $field:ident, $name:expr, inline) => {
        $crate::protobuf::to_json::inline(&mut $out, $field)?
    };
    ($($ty:ident)::+ { $($field:ident $(=> $json:literal)? $(: $mode:ident)?),* $(,)? }) => {
        impl $crate::protobuf::to_json::ToJson for $($ty)::+ {
            fn to_json(&self) -> ::core::result::Result<::serde_json::Value, $crate::WireError> {
                #[allow(unused_mut)]
                let mut out = ::serde_json::Map::new();
                let $($ty)::+ { $($field),* } = self;
                $(
                    $crate::protobuf::to_json::message!(
                        @field out,
                        $field,
                        $crate::protobuf::to_json::message!(@name $field $(, $json)?)
                        $(, $mode)?
                    );
                )*
                ::core::result::Result::Ok(::serde_json::Value::Object(out))
            }
        }

        #[cfg(test)]
        impl $crate::protobuf::fill::Fill for $($ty)::+ {
            fn fill(depth: u32) -> Self {
                $($ty)::+ { $($field: $crate::protobuf::fill::Fill::fill(depth)),* }
            }
        }
    };
}
pub(crate) use message;

/// `impl ToJson` for the protobuf wrapper of a Go named slice type
/// (`type ExtraValue []string` → `message ExtraValue { repeated string items = 1; }`),
/// which is a plain JSON array.
macro_rules! list_message {
    ($($ty:ident)::+) => {
        impl $crate::protobuf::to_json::ToJson for $($ty)::+ {
            fn to_json(&self) -> ::core::result::Result<::serde_json::Value, $crate::WireError> {
                let $($ty)::+ { items } = self;
                items
                    .iter()
                    .map($crate::protobuf::to_json::ToJson::to_json)
                    .collect::<::core::result::Result<::std::vec::Vec<_>, _>>()
                    .map(::serde_json::Value::Array)
            }
        }

        #[cfg(test)]
        impl $crate::protobuf::fill::Fill for $($ty)::+ {
            fn fill(depth: u32) -> Self {
                $($ty)::+ { items: $crate::protobuf::fill::Fill::fill(depth) }
            }
        }
    };
}
pub(crate) use list_message;

#[cfg(test)]
mod tests {
    use super::{Slot, ToJson, camel};
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn camel_case_of_prost_names() {
        assert_eq!(camel("r#type"), "type");
        assert_eq!(camel("host_ip"), "hostIp");
        assert_eq!(
            camel("termination_grace_period_seconds"),
            "terminationGracePeriodSeconds"
        );
        assert_eq!(camel("name"), "name");
    }

    #[test]
    fn zero_values_follow_omitempty() {
        assert_eq!(Some(String::new()).emit(false).unwrap(), None);
        assert_eq!(Some(String::new()).emit(true).unwrap(), Some(json!("")));
        assert_eq!(Some(0i32).emit(false).unwrap(), None);
        assert_eq!(Some(0i32).emit(true).unwrap(), Some(json!(0)));
        assert_eq!(Some(false).emit(true).unwrap(), Some(json!(false)));
        assert_eq!(None::<i64>.emit(true).unwrap(), None);
        assert_eq!(Vec::<String>::new().emit(true).unwrap(), None);
        let m: BTreeMap<String, String> = [("k".to_owned(), String::new())].into();
        assert_eq!(m.emit(false).unwrap(), Some(json!({"k": ""})));
    }

    #[test]
    fn bytes_are_base64_and_floats_must_be_finite() {
        assert_eq!(b"b".to_vec().to_json().unwrap(), json!("Yg=="));
        assert!(f64::NAN.to_json().is_err());
        assert!(Some(f64::INFINITY).emit(false).is_err());
    }
}

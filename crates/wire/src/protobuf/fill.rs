//! Test-only: messages with every field set to a non-zero value, built from the same
//! field lists as the conversion (see `message!`), so a test can check every JSON name
//! the conversion writes against an independent typed model.

use std::collections::BTreeMap;

use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{Duration, FieldsV1, MicroTime, Time};
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;

/// Nesting beyond this gets no value, in case a message type refers to itself.
const MAX_DEPTH: u32 = 16;

/// A value with every field set.
pub(crate) trait Fill: Sized {
    /// The filled value; `depth` counts the messages it sits in.
    fn fill(depth: u32) -> Self;
}

impl Fill for String {
    fn fill(_: u32) -> Self {
        "x".into()
    }
}
impl Fill for bool {
    fn fill(_: u32) -> Self {
        true
    }
}
impl Fill for i32 {
    fn fill(_: u32) -> Self {
        1
    }
}
impl Fill for i64 {
    fn fill(_: u32) -> Self {
        1
    }
}
impl Fill for u32 {
    fn fill(_: u32) -> Self {
        1
    }
}
impl Fill for u64 {
    fn fill(_: u32) -> Self {
        1
    }
}
impl Fill for f64 {
    fn fill(_: u32) -> Self {
        1.5
    }
}
impl Fill for f32 {
    fn fill(_: u32) -> Self {
        1.5
    }
}
impl Fill for Vec<u8> {
    fn fill(_: u32) -> Self {
        b"x".to_vec()
    }
}
impl<T: Fill> Fill for Box<T> {
    fn fill(depth: u32) -> Self {
        Box::new(T::fill(depth))
    }
}
impl<T: Fill> Fill for Option<T> {
    fn fill(depth: u32) -> Self {
        (depth < MAX_DEPTH).then(|| T::fill(depth + 1))
    }
}
impl<T: Fill> Fill for Vec<T> {
    fn fill(depth: u32) -> Self {
        if depth < MAX_DEPTH {
            vec![T::fill(depth + 1)]
        } else {
            Vec::new()
        }
    }
}
impl<T: Fill> Fill for BTreeMap<String, T> {
    fn fill(depth: u32) -> Self {
        if depth < MAX_DEPTH {
            [("k".to_owned(), T::fill(depth + 1))].into()
        } else {
            BTreeMap::new()
        }
    }
}

impl Fill for Time {
    fn fill(_: u32) -> Self {
        Time {
            seconds: Some(1_700_000_000),
            nanos: Some(0),
        }
    }
}
impl Fill for MicroTime {
    fn fill(_: u32) -> Self {
        MicroTime {
            seconds: Some(1_700_000_000),
            nanos: Some(5_000),
        }
    }
}
impl Fill for Duration {
    fn fill(_: u32) -> Self {
        Duration {
            duration: Some(90_000_000_000),
        }
    }
}
impl Fill for Quantity {
    fn fill(_: u32) -> Self {
        Quantity {
            string: Some("1".into()),
        }
    }
}
impl Fill for IntOrString {
    fn fill(_: u32) -> Self {
        IntOrString {
            r#type: Some(0),
            int_val: Some(1),
            str_val: None,
        }
    }
}
impl Fill for FieldsV1 {
    fn fill(_: u32) -> Self {
        FieldsV1 {
            raw: Some(br#"{"f:metadata":{}}"#.to_vec()),
        }
    }
}
impl Fill for RawExtension {
    fn fill(_: u32) -> Self {
        RawExtension {
            raw: Some(br#"{"a":1}"#.to_vec()),
        }
    }
}

//! apimachinery types whose JSON form is not their protobuf field list: timestamps,
//! durations, quantities, int-or-string, and the raw-JSON carriers.

use std::cell::Cell;

use chrono::{DateTime, Datelike, Utc};
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{Duration, FieldsV1, MicroTime, Time};
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::to_json::ToJson;
use crate::WireError;

/// The instant a Time/MicroTime names; Go's RFC 3339 marshalling refuses years outside
/// 0..=9999, and so do we.
fn instant(seconds: Option<i64>, nanos: Option<i32>) -> Result<DateTime<Utc>, WireError> {
    let (seconds, nanos) = (seconds.unwrap_or(0), nanos.unwrap_or(0));
    let nanos = u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| WireError::invalid(format!("timestamp nanos {nanos} out of range")))?;
    DateTime::from_timestamp(seconds, nanos)
        .filter(|t| (0..=9999).contains(&t.year()))
        .ok_or_else(|| WireError::invalid(format!("timestamp seconds {seconds} out of range")))
}

fn time_is_zero(seconds: Option<i64>, nanos: Option<i32>) -> bool {
    seconds.unwrap_or(0) == 0 && nanos.unwrap_or(0) == 0
}

/// `metav1.Time`: RFC 3339 in UTC to the second; the zero time (Go marshals it as
/// `null`, kubectl's `"creationTimestamp": null`) is left out.
impl ToJson for Time {
    fn to_json(&self) -> Result<Value, WireError> {
        if self.is_zero() {
            return Ok(Value::Null);
        }
        let t = instant(self.seconds, self.nanos)?;
        Ok(Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
    }
    fn is_zero(&self) -> bool {
        time_is_zero(self.seconds, self.nanos)
    }
}

/// `metav1.MicroTime`: RFC 3339 in UTC with exactly six fractional digits.
impl ToJson for MicroTime {
    fn to_json(&self) -> Result<Value, WireError> {
        if self.is_zero() {
            return Ok(Value::Null);
        }
        let t = instant(self.seconds, self.nanos)?;
        Ok(Value::String(
            t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        ))
    }
    fn is_zero(&self) -> bool {
        time_is_zero(self.seconds, self.nanos)
    }
}

/// `metav1.Duration`: Go's `time.Duration.String()`, e.g. `1h0m0s`, `1.5s`, `300ms`.
impl ToJson for Duration {
    fn to_json(&self) -> Result<Value, WireError> {
        Ok(Value::String(go_duration(self.duration.unwrap_or(0))))
    }
}

/// Formats nanoseconds the way Go's `time.Duration.String` does.
pub(crate) fn go_duration(nanos: i64) -> String {
    let negative = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".into();
        }
        let (unit, precision) = if u < 1_000 {
            ("ns", 0)
        } else if u < 1_000_000 {
            ("µs", 3)
        } else {
            ("ms", 6)
        };
        let (fraction, whole) = fraction(u, precision);
        out.push_str(&whole.to_string());
        out.push_str(&fraction);
        out.push_str(unit);
    } else {
        let (fraction, whole) = fraction(u, 9);
        u = whole;
        let seconds = format!("{}{fraction}s", u % 60);
        u /= 60;
        if u > 0 {
            let minutes = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&seconds);
    }
    if negative {
        out.insert(0, '-');
    }
    out
}

/// The fractional part of `v / 10^precision` as `.ddd` without trailing zeros (empty
/// when it is zero), and the whole part.
fn fraction(v: u64, precision: u32) -> (String, u64) {
    let scale = 10u64.pow(precision);
    let (whole, frac) = (v / scale, v % scale);
    if frac == 0 {
        return (String::new(), whole);
    }
    let digits = format!("{frac:0width$}", width = precision as usize);
    (format!(".{}", digits.trim_end_matches('0')), whole)
}

/// `resource.Quantity`: its string, as sent (an empty one is left out).
impl ToJson for Quantity {
    fn to_json(&self) -> Result<Value, WireError> {
        Ok(match self.string.as_deref() {
            None | Some("") => Value::Null,
            Some(s) => Value::String(s.to_owned()),
        })
    }
}

/// `intstr.IntOrString`: the int or the string its type selects. Go's zero value
/// (int 0) is left out of non-pointer fields such as a Service's `targetPort`, where
/// upstream treats 0 as unset; pointer fields (`maxUnavailable: 0`) keep it.
impl ToJson for IntOrString {
    fn to_json(&self) -> Result<Value, WireError> {
        match self.r#type.unwrap_or(0) {
            0 => Ok(Value::from(self.int_val.unwrap_or(0))),
            1 => Ok(Value::String(self.str_val.clone().unwrap_or_default())),
            other => Err(WireError::invalid(format!(
                "intOrString type {other} is neither 0 (int) nor 1 (string)"
            ))),
        }
    }
    fn is_zero(&self) -> bool {
        match self.r#type.unwrap_or(0) {
            0 => self.int_val.unwrap_or(0) == 0,
            1 => self.str_val.as_deref().unwrap_or_default().is_empty(),
            _ => false,
        }
    }
}

/// `metav1.FieldsV1`: its raw bytes are the JSON of a managed-fields set.
impl ToJson for FieldsV1 {
    fn to_json(&self) -> Result<Value, WireError> {
        match self.raw.as_deref() {
            None | Some([]) => Ok(Value::Null),
            Some(raw) => serde_json::from_slice(raw)
                .map_err(|e| WireError::invalid(format!("fieldsV1 is not JSON: {e}"))),
        }
    }
}

thread_local! {
    /// How many RawExtensions holding protobuf are being decoded on this thread: each
    /// costs stack, and a body can nest them without bound.
    static NESTED: Cell<u32> = const { Cell::new(0) };
}
const MAX_NESTED: u32 = 4;

/// `runtime.RawExtension`: its raw bytes are an embedded object, JSON as sent, or a
/// nested `k8s\0` protobuf envelope, decoded in turn.
impl ToJson for RawExtension {
    fn to_json(&self) -> Result<Value, WireError> {
        let raw = match self.raw.as_deref() {
            None | Some([]) => return Ok(Value::Null),
            Some(raw) => raw,
        };
        if raw.starts_with(super::MAGIC) {
            let depth = NESTED.with(Cell::get);
            if depth >= MAX_NESTED {
                return Err(WireError::invalid("protobuf objects nested too deeply"));
            }
            NESTED.with(|n| n.set(depth + 1));
            let result = super::decode(raw);
            NESTED.with(|n| n.set(depth));
            return result.map_err(|e| {
                let e = e.to_string();
                let e = e.strip_prefix("protobuf body: ").unwrap_or(&e);
                WireError::invalid(format!("embedded object: {e}"))
            });
        }
        serde_json::from_slice(raw)
            .map_err(|e| WireError::invalid(format!("embedded object is not JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_print_like_go() {
        let s = 1_000_000_000;
        for (nanos, text) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (300_000_000, "300ms"),
            (1_500_000_000, "1.5s"),
            (90 * s, "1m30s"),
            (3600 * s, "1h0m0s"),
            (3661 * s + 1, "1h1m1.000000001s"),
            (-2 * s, "-2s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(go_duration(nanos), text, "{nanos}");
        }
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let t = Time {
            seconds: Some(1_700_000_000),
            nanos: Some(123_456_789),
        };
        assert_eq!(t.to_json().unwrap(), json!("2023-11-14T22:13:20Z"));
        let t = MicroTime {
            seconds: Some(1_700_000_000),
            nanos: Some(123_456_789),
        };
        assert_eq!(t.to_json().unwrap(), json!("2023-11-14T22:13:20.123456Z"));
        assert!(Time::default().is_zero());
        assert_eq!(Time::default().to_json().unwrap(), Value::Null);
        assert!(
            Time {
                seconds: Some(i64::MAX),
                nanos: None
            }
            .to_json()
            .is_err()
        );
        assert!(
            Time {
                seconds: Some(1),
                nanos: Some(-1)
            }
            .to_json()
            .is_err()
        );
        assert!(
            Time {
                seconds: Some(-62_167_219_201),
                nanos: None
            }
            .to_json()
            .is_err()
        );
    }

    #[test]
    fn int_or_string_and_quantity() {
        let int = IntOrString {
            r#type: Some(0),
            int_val: Some(8080),
            str_val: Some(String::new()),
        };
        assert_eq!(int.to_json().unwrap(), json!(8080));
        let s = IntOrString {
            r#type: Some(1),
            int_val: Some(0),
            str_val: Some("http".into()),
        };
        assert_eq!(s.to_json().unwrap(), json!("http"));
        assert!(IntOrString::default().is_zero());
        assert!(
            IntOrString {
                r#type: Some(7),
                ..Default::default()
            }
            .to_json()
            .is_err()
        );
        assert_eq!(
            Quantity {
                string: Some("500m".into())
            }
            .to_json()
            .unwrap(),
            json!("500m")
        );
    }

    #[test]
    fn raw_json_carriers() {
        let f = FieldsV1 {
            raw: Some(br#"{"f:metadata":{}}"#.to_vec()),
        };
        assert_eq!(f.to_json().unwrap(), json!({"f:metadata":{}}));
        assert!(
            FieldsV1 {
                raw: Some(b"{".to_vec())
            }
            .to_json()
            .is_err()
        );
        let r = RawExtension {
            raw: Some(br#"{"kind":"Pod"}"#.to_vec()),
        };
        assert_eq!(r.to_json().unwrap(), json!({"kind":"Pod"}));
        assert!(
            RawExtension {
                raw: Some(b"k8s\0\xff".to_vec())
            }
            .to_json()
            .is_err()
        );
    }
}

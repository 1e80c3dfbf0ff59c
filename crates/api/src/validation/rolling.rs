//! Rolling-update parameters given as a number or a percentage
//! (`maxUnavailable`, `maxSurge`), read the way upstream's
//! `getIntOrPercentValue` and `IsNotMoreThan100Percent` read them.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::error::{FieldError, Path};
use super::names::percent_errors;

/// The percentage of a valid percent string (`"25%"` -> 25).
fn percent(v: &IntOrString) -> Option<i64> {
    match v {
        IntOrString::String(s) if percent_errors(s).is_empty() => {
            s.trim_end_matches('%').parse().ok()
        }
        _ => None,
    }
}

/// The number a value stands for: the percentage of a percent string, the
/// number itself, or Go's `Atoi` of another string (0 when it is none).
pub(crate) fn value_of(v: &IntOrString) -> i64 {
    match (percent(v), v) {
        (Some(p), _) => p,
        (None, IntOrString::Int(n)) => i64::from(*n),
        (None, IntOrString::String(s)) => s.parse().unwrap_or(0),
    }
}

/// A percentage above 100% is refused.
pub(crate) fn not_more_than_100_percent(v: &IntOrString, path: &Path) -> Option<FieldError> {
    percent(v).filter(|p| *p > 100).map(|_| {
        FieldError::invalid(
            path,
            serde_json::to_value(v).unwrap_or(Value::Null),
            "must not be greater than 100%",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_as_upstream_reads_them() {
        let s = |x: &str| IntOrString::String(x.into());
        assert_eq!(value_of(&s("25%")), 25);
        assert_eq!(value_of(&IntOrString::Int(3)), 3);
        assert_eq!(value_of(&s("7")), 7);
        assert_eq!(value_of(&s("x%")), 0);
        let p = Path::new("m");
        assert!(not_more_than_100_percent(&s("100%"), &p).is_none());
        assert!(not_more_than_100_percent(&IntOrString::Int(500), &p).is_none());
        let e = not_more_than_100_percent(&s("101%"), &p).unwrap();
        assert_eq!(
            e.to_string(),
            r#"m: Invalid value: "101%": must not be greater than 100%"#
        );
    }
}

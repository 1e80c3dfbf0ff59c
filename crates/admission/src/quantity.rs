//! Resource quantities as admission and quota compute with them: exact
//! values (billionths) that remember their format the way upstream's
//! `resource.Quantity` does, and print in upstream's canonical form
//! (`1500m`, `2`, `384Mi`, `1k`, `1e3`) — the form messages and
//! `status.used` show.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use ironclad_api::validation::Quantity;
use serde_json::Value;

const NANO: i128 = 1_000_000_000;

/// A resource list: resource name → amount.
pub type ResourceList = BTreeMap<String, Amount>;

/// How a quantity is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `k`, `M`, `m`, ... suffixes (and plain numbers).
    DecimalSI,
    /// `Ki`, `Mi`, ... suffixes.
    BinarySI,
    /// `e3`-style exponents.
    DecimalExponent,
}

/// An exact quantity with its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    nanos: i128,
    format: Format,
}

impl Amount {
    /// Zero, written as a decimal.
    pub const ZERO: Amount = Amount {
        nanos: 0,
        format: Format::DecimalSI,
    };

    /// A whole number (object counts).
    pub fn from_int(n: i64) -> Amount {
        Amount {
            nanos: i128::from(n) * NANO,
            format: Format::DecimalSI,
        }
    }

    /// Parses a quantity string (upstream's grammar; surrounding spaces
    /// are ignored as upstream's JSON decoding ignores them).
    pub fn parse(s: &str) -> Option<Amount> {
        let s = s.trim();
        let parsed = Quantity::parse(s).ok()?;
        Some(Amount {
            nanos: parsed.nanos(),
            format: format_of(s),
        })
    }

    /// Parses a JSON quantity: a string or a number.
    pub fn from_json(v: &Value) -> Option<Amount> {
        match v {
            Value::String(s) => Amount::parse(s),
            Value::Number(n) => Amount::parse(&n.to_string()),
            _ => None,
        }
    }

    /// The value in billionths.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The format it prints in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Upstream's `MilliValue()`: thousandths, rounded away from zero.
    pub fn milli_value(&self) -> i128 {
        div_away(self.nanos, 1_000_000)
    }

    /// Upstream's `Value()`: whole units, rounded away from zero.
    pub fn value(&self) -> i128 {
        div_away(self.nanos, NANO)
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Upstream's `Add`: a zero amount takes the other's format.
    pub fn add(&mut self, other: Amount) {
        if self.nanos == 0 {
            self.format = other.format;
        }
        self.nanos = self.nanos.saturating_add(other.nanos);
    }

    /// Upstream's `Sub`: a zero amount takes the other's format.
    pub fn sub(&mut self, other: Amount) {
        if self.nanos == 0 {
            self.format = other.format;
        }
        self.nanos = self.nanos.saturating_sub(other.nanos);
    }

    /// Upstream's `RoundUp(0)`: the next whole unit.
    pub fn round_up(self) -> Amount {
        Amount {
            nanos: self.value().saturating_mul(NANO),
            format: self.format,
        }
    }

    /// Upstream's canonical string (`Quantity.String()`).
    pub fn canonical(&self) -> String {
        canonical(self.nanos, self.format)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl PartialOrd for Amount {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Amount {
    /// By value only, as upstream's `Cmp` (the format is a tie-break so
    /// the order agrees with `Eq`).
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos
            .cmp(&other.nanos)
            .then_with(|| rank(self.format).cmp(&rank(other.format)))
    }
}

fn rank(f: Format) -> u8 {
    match f {
        Format::DecimalSI => 0,
        Format::BinarySI => 1,
        Format::DecimalExponent => 2,
    }
}

/// A resource list read from a JSON object (`resources.requests`);
/// entries that do not parse are left out.
pub fn list_from_json(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), Amount::from_json(v)?)))
        .collect()
}

/// A resource list read from string quantities (typed objects'
/// `BTreeMap<String, Quantity>`); entries that do not parse are left out.
pub fn list_from_strings<'a>(
    items: impl IntoIterator<Item = (&'a String, &'a str)>,
) -> ResourceList {
    items
        .into_iter()
        .filter_map(|(k, v)| Some((k.clone(), Amount::parse(v)?)))
        .collect()
}

/// The list as canonical strings.
pub fn list_to_strings(list: &ResourceList) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| (k.clone(), v.canonical()))
        .collect()
}

/// Upstream's `quota.Add`.
pub fn add_lists(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        match out.get_mut(k) {
            Some(e) => e.add(*v),
            None => {
                out.insert(k.clone(), *v);
            }
        }
    }
    out
}

/// Upstream's `quota.Subtract`: every key of `a`, minus `b` where present,
/// and the negation of what only `b` has.
pub fn subtract_lists(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        match out.get_mut(k) {
            Some(e) => e.sub(*v),
            None => {
                let mut neg = Amount::ZERO;
                neg.sub(*v);
                out.insert(k.clone(), neg);
            }
        }
    }
    out
}

/// Upstream's `quota.SubtractWithNonNegativeResult`.
pub fn subtract_lists_non_negative(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    for (k, v) in a {
        let mut q = *v;
        if let Some(o) = b.get(k) {
            q.sub(*o);
        }
        if q.is_negative() {
            q = Amount {
                nanos: 0,
                format: q.format,
            };
        }
        out.insert(k.clone(), q);
    }
    for (k, v) in b {
        out.entry(k.clone()).or_insert(Amount {
            nanos: 0,
            format: v.format,
        });
    }
    out
}

fn div_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d == 0 {
        q
    } else if n > 0 {
        q + 1
    } else {
        q - 1
    }
}

/// The format of a quantity string, by its suffix.
fn format_of(s: &str) -> Format {
    let suffix = s
        .trim_start_matches(['+', '-'])
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    if suffix.len() >= 2 && suffix.ends_with('i') {
        Format::BinarySI
    } else if suffix.len() > 1 && suffix.starts_with(['e', 'E']) {
        Format::DecimalExponent
    } else {
        Format::DecimalSI
    }
}

fn canonical(nanos: i128, format: Format) -> String {
    if nanos == 0 {
        return "0".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    if format == Format::BinarySI && abs >= 1024 * NANO as u128 && abs.is_multiple_of(NANO as u128)
    {
        let mut v = abs / NANO as u128;
        let mut e = 0;
        while e < 6 && v.is_multiple_of(1024) {
            v /= 1024;
            e += 1;
        }
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][e];
        return format!("{sign}{v}{suffix}");
    }
    let (mut mantissa, mut exp) = (abs, -9i32);
    while exp < 18 && mantissa % 1000 == 0 {
        mantissa /= 1000;
        exp += 3;
    }
    if format == Format::DecimalExponent {
        return if exp == 0 {
            format!("{sign}{mantissa}")
        } else {
            format!("{sign}{mantissa}e{exp}")
        };
    }
    let suffix = match exp {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => "",
    };
    format!("{sign}{mantissa}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    fn sum(list: &[&str]) -> String {
        let mut a = Amount::ZERO;
        for s in list {
            a.add(q(s));
        }
        a.canonical()
    }

    #[test]
    fn canonical_forms() {
        for (input, want) in [
            ("100m", "100m"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("1e3", "1e3"),
            ("1E3", "1e3"),
            ("15000", "15k"),
            ("1E", "1E"),
            ("100Ki", "100Ki"),
            ("512", "512"),
            ("0.5Ki", "512"),
            ("1.5Ki", "1536"),
            ("-2Gi", "-2Gi"),
            ("-100m", "-100m"),
            ("0", "0"),
            ("0Gi", "0"),
            (" 2 ", "2"),
        ] {
            assert_eq!(q(input).canonical(), want, "{input}");
        }
    }

    #[test]
    fn sums_keep_the_first_format() {
        assert_eq!(sum(&["100m", "200m"]), "300m");
        assert_eq!(sum(&["500m", "1500m"]), "2");
        assert_eq!(sum(&["128Mi", "256Mi"]), "384Mi");
        assert_eq!(sum(&["512Mi", "512Mi"]), "1Gi");
        assert_eq!(sum(&["0", "128Mi"]), "128Mi");
        assert_eq!(sum(&["1Ki", "10"]), "1034");
        assert_eq!(sum(&[]), "0");
    }

    #[test]
    fn values_round_away_from_zero() {
        assert_eq!(q("1500m").milli_value(), 1500);
        assert_eq!(q("1500m").value(), 2);
        assert_eq!(q("1n").milli_value(), 1);
        assert_eq!(q("-1n").milli_value(), -1);
        assert_eq!(q("2Gi").value(), 2 * 1024 * 1024 * 1024);
        assert_eq!(q("1.5").round_up().canonical(), "2");
    }

    #[test]
    fn bad_input() {
        assert!(Amount::parse("abc").is_none());
        assert!(Amount::parse("").is_none());
        assert!(Amount::from_json(&json!(true)).is_none());
        assert_eq!(Amount::from_json(&json!(2)).unwrap().canonical(), "2");
        let l = list_from_json(Some(&json!({"cpu": "1", "memory": "x", "gpu": null})));
        assert_eq!(l.len(), 1);
        assert!(list_from_json(Some(&json!([1]))).is_empty());
        assert!(list_from_json(None).is_empty());
    }

    #[test]
    fn list_arithmetic() {
        let a = list_from_json(Some(&json!({"cpu": "1", "pods": "2"})));
        let b = list_from_json(Some(&json!({"cpu": "1500m", "memory": "1Gi"})));
        let s = list_to_strings(&add_lists(&a, &b));
        assert_eq!(s["cpu"], "2500m");
        assert_eq!(s["memory"], "1Gi");
        let d = list_to_strings(&subtract_lists(&a, &b));
        assert_eq!(d["cpu"], "-500m");
        assert_eq!(d["memory"], "-1Gi");
        assert_eq!(d["pods"], "2");
        let n = list_to_strings(&subtract_lists_non_negative(&a, &b));
        assert_eq!(n["cpu"], "0");
        assert_eq!(n["memory"], "0");
        assert_eq!(n["pods"], "2");
        assert!(q("1") > q("999m"));
        assert_eq!(q("1").cmp(&q("1000m")), Ordering::Equal);
    }
}

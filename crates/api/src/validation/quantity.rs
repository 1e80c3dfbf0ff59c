//! Resource quantities (`500m`, `1.5Gi`, `1e3`): upstream's grammar and an
//! exact fixed-point value (nano units) for comparisons such as
//! requests ≤ limits.

use std::cmp::Ordering;

use serde_json::Value;

/// Why a quantity string does not parse (upstream's messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The string does not have the shape of a quantity.
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    FormatWrong,
    /// The number part does not parse.
    #[error("unable to parse numeric part of quantity")]
    Numeric,
    /// The suffix is not a known one.
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

/// Values beyond this (about 2^63 units) are capped, as upstream caps them.
const CAP: i128 = (i64::MAX as i128) * 1_000_000_000;
const NANO: i128 = 1_000_000_000;

/// A parsed quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    nanos: i128,
    text: String,
}

impl Quantity {
    /// Parses a quantity string.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let nanos = parse_nanos(s)?;
        Ok(Quantity {
            nanos,
            text: s.to_string(),
        })
    }

    /// Parses a JSON quantity: a string, or a number (YAML `cpu: 1`).
    pub fn from_json(v: &Value) -> Result<Quantity, QuantityError> {
        match v {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => Err(QuantityError::FormatWrong),
        }
    }

    /// The value in billionths of a unit.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The value in thousandths of a unit, rounded up.
    pub fn milli_value(&self) -> i128 {
        let m = self.nanos / 1_000_000;
        if self.nanos % 1_000_000 > 0 { m + 1 } else { m }
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the value is a whole number of units.
    pub fn is_integer(&self) -> bool {
        self.nanos % NANO == 0
    }

    /// The string the quantity was written as.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// (base, exponent) of a suffix: 10^e or 2^e.
fn interpret_suffix(s: &str) -> Option<(u32, i32)> {
    let dec = |e| Some((10, e));
    let bin = |e| Some((2, e));
    match s {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            let e: i32 = s[1..].parse().ok()?;
            // Far beyond the cap either way; keep the arithmetic bounded.
            dec(e.clamp(-40, 40))
        }
        _ => None,
    }
}

fn parse_nanos(s: &str) -> Result<i128, QuantityError> {
    if s.is_empty() {
        return Err(QuantityError::FormatWrong);
    }
    let b = s.as_bytes();
    let mut pos = 0;
    let mut negative = false;
    match b[0] {
        b'-' => {
            negative = true;
            pos = 1;
        }
        b'+' => pos = 1,
        _ => {}
    }
    let int_start = pos;
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let int_part = &s[int_start..pos];
    let mut frac_part = "";
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        let f = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        frac_part = &s[f..pos];
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos != b.len() {
        return Err(QuantityError::FormatWrong);
    }
    if int_part.is_empty() && frac_part.is_empty() {
        // A bare sign is zero upstream; a bare "." or suffix is not a number.
        if suffix_start == int_start && suffix_start == b.len() {
            return Ok(0);
        }
        return Err(QuantityError::Numeric);
    }
    let (base, exp) = interpret_suffix(&s[suffix_start..]).ok_or(QuantityError::Suffix)?;
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let frac_len = i32::try_from(frac_part.len()).unwrap_or(i32::MAX);
    let mut value: i128 = 0;
    for c in digits.bytes() {
        value = value
            .saturating_mul(10)
            .saturating_add(i128::from(c - b'0'));
        if value > CAP {
            value = CAP;
        }
    }
    // value × 10^(9 - frac_len) × base^exp, in nano units.
    let mut scale10 = 9i64 - i64::from(frac_len);
    let mut pow2 = 0i64;
    if base == 10 {
        scale10 += i64::from(exp);
    } else {
        pow2 = i64::from(exp);
    }
    for _ in 0..pow2 {
        value = value.saturating_mul(2).min(CAP);
    }
    if scale10 >= 0 {
        for _ in 0..scale10 {
            value = value.saturating_mul(10).min(CAP);
        }
    } else {
        for _ in 0..(-scale10).min(60) {
            // Precision below a nano unit rounds up, as upstream rounds up.
            let rem = value % 10;
            value = value / 10 + i128::from(rem != 0);
        }
    }
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(s: &str) -> i128 {
        Quantity::parse(s).unwrap().nanos()
    }

    #[test]
    fn parses_upstreams_grammar() {
        assert_eq!(q("1"), NANO);
        assert_eq!(q("500m"), NANO / 2);
        assert_eq!(q("0.5"), NANO / 2);
        assert_eq!(q("1Ki"), 1024 * NANO);
        assert_eq!(q("1.5Gi"), 1_610_612_736 * NANO);
        assert_eq!(q("1e3"), 1000 * NANO);
        assert_eq!(q("1E"), 1_000_000_000_000_000_000 * NANO);
        assert_eq!(q("-2"), -2 * NANO);
        assert_eq!(q("+2k"), 2000 * NANO);
        assert_eq!(q("0"), 0);
        assert_eq!(q("1n"), 1);
        assert_eq!(q("0.1n"), 1);
        assert_eq!(Quantity::parse("1K"), Err(QuantityError::Suffix));
        assert_eq!(Quantity::parse("abc"), Err(QuantityError::FormatWrong));
        assert_eq!(Quantity::parse(""), Err(QuantityError::FormatWrong));
        assert_eq!(Quantity::parse("1 Gi"), Err(QuantityError::FormatWrong));
        assert_eq!(Quantity::parse("1e"), Err(QuantityError::Suffix));
        assert!(Quantity::parse("99999999999999999999999999999Ei").is_ok());
        assert_eq!(Quantity::from_json(&json!(2)).unwrap().nanos(), 2 * NANO);
        assert_eq!(Quantity::from_json(&json!(0.25)).unwrap().nanos(), NANO / 4);
        assert!(Quantity::from_json(&json!(true)).is_err());
    }

    #[test]
    fn compares_and_classifies() {
        let a = Quantity::parse("1").unwrap();
        let b = Quantity::parse("1000m").unwrap();
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert!(Quantity::parse("1Gi").unwrap() > Quantity::parse("1G").unwrap());
        assert!(Quantity::parse("1").unwrap().is_integer());
        assert!(!Quantity::parse("1500m").unwrap().is_integer());
        assert!(Quantity::parse("-1m").unwrap().is_negative());
        assert_eq!(Quantity::parse("1500m").unwrap().milli_value(), 1500);
    }
}

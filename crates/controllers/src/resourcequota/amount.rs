//! Quantities as quota sums them: exact values with the format of the
//! first non-zero addend (as upstream's `Quantity.Add` keeps it), written
//! back in upstream's canonical form (`1500m`, `2`, `384Mi`, `1k`).

use ironclad_api::validation::Quantity;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

const NANO: i128 = 1_000_000_000;

/// How a quantity is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `k`, `M`, `m`, ... suffixes.
    DecimalSI,
    /// `Ki`, `Mi`, ... suffixes.
    BinarySI,
    /// `e3`-style exponents.
    DecimalExponent,
}

/// A quantity being summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// A whole count.
    pub fn count(n: i64) -> Amount {
        Amount {
            nanos: i128::from(n) * NANO,
            format: Format::DecimalSI,
        }
    }

    /// A quantity as written in an object; `None` when it does not parse.
    pub fn parse(q: &K8sQuantity) -> Option<Amount> {
        let parsed = Quantity::parse(q.0.trim()).ok()?;
        Some(Amount {
            nanos: parsed.nanos(),
            format: format_of(q.0.trim()),
        })
    }

    /// The value in billionths.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// Adds `other`, taking its format if this is still zero.
    pub fn add(&mut self, other: Amount) {
        if self.nanos == 0 {
            self.format = other.format;
        }
        self.nanos += other.nanos;
    }

    /// The larger of the two (upstream's `maxResourceList` keeps the
    /// larger quantity as it is).
    pub fn max(self, other: Amount) -> Amount {
        if other.nanos > self.nanos {
            other
        } else {
            self
        }
    }

    /// Upstream's canonical string.
    pub fn to_quantity(self) -> K8sQuantity {
        K8sQuantity(canonical(self.nanos, self.format))
    }
}

fn format_of(s: &str) -> Format {
    let suffix = s
        .trim_start_matches(['+', '-'])
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    if suffix.ends_with('i') {
        Format::BinarySI
    } else if suffix.starts_with(['e', 'E']) {
        Format::DecimalExponent
    } else {
        Format::DecimalSI
    }
}

fn canonical(nanos: i128, format: Format) -> String {
    if nanos == 0 {
        return "0".into();
    }
    if format == Format::BinarySI && nanos.abs() >= 1024 * NANO && nanos % NANO == 0 {
        let mut v = nanos / NANO;
        let mut e = 0;
        while e < 6 && v % 1024 == 0 {
            v /= 1024;
            e += 1;
        }
        return format!("{v}{}", ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][e]);
    }
    let (mut mantissa, mut exp) = (nanos, -9i32);
    while exp < 18 && mantissa % 1000 == 0 {
        mantissa /= 1000;
        exp += 3;
    }
    if format == Format::DecimalExponent {
        return if exp == 0 {
            mantissa.to_string()
        } else {
            format!("{mantissa}e{exp}")
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
    format!("{mantissa}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Amount {
        Amount::parse(&K8sQuantity(s.into())).unwrap()
    }

    fn sum(list: &[&str]) -> String {
        let mut a = Amount::ZERO;
        for s in list {
            a.add(q(s));
        }
        a.to_quantity().0
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(sum(&["100m", "200m"]), "300m");
        assert_eq!(sum(&["500m", "1500m"]), "2");
        assert_eq!(sum(&["1", "500m"]), "1500m");
        assert_eq!(sum(&["128Mi", "256Mi"]), "384Mi");
        assert_eq!(sum(&["512Mi", "512Mi"]), "1Gi");
        assert_eq!(sum(&["100M", "100M"]), "200M");
        assert_eq!(sum(&["1000"]), "1k");
        assert_eq!(sum(&["500"]), "500");
        assert_eq!(sum(&["1e3"]), "1e3");
        assert_eq!(sum(&[]), "0");
        // Binary below 1 Ki stays decimal.
        assert_eq!(sum(&["100Mi", "-100Mi", "10"]), "10");
    }
}

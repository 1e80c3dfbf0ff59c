//! IP address and CIDR checks with upstream's (legacy, non-strict) rules:
//! IPv4 octets may carry leading zeros, as Go's sloppy parser allows.

use std::net::{IpAddr, Ipv4Addr};

use super::error::{FieldError, Path};

/// Parses an IP the way upstream's legacy fields accept one.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    // Go's ParseIPSloppy accepts "010.1.1.1"; Rust's parser does not.
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// `IPv4` or `IPv6`, as Services and EndpointSlices name families.
pub fn family_of(ip: &IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// Whether `s` is an IP address.
pub fn is_valid_ip(s: &str) -> bool {
    parse_ip(s).is_some()
}

/// Whether `s` is a CIDR (`10.0.0.0/8`, `fd00::/64`).
pub fn is_valid_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Some(ip) = parse_ip(ip) else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.len() <= 3
        && bits.bytes().all(|c| c.is_ascii_digit())
        && bits.parse::<u32>().is_ok_and(|b| b <= max)
}

/// An IP field (`must be a valid IP address, ...`).
pub fn validate_ip(path: &Path, s: &str) -> Vec<FieldError> {
    if is_valid_ip(s) {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            path,
            s,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        )]
    }
}

/// A CIDR field.
pub fn validate_cidr(path: &Path, s: &str) -> Vec<FieldError> {
    if is_valid_cidr(s) {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            path,
            s,
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        )]
    }
}

/// External IPs may not be unspecified, loopback or link-local.
pub fn validate_non_special_ip(path: &Path, s: &str) -> Vec<FieldError> {
    special_ip_errors(path, s, false)
}

/// Endpoint addresses follow the same rule but for loopback, which upstream
/// also refuses; ironclad allows it so that a single-node control plane
/// advertising 127.0.0.1 can publish its own `kubernetes` endpoints.
pub fn validate_endpoint_ip(path: &Path, s: &str) -> Vec<FieldError> {
    special_ip_errors(path, s, true)
}

fn special_ip_errors(path: &Path, s: &str, allow_loopback: bool) -> Vec<FieldError> {
    let Some(ip) = parse_ip(s) else {
        return vec![FieldError::invalid(path, s, "must be a valid IP address")];
    };
    let mut errs = Vec::new();
    if ip.is_unspecified() {
        errs.push(FieldError::invalid(
            path,
            s,
            format!("may not be unspecified ({s})"),
        ));
    }
    if ip.is_loopback() && !allow_loopback {
        errs.push(FieldError::invalid(
            path,
            s,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let (link_local, link_local_multicast) = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (v4.is_link_local(), o[0] == 224 && o[1] == 0 && o[2] == 0)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            ((seg[0] & 0xffc0) == 0xfe80, (seg[0] & 0xff0f) == 0xff02)
        }
    };
    if link_local {
        errs.push(FieldError::invalid(
            path,
            s,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if link_local_multicast {
        errs.push(FieldError::invalid(
            path,
            s,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_and_cidrs() {
        assert!(is_valid_ip("10.0.0.1"));
        assert!(is_valid_ip("010.000.000.001"));
        assert!(is_valid_ip("2001:db8::1"));
        assert!(!is_valid_ip("10.0.0"));
        assert!(!is_valid_ip("300.0.0.1"));
        assert!(!is_valid_ip("None"));
        assert!(is_valid_cidr("10.0.0.0/8"));
        assert!(is_valid_cidr("fd00::/64"));
        assert!(!is_valid_cidr("10.0.0.0/33"));
        assert!(!is_valid_cidr("10.0.0.0"));
        let p = Path::new("ip");
        assert!(validate_non_special_ip(&p, "10.1.2.3").is_empty());
        assert_eq!(validate_non_special_ip(&p, "127.0.0.1").len(), 1);
        assert_eq!(validate_non_special_ip(&p, "169.254.1.1").len(), 1);
        assert_eq!(validate_non_special_ip(&p, "0.0.0.0").len(), 1);
        assert_eq!(validate_non_special_ip(&p, "fe80::1").len(), 1);
        assert!(validate_endpoint_ip(&p, "127.0.0.1").is_empty());
        assert_eq!(validate_endpoint_ip(&p, "0.0.0.0").len(), 1);
    }
}

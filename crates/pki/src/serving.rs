//! The names the API server's serving certificate must cover.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Common name of the API server's serving certificate (as upstream's).
pub const SERVING_COMMON_NAME: &str = "kube-apiserver";

/// The in-cluster DNS names of the API server (the `kubernetes` Service in
/// the `default` namespace).
pub const KUBERNETES_DNS_NAMES: [&str; 4] = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];

/// What the serving certificate must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingSpec {
    /// Subject common name.
    pub common_name: String,
    /// IP subjectAltNames.
    pub ips: Vec<IpAddr>,
    /// DNS subjectAltNames.
    pub dns_names: Vec<String>,
}

/// The serving certificate spec with the names upstream's API server
/// certificate has: every address given (unspecified ones like `0.0.0.0`
/// skipped), the cluster's `kubernetes` Service IP (`service_ip`, the first
/// address of the service range, 10.96.0.1 by default), 127.0.0.1 and ::1;
/// `localhost`, `kubernetes`, `kubernetes.default`,
/// `kubernetes.default.svc`, `kubernetes.default.svc.cluster.local`, this
/// machine's host name, and `extra_dns` (an entry that is an IP address
/// goes to the IPs). Duplicates are dropped, order kept.
pub fn serving_spec(addresses: &[IpAddr], service_ip: IpAddr, extra_dns: &[String]) -> ServingSpec {
    let hostname = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok());
    serving_spec_for_host(addresses, service_ip, extra_dns, hostname.as_deref())
}

/// [`serving_spec`] with the host name given.
pub(crate) fn serving_spec_for_host(
    addresses: &[IpAddr],
    service_ip: IpAddr,
    extra_dns: &[String],
    hostname: Option<&str>,
) -> ServingSpec {
    let mut ips = Vec::new();
    let mut add_ip = |ip: IpAddr| {
        if !ip.is_unspecified() && !ips.contains(&ip) {
            ips.push(ip);
        }
    };
    addresses.iter().copied().for_each(&mut add_ip);
    add_ip(service_ip);
    add_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    add_ip(IpAddr::V6(Ipv6Addr::LOCALHOST));

    let mut dns_names: Vec<String> = Vec::new();
    let mut add_dns = |name: &str| {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if !name.is_empty() && name.is_ascii() && !dns_names.contains(&name) {
            dns_names.push(name);
        }
    };
    add_dns("localhost");
    KUBERNETES_DNS_NAMES.iter().for_each(|n| add_dns(n));
    if let Some(host) = hostname {
        add_dns(host);
    }
    for extra in extra_dns {
        match extra.trim().parse::<IpAddr>() {
            Ok(ip) => add_ip(ip),
            Err(_) => add_dns(extra),
        }
    }
    ServingSpec {
        common_name: SERVING_COMMON_NAME.to_string(),
        ips,
        dns_names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn has_upstream_names_in_order_without_duplicates() {
        let spec = serving_spec_for_host(
            &[ip("192.168.1.10"), ip("0.0.0.0"), ip("127.0.0.1")],
            ip("10.96.0.1"),
            &[
                "api.example.com".into(),
                "API.example.com.".into(),
                "203.0.113.7".into(),
                "".into(),
                "bücher".into(),
            ],
            Some("Node-1"),
        );
        assert_eq!(spec.common_name, "kube-apiserver");
        assert_eq!(
            spec.ips,
            [
                ip("192.168.1.10"),
                ip("127.0.0.1"),
                ip("10.96.0.1"),
                ip("::1"),
                ip("203.0.113.7")
            ]
        );
        assert_eq!(
            spec.dns_names,
            [
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "node-1",
                "api.example.com"
            ]
        );
    }

    #[test]
    fn real_host_name_is_included() {
        let spec = serving_spec(&[], ip("10.96.0.1"), &[]);
        assert!(spec.ips.contains(&ip("10.96.0.1")));
        assert!(spec.dns_names.len() >= 5);
        if let Ok(Ok(host)) = nix::unistd::gethostname().map(|h| h.into_string()) {
            assert!(spec.dns_names.contains(&host.to_ascii_lowercase()));
        }
    }
}

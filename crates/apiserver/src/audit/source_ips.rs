//! The addresses a request came from, as upstream's `utilnet.SourceIPs`
//! lists them: every valid `X-Forwarded-For` address, then `X-Real-Ip`
//! unless already listed, then the peer unless it is the last one.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

fn parse(text: &str) -> Option<IpAddr> {
    text.trim()
        .parse::<IpAddr>()
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The source addresses of a request with these headers from `peer`.
pub fn source_ips(headers: &HeaderMap, peer: Option<SocketAddr>) -> Vec<String> {
    let mut ips: Vec<IpAddr> = Vec::new();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(forwarded) = header("x-forwarded-for") {
        ips.extend(forwarded.split(',').filter_map(parse));
    }
    if let Some(ip) = header("x-real-ip").and_then(parse)
        && !ips.contains(&ip)
    {
        ips.push(ip);
    }
    if let Some(peer) = peer {
        let ip = peer.ip().to_canonical();
        if ips.last() != Some(&ip) {
            ips.push(ip);
        }
    }
    ips.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_real_ip_and_peer() {
        let peer: SocketAddr = "10.0.0.9:5555".parse().unwrap();
        assert_eq!(source_ips(&HeaderMap::new(), Some(peer)), ["10.0.0.9"]);
        assert_eq!(
            source_ips(
                &headers(&[
                    ("x-forwarded-for", "1.2.3.4, bogus, 5.6.7.8"),
                    ("x-real-ip", "1.2.3.4")
                ]),
                Some(peer)
            ),
            ["1.2.3.4", "5.6.7.8", "10.0.0.9"]
        );
        assert_eq!(
            source_ips(&headers(&[("x-real-ip", "10.0.0.9")]), Some(peer)),
            ["10.0.0.9"]
        );
        let mapped: SocketAddr = "[::ffff:192.168.1.1]:80".parse().unwrap();
        assert_eq!(source_ips(&HeaderMap::new(), Some(mapped)), ["192.168.1.1"]);
        assert!(source_ips(&HeaderMap::new(), None).is_empty());
    }
}

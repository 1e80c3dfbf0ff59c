//! Upstream's `cidrset`: the subnets of one cluster CIDR, handed out
//! round-robin from where the last allocation left off.

use std::net::IpAddr;
use std::str::FromStr;

/// Most bits between the cluster prefix and the node prefix (upstream's
/// `clusterSubnetMaxDiff`: at most 65536 subnets).
const MAX_DIFF: u8 = 16;

/// Why a CIDR cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// Not an IP network.
    #[error("invalid CIDR {0:?}")]
    Invalid(String),
    /// The node prefix does not fit the cluster prefix.
    #[error("node mask /{node} does not fit cluster CIDR {cluster} (at most {MAX_DIFF} bits more)")]
    Mask {
        /// The cluster CIDR.
        cluster: String,
        /// The node prefix length.
        node: u8,
    },
    /// Every subnet is taken.
    #[error(
        "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
    )]
    Full,
    /// The CIDR is not inside the cluster CIDR.
    #[error("CIDR {0} is outside the cluster CIDR")]
    Outside(String),
}

/// An IP network: address (as a number), prefix length, family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: u128,
    prefix: u8,
    v6: bool,
}

impl Cidr {
    fn bits(&self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    /// Whether this is an IPv6 network.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let bad = || CidrError::Invalid(s.to_string());
        let (ip, prefix) = s.trim().split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let (addr, v6) = match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)), false),
            IpAddr::V6(a) => (u128::from(a), true),
        };
        let c = Cidr { addr, prefix, v6 };
        if prefix > c.bits() {
            return Err(bad());
        }
        // Keep the network address only.
        Ok(Cidr {
            addr: addr & mask(c.bits(), prefix),
            ..c
        })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.v6 {
            write!(f, "{}/{}", std::net::Ipv6Addr::from(self.addr), self.prefix)
        } else {
            let a = u32::try_from(self.addr).unwrap_or(0);
            write!(f, "{}/{}", std::net::Ipv4Addr::from(a), self.prefix)
        }
    }
}

fn mask(bits: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    all & !((1u128 << (bits - prefix)) - 1) & all
}

/// The subnets of one cluster CIDR.
#[derive(Debug, Clone)]
pub struct CidrSet {
    cluster: Cidr,
    node_prefix: u8,
    used: Vec<bool>,
    next: usize,
}

impl CidrSet {
    /// The subnets of length `node_prefix` of `cluster`.
    pub fn new(cluster: Cidr, node_prefix: u8) -> Result<CidrSet, CidrError> {
        if node_prefix < cluster.prefix
            || node_prefix > cluster.bits()
            || node_prefix - cluster.prefix > MAX_DIFF
        {
            return Err(CidrError::Mask {
                cluster: cluster.to_string(),
                node: node_prefix,
            });
        }
        let count = 1usize << (node_prefix - cluster.prefix);
        Ok(CidrSet {
            cluster,
            node_prefix,
            used: vec![false; count],
            next: 0,
        })
    }

    /// The cluster CIDR.
    pub fn cluster(&self) -> Cidr {
        self.cluster
    }

    fn subnet(&self, i: usize) -> Cidr {
        let shift = self.cluster.bits() - self.node_prefix;
        Cidr {
            addr: self.cluster.addr + ((i as u128) << shift),
            prefix: self.node_prefix,
            v6: self.cluster.v6,
        }
    }

    /// The next free subnet, round-robin.
    pub fn allocate_next(&mut self) -> Result<Cidr, CidrError> {
        let n = self.used.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if !self.used[i] {
                self.used[i] = true;
                self.next = (i + 1) % n;
                return Ok(self.subnet(i));
            }
        }
        Err(CidrError::Full)
    }

    /// The subnet indices `cidr` covers.
    fn range(&self, cidr: Cidr) -> Result<std::ops::Range<usize>, CidrError> {
        let outside = || CidrError::Outside(cidr.to_string());
        let bits = self.cluster.bits();
        if cidr.v6 != self.cluster.v6
            || cidr.prefix < self.cluster.prefix
            || cidr.addr & mask(bits, self.cluster.prefix) != self.cluster.addr
        {
            return Err(outside());
        }
        let shift = bits - self.node_prefix;
        let first = ((cidr.addr - self.cluster.addr) >> shift) as usize;
        let count = if cidr.prefix >= self.node_prefix {
            1
        } else {
            1usize << (self.node_prefix - cidr.prefix)
        };
        Ok(first..(first + count).min(self.used.len()))
    }

    /// Marks `cidr` (whatever its size) as taken.
    pub fn occupy(&mut self, cidr: Cidr) -> Result<(), CidrError> {
        for i in self.range(cidr)? {
            self.used[i] = true;
        }
        Ok(())
    }

    /// Gives `cidr` back.
    pub fn release(&mut self, cidr: Cidr) -> Result<(), CidrError> {
        for i in self.range(cidr)? {
            self.used[i] = false;
        }
        Ok(())
    }

    /// Whether `cidr` is inside this set's cluster CIDR.
    pub fn contains(&self, cidr: Cidr) -> bool {
        self.range(cidr).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn allocates_round_robin_and_reuses_released() {
        let mut set = CidrSet::new(c("10.244.0.0/22"), 24).unwrap();
        assert_eq!(set.allocate_next().unwrap().to_string(), "10.244.0.0/24");
        set.occupy(c("10.244.1.0/24")).unwrap();
        assert_eq!(set.allocate_next().unwrap().to_string(), "10.244.2.0/24");
        assert_eq!(set.allocate_next().unwrap().to_string(), "10.244.3.0/24");
        assert_eq!(set.allocate_next(), Err(CidrError::Full));
        set.release(c("10.244.1.0/24")).unwrap();
        assert_eq!(set.allocate_next().unwrap().to_string(), "10.244.1.0/24");
        assert!(set.occupy(c("10.245.0.0/24")).is_err());
    }

    #[test]
    fn ipv6_and_masks() {
        let mut set = CidrSet::new(c("fd00:10:244::/56"), 64).unwrap();
        assert_eq!(set.allocate_next().unwrap().to_string(), "fd00:10:244::/64");
        assert_eq!(
            set.allocate_next().unwrap().to_string(),
            "fd00:10:244:1::/64"
        );
        assert!(CidrSet::new(c("10.0.0.0/8"), 25).is_err());
        assert!(CidrSet::new(c("10.0.0.0/16"), 8).is_err());
        assert_eq!(c("10.244.3.7/16").to_string(), "10.244.0.0/16");
    }
}

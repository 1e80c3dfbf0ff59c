//! The service registry's allocators: ClusterIPs from the service CIDR and
//! NodePorts from their range. Each allocated IP or port is a key of its
//! own, created in the same store transaction as the Service with a
//! "must not exist" guard — so two Services can never get the same one,
//! even when created at the same instant on different API servers, and a
//! delete releases them atomically with the Service.

use std::net::Ipv4Addr;
use std::sync::Arc;

use ironclad_store::{Compare, KeyRange, Op, RangeRequest, Store};
use rand::Rng;
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::objects::meta_str;

const IP_PREFIX: &str = "/registry/ironclad/serviceips/";
const PORT_PREFIX: &str = "/registry/ironclad/nodeports/";

/// Store operations to run with a Service write.
#[derive(Debug, Default)]
pub struct Extra {
    /// Guards.
    pub compares: Vec<Compare>,
    /// Puts and deletes.
    pub ops: Vec<Op>,
}

/// Hands out ClusterIPs and NodePorts.
pub struct ServiceAllocator {
    cidr: String,
    base: u32,
    size: u32,
    ports: (u16, u16),
    store: Arc<dyn Store>,
}

/// The first address and the size of an IPv4 CIDR with a prefix of 8 to 30
/// bits, and a sane NodePort range; else a clear error.
fn parse_range(cidr: &str, ports: (u16, u16)) -> Result<(u32, u32)> {
    let bad = || {
        ApiError::bad_request(format!(
            "invalid service CIDR {cidr:?} or NodePort range {}-{}: want an IPv4 network like 10.96.0.0/12 and first <= last",
            ports.0, ports.1
        ))
    };
    let (addr, len) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    if !(8..=30).contains(&len) || ports.0 > ports.1 {
        return Err(bad());
    }
    let size = 1u32 << (32 - len);
    Ok((u32::from(addr) & !(size - 1), size))
}

/// The first address of a service CIDR: the `kubernetes` Service's IP
/// (10.96.0.1 for 10.96.0.0/12), which the serving certificate must name.
pub fn first_ip(cidr: &str) -> Result<std::net::IpAddr> {
    let (base, _) = parse_range(cidr, (1, 1))?;
    Ok(std::net::IpAddr::V4(Ipv4Addr::from(base + 1)))
}

/// Whether `ip` is a usable address of the range (not its network or
/// broadcast address).
fn within(base: u32, size: u32, ip: Ipv4Addr) -> bool {
    let v = u32::from(ip);
    v > base && v < base + size - 1
}

impl ServiceAllocator {
    /// An allocator for `cidr` (IPv4) and the NodePort range, checking the
    /// allocation keys in `store`.
    pub fn new(store: Arc<dyn Store>, cidr: &str, ports: (u16, u16)) -> Result<Self> {
        let (base, size) = parse_range(cidr, ports)?;
        Ok(ServiceAllocator {
            cidr: cidr.to_string(),
            base,
            size,
            ports,
            store,
        })
    }

    /// The first address of the range: the `kubernetes` Service's IP.
    pub fn kubernetes_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base + 1)
    }

    /// The service CIDR.
    pub fn cidr(&self) -> &str {
        &self.cidr
    }

    fn in_range(&self, ip: Ipv4Addr) -> bool {
        within(self.base, self.size, ip)
    }

    async fn taken(&self, key: &str) -> Result<bool> {
        let r = self
            .store
            .range(RangeRequest::new(KeyRange::key(key.as_bytes().to_vec())).count_only())
            .await?;
        Ok(r.count > 0)
    }

    fn invalid(svc: &Value, field: &str, msg: String) -> ApiError {
        ApiError::invalid(
            "Service",
            "",
            meta_str(svc, "name").unwrap_or(""),
            vec![("FieldValueInvalid".into(), field.into(), msg)],
        )
    }

    /// Allocates what a new Service needs: its ClusterIP (unless headless
    /// or ExternalName) and NodePorts (NodePort and LoadBalancer types).
    pub async fn allocate(&self, svc: &mut Value) -> Result<Extra> {
        let mut extra = Extra::default();
        let owner = json!(format!(
            "{}/{}",
            meta_str(svc, "namespace").unwrap_or(""),
            meta_str(svc, "name").unwrap_or("")
        ))
        .to_string();
        let ty = svc
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        if ty != "ExternalName" {
            let requested = svc
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let ip = match requested.as_str() {
                "None" => None,
                "" => Some(self.random_ip().await?),
                r => {
                    let ip: Ipv4Addr = r.parse().map_err(|_| {
                        Self::invalid(
                            svc,
                            "spec.clusterIPs[0]",
                            format!("Invalid value: {r:?}: must be a valid IP address"),
                        )
                    })?;
                    if !self.in_range(ip) {
                        return Err(Self::invalid(
                            svc,
                            "spec.clusterIPs[0]",
                            format!(
                                "Invalid value: {r:?}: failed to allocate IP {r}: the provided IP ({r}) is not in the valid range. The range of valid IPs is {}",
                                self.cidr
                            ),
                        ));
                    }
                    if self.taken(&format!("{IP_PREFIX}{ip}")).await? {
                        return Err(Self::invalid(
                            svc,
                            "spec.clusterIPs[0]",
                            format!(
                                "Invalid value: {r:?}: failed to allocate IP {r}: provided IP is already allocated"
                            ),
                        ));
                    }
                    Some(ip)
                }
            };
            match ip {
                Some(ip) => {
                    let key = format!("{IP_PREFIX}{ip}");
                    extra
                        .compares
                        .push(Compare::absent(key.clone().into_bytes()));
                    extra
                        .ops
                        .push(Op::put(key.into_bytes(), owner.clone().into_bytes()));
                    svc["spec"]["clusterIP"] = json!(ip.to_string());
                    svc["spec"]["clusterIPs"] = json!([ip.to_string()]);
                }
                None => {
                    svc["spec"]["clusterIP"] = json!("None");
                    svc["spec"]["clusterIPs"] = json!(["None"]);
                }
            }
        }
        self.node_ports(svc, &[], &owner, &mut extra).await?;
        Ok(extra)
    }

    async fn random_ip(&self) -> Result<Ipv4Addr> {
        // Upstream keeps the low part of the range for addresses people
        // request (the DNS service's .10); random picks prefer the rest.
        let reserved = (self.size / 16).clamp(16, 256).min(self.size - 2);
        for attempt in 0..64 {
            let lo = if attempt < 48 { reserved } else { 1 };
            let off = rand::rng().random_range(lo..self.size - 1);
            let ip = Ipv4Addr::from(self.base + off);
            if !self.taken(&format!("{IP_PREFIX}{ip}")).await? {
                return Ok(ip);
            }
        }
        Err(ApiError::internal(format!(
            "no free ClusterIP found in {}",
            self.cidr
        )))
    }

    /// NodePorts for every port of a NodePort/LoadBalancer Service that has
    /// none (ports in `kept` are already owned by this Service).
    async fn node_ports(
        &self,
        svc: &mut Value,
        kept: &[i64],
        owner: &str,
        extra: &mut Extra,
    ) -> Result<()> {
        let ty = svc
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");
        let wants = matches!(ty, "NodePort" | "LoadBalancer");
        let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        let mut chosen: Vec<i64> = Vec::new();
        let mut errors = Vec::new();
        for (i, p) in ports.iter_mut().enumerate() {
            if !wants {
                if let Some(o) = p.as_object_mut() {
                    o.remove("nodePort");
                }
                continue;
            }
            let requested = p.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
            let port = if requested != 0 {
                if requested < i64::from(self.ports.0) || requested > i64::from(self.ports.1) {
                    errors.push((i, format!("Invalid value: {requested}: provided port is not in the valid range. The range of valid ports is {}-{}", self.ports.0, self.ports.1)));
                    continue;
                }
                if !kept.contains(&requested)
                    && (chosen.contains(&requested)
                        || self.taken(&format!("{PORT_PREFIX}{requested}")).await?)
                {
                    errors.push((
                        i,
                        format!("Invalid value: {requested}: provided port is already allocated"),
                    ));
                    continue;
                }
                requested
            } else {
                let mut found = None;
                for _ in 0..128 {
                    let c = i64::from(rand::rng().random_range(self.ports.0..=self.ports.1));
                    if !chosen.contains(&c)
                        && !kept.contains(&c)
                        && !self.taken(&format!("{PORT_PREFIX}{c}")).await?
                    {
                        found = Some(c);
                        break;
                    }
                }
                found.ok_or_else(|| ApiError::internal("no free NodePort"))?
            };
            p["nodePort"] = json!(port);
            chosen.push(port);
            if !kept.contains(&port) {
                let key = format!("{PORT_PREFIX}{port}");
                extra
                    .compares
                    .push(Compare::absent(key.clone().into_bytes()));
                extra
                    .ops
                    .push(Op::put(key.into_bytes(), owner.as_bytes().to_vec()));
            }
        }
        if let Some((i, msg)) = errors.into_iter().next() {
            return Err(Self::invalid(
                svc,
                &format!("spec.ports[{i}].nodePort"),
                msg,
            ));
        }
        Ok(())
    }

    /// Releases everything a Service held.
    pub fn release(&self, old: &Value) -> Extra {
        let mut extra = Extra::default();
        for ip in cluster_ips(old) {
            extra
                .ops
                .push(Op::delete(format!("{IP_PREFIX}{ip}").into_bytes()));
        }
        for port in node_ports_of(old) {
            extra
                .ops
                .push(Op::delete(format!("{PORT_PREFIX}{port}").into_bytes()));
        }
        extra
    }

    /// For an update: new NodePorts the new version needs, release of
    /// those it no longer uses.
    pub async fn reallocate(&self, new: &mut Value, old: &Value) -> Result<Extra> {
        let mut extra = Extra::default();
        let owner = json!(format!(
            "{}/{}",
            meta_str(old, "namespace").unwrap_or(""),
            meta_str(old, "name").unwrap_or("")
        ))
        .to_string();
        let kept = node_ports_of(old);
        self.node_ports(new, &kept, &owner, &mut extra).await?;
        let now = node_ports_of(new);
        for p in kept.iter().filter(|p| !now.contains(p)) {
            extra
                .ops
                .push(Op::delete(format!("{PORT_PREFIX}{p}").into_bytes()));
        }
        Ok(extra)
    }
}

fn cluster_ips(svc: &Value) -> Vec<String> {
    let mut ips: Vec<String> = svc
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(ip) = svc.pointer("/spec/clusterIP").and_then(Value::as_str)
        && !ips.iter().any(|i| i == ip)
    {
        ips.push(ip.to_string());
    }
    ips.retain(|i| i != "None" && !i.is_empty());
    ips
}

fn node_ports_of(svc: &Value) -> Vec<i64> {
    svc.pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
                .filter(|p| *p != 0)
                .collect()
        })
        .unwrap_or_default()
}

/// An update that omits the ClusterIP or a NodePort keeps the allocated one
/// (as upstream does when a client-side apply does not mention them).
pub fn keep_allocations(new: &mut Value, old: &Value) {
    for field in ["clusterIP", "clusterIPs"] {
        let missing = new
            .pointer(&format!("/spec/{field}"))
            .is_none_or(|v| v.is_null() || v == "");
        if missing && let Some(v) = old.pointer(&format!("/spec/{field}")) {
            new["spec"][field] = v.clone();
        }
    }
    let old_ports: Vec<(Value, Value, i64)> = old
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    Some((
                        p.get("port")?.clone(),
                        p.get("protocol").cloned().unwrap_or(json!("TCP")),
                        p.get("nodePort")?.as_i64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports {
            if p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                continue;
            }
            let proto = p.get("protocol").cloned().unwrap_or(json!("TCP"));
            if let Some((_, _, np)) = old_ports
                .iter()
                .find(|(port, pr, _)| Some(port) == p.get("port") && *pr == proto)
            {
                p["nodePort"] = json!(np);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_bound() {
        let (base, size) = parse_range("10.96.0.0/12", (30000, 32767)).unwrap();
        assert_eq!(Ipv4Addr::from(base + 1), Ipv4Addr::new(10, 96, 0, 1));
        assert!(within(base, size, Ipv4Addr::new(10, 96, 0, 10)));
        assert!(within(base, size, Ipv4Addr::new(10, 111, 255, 254)));
        assert!(!within(base, size, Ipv4Addr::new(10, 112, 0, 1)));
        assert!(!within(base, size, Ipv4Addr::new(10, 96, 0, 0)));
        assert!(parse_range("nope", (1, 2)).is_err());
        assert!(parse_range("10.0.0.0/31", (1, 2)).is_err());
        assert!(parse_range("10.0.0.0/24", (2, 1)).is_err());
    }

    #[test]
    fn updates_keep_what_was_allocated() {
        let old = json!({"spec": {"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"], "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30001}]}});
        let mut new = json!({"spec": {"ports": [{"port": 80, "protocol": "TCP"}]}});
        keep_allocations(&mut new, &old);
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.5");
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30001);
    }
}

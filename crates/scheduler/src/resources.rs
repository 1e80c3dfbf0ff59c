//! Resource amounts as the scheduler counts them: a pod's requests (its
//! containers summed, at least its largest init step, plus overhead) and a
//! node's allocatable, in upstream's units (millicores for cpu, bytes for
//! the rest, whole pods for `pods`).

use std::collections::BTreeMap;

use ironclad_api::validation::quantity::Quantity as Parsed;
use k8s_openapi::api::core::v1::{Container, Node, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// `cpu`.
pub const CPU: &str = "cpu";
/// `memory`.
pub const MEMORY: &str = "memory";
/// `ephemeral-storage`.
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// `pods`.
pub const PODS: &str = "pods";

/// What the scoring plugins assume a container without a cpu request uses
/// (upstream's `DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// What the scoring plugins assume a container without a memory request
/// uses (upstream's `DefaultMemoryRequest`, 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of each resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// cpu in thousandths of a core.
    pub milli_cpu: i64,
    /// memory in bytes.
    pub memory: i64,
    /// ephemeral-storage in bytes.
    pub ephemeral_storage: i64,
    /// How many pods (only meaningful for a node's allocatable).
    pub allowed_pod_number: i64,
    /// Every other resource (extended resources, hugepages), in units.
    pub scalar: BTreeMap<String, i64>,
}

/// cpu and memory as the scoring plugins see a pod: requests, with
/// upstream's defaults for containers that request nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NonZero {
    /// cpu in millicores.
    pub milli_cpu: i64,
    /// memory in bytes.
    pub memory: i64,
}

// === impl Resources ===

impl Resources {
    /// Reads a resource list (requests, allocatable, overhead).
    pub fn from_list(list: Option<&BTreeMap<String, Quantity>>) -> Resources {
        let mut r = Resources::default();
        for (name, q) in list.into_iter().flatten() {
            r.add_one(name, q);
        }
        r
    }

    /// A node's allocatable (its capacity when it reports no allocatable).
    pub fn allocatable(node: &Node) -> Resources {
        let status = node.status.as_ref();
        let list = status
            .and_then(|s| s.allocatable.as_ref())
            .or_else(|| status.and_then(|s| s.capacity.as_ref()));
        Resources::from_list(list)
    }

    fn add_one(&mut self, name: &str, q: &Quantity) {
        let Ok(parsed) = Parsed::parse(&q.0) else {
            return;
        };
        match name {
            CPU => self.milli_cpu += clamp(parsed.milli_value()),
            MEMORY => self.memory += value(&parsed),
            EPHEMERAL_STORAGE => self.ephemeral_storage += value(&parsed),
            PODS => self.allowed_pod_number += value(&parsed),
            other => *self.scalar.entry(other.to_string()).or_default() += value(&parsed),
        }
    }

    /// Adds `other` to this amount.
    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.allowed_pod_number += other.allowed_pod_number;
        for (k, v) in &other.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    /// Takes `other` away from this amount.
    pub fn sub(&mut self, other: &Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.allowed_pod_number -= other.allowed_pod_number;
        for (k, v) in &other.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
        self.scalar.retain(|_, v| *v != 0);
    }

    /// Raises each resource to at least `other`'s amount.
    pub fn max_with(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.allowed_pod_number = self.allowed_pod_number.max(other.allowed_pod_number);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    /// Whether nothing at all is asked for.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }

    /// The amount of a named resource.
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.milli_cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.allowed_pod_number,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }
}

/// A pod's requests as upstream's `resource.PodRequests` computes them:
/// the containers summed (restartable init containers, i.e. sidecars,
/// count with them), at least the largest single init step (a regular init
/// container plus the sidecars started before it), plus the pod overhead.
pub fn pod_requests(spec: &PodSpec) -> Resources {
    aggregate(spec, |c| Resources::from_list(requests(c)))
        .with_overhead(Resources::from_list(spec.overhead.as_ref()))
}

/// A pod's cpu and memory for scoring: as [`pod_requests`], with
/// [`DEFAULT_MILLI_CPU_REQUEST`] and [`DEFAULT_MEMORY_REQUEST`] for a
/// container that requests no cpu or no memory (upstream's
/// `GetNonzeroRequests`).
pub fn pod_non_zero(spec: &PodSpec) -> NonZero {
    let r = aggregate(spec, |c| {
        let list = requests(c);
        let has = |name: &str| list.is_some_and(|l| l.contains_key(name));
        let mut r = Resources::from_list(list);
        if !has(CPU) {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has(MEMORY) {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
        r
    })
    .with_overhead(Resources::from_list(spec.overhead.as_ref()));
    NonZero {
        milli_cpu: r.milli_cpu,
        memory: r.memory,
    }
}

fn aggregate(spec: &PodSpec, per_container: impl Fn(&Container) -> Resources) -> Resources {
    let mut reqs = Resources::default();
    for c in &spec.containers {
        reqs.add(&per_container(c));
    }
    let mut sidecars = Resources::default();
    let mut init = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let own = per_container(c);
        let step = if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&own);
            sidecars.add(&own);
            sidecars.clone()
        } else {
            let mut step = own;
            step.add(&sidecars);
            step
        };
        init.max_with(&step);
    }
    reqs.max_with(&init);
    reqs
}

impl Resources {
    fn with_overhead(mut self, overhead: Resources) -> Resources {
        self.add(&overhead);
        self
    }
}

fn requests(c: &Container) -> Option<&BTreeMap<String, Quantity>> {
    c.resources.as_ref().and_then(|r| r.requests.as_ref())
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Whole units, rounded up as upstream's `Quantity.Value`.
fn value(q: &Parsed) -> i64 {
    let nanos = q.nanos();
    let units = nanos / 1_000_000_000 + i128::from(nanos % 1_000_000_000 > 0);
    clamp(units)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;

    fn container(name: &str, reqs: &[(&str, &str)], restart: Option<&str>) -> Container {
        Container {
            name: name.into(),
            resources: Some(ResourceRequirements {
                requests: Some(
                    reqs.iter()
                        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                        .collect(),
                ),
                ..Default::default()
            }),
            restart_policy: restart.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn containers_sum_and_init_containers_take_the_max() {
        let spec = PodSpec {
            containers: vec![
                container("a", &[("cpu", "100m"), ("memory", "1Gi")], None),
                container("b", &[("cpu", "200m")], None),
            ],
            init_containers: Some(vec![container("init", &[("cpu", "1")], None)]),
            overhead: Some(BTreeMap::from([("cpu".into(), Quantity("10m".into()))])),
            ..Default::default()
        };
        let r = pod_requests(&spec);
        assert_eq!(r.milli_cpu, 1010);
        assert_eq!(r.memory, 1 << 30);
    }

    #[test]
    fn sidecars_add_to_the_containers_and_to_later_init_steps() {
        let spec = PodSpec {
            containers: vec![container("a", &[("cpu", "100m")], None)],
            init_containers: Some(vec![
                container("sidecar", &[("cpu", "300m")], Some("Always")),
                container("init", &[("cpu", "500m")], None),
            ]),
            ..Default::default()
        };
        // max(100 + 300, 300 + 500)
        assert_eq!(pod_requests(&spec).milli_cpu, 800);
    }

    #[test]
    fn scoring_defaults_apply_per_container_without_requests() {
        let spec = PodSpec {
            containers: vec![
                container("a", &[("cpu", "50m")], None),
                Container {
                    name: "b".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(pod_requests(&spec).milli_cpu, 50);
        assert_eq!(pod_requests(&spec).memory, 0);
        let nz = pod_non_zero(&spec);
        assert_eq!(nz.milli_cpu, 150);
        assert_eq!(nz.memory, 2 * DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn extended_resources_are_scalars() {
        let r = Resources::from_list(Some(&BTreeMap::from([
            ("example.com/gpu".into(), Quantity("2".into())),
            ("pods".into(), Quantity("110".into())),
        ])));
        assert_eq!(r.get("example.com/gpu"), 2);
        assert_eq!(r.allowed_pod_number, 110);
    }
}

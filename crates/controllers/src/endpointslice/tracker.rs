//! Upstream's `EndpointSliceTracker`: the generation of every slice this
//! controller wrote, per Service, and the slices it deleted, so that a
//! cache that has not caught up with our own writes is recognized (and the
//! Service retried later) instead of being acted on twice, and so that
//! only changes made by someone else trigger a new sync.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::discovery::v1::EndpointSlice;

/// A slice we deleted and expect to see go.
const DELETION_EXPECTED: i64 = -1;

/// Expected generations by (namespace, Service name), then slice uid.
#[derive(Default)]
pub struct Tracker {
    by_service: HashMap<(String, String), HashMap<String, i64>>,
}

fn service_key(slice: &EndpointSlice) -> (String, String) {
    (
        slice.metadata.namespace.clone().unwrap_or_default(),
        slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(super::LABEL_SERVICE_NAME))
            .cloned()
            .unwrap_or_default(),
    )
}

fn uid(slice: &EndpointSlice) -> String {
    slice.metadata.uid.clone().unwrap_or_default()
}

fn generation(slice: &EndpointSlice) -> i64 {
    slice.metadata.generation.unwrap_or(0)
}

impl Tracker {
    /// Whether the slice is tracked at all.
    pub fn has(&self, slice: &EndpointSlice) -> bool {
        self.by_service
            .get(&service_key(slice))
            .is_some_and(|g| g.contains_key(&uid(slice)))
    }

    /// Whether a slice event is news: a slice we do not track, or newer
    /// than our last write of it.
    pub fn should_sync(&self, slice: &EndpointSlice) -> bool {
        match self
            .by_service
            .get(&service_key(slice))
            .and_then(|g| g.get(&uid(slice)))
        {
            None => true,
            Some(g) => generation(slice) > *g,
        }
    }

    /// Whether `slices` (the cache's, for one Service) are older than our
    /// writes: a slice older than we wrote it, one we deleted, or one we
    /// wrote that is missing.
    pub fn stale(&self, namespace: &str, service: &str, slices: &[Arc<EndpointSlice>]) -> bool {
        let Some(gens) = self
            .by_service
            .get(&(namespace.to_string(), service.to_string()))
        else {
            return false;
        };
        let mut seen = std::collections::HashSet::new();
        for s in slices {
            let u = uid(s);
            if let Some(g) = gens.get(&u)
                && (*g == DELETION_EXPECTED || *g > generation(s))
            {
                return true;
            }
            seen.insert(u);
        }
        gens.iter()
            .any(|(u, g)| *g != DELETION_EXPECTED && !seen.contains(u))
    }

    /// Records a slice as we wrote it.
    pub fn update(&mut self, slice: &EndpointSlice) {
        self.by_service
            .entry(service_key(slice))
            .or_default()
            .insert(uid(slice), generation(slice));
    }

    /// Records that we deleted a slice.
    pub fn expect_deletion(&mut self, slice: &EndpointSlice) {
        self.by_service
            .entry(service_key(slice))
            .or_default()
            .insert(uid(slice), DELETION_EXPECTED);
    }

    /// A slice was seen deleted; returns whether we expected that.
    pub fn handle_deletion(&mut self, slice: &EndpointSlice) -> bool {
        let key = service_key(slice);
        let Some(gens) = self.by_service.get_mut(&key) else {
            return false;
        };
        let expected = gens.remove(&uid(slice)) == Some(DELETION_EXPECTED);
        if gens.is_empty() {
            self.by_service.remove(&key);
        }
        expected
    }

    /// Forgets a deleted Service.
    pub fn delete_service(&mut self, namespace: &str, service: &str) {
        self.by_service
            .remove(&(namespace.to_string(), service.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn slice(uid: &str, generation: i64) -> EndpointSlice {
        EndpointSlice {
            metadata: ObjectMeta {
                namespace: Some("ns".into()),
                uid: Some(uid.into()),
                generation: Some(generation),
                labels: Some(BTreeMap::from([(
                    super::super::LABEL_SERVICE_NAME.to_string(),
                    "svc".to_string(),
                )])),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            endpoints: vec![],
            ports: None,
        }
    }

    #[test]
    fn stale_until_the_cache_has_our_writes() {
        let mut t = Tracker::default();
        t.update(&slice("a", 2));
        assert!(t.stale("ns", "svc", &[]));
        assert!(t.stale("ns", "svc", &[Arc::new(slice("a", 1))]));
        assert!(!t.stale("ns", "svc", &[Arc::new(slice("a", 2))]));
        assert!(!t.should_sync(&slice("a", 2)));
        assert!(t.should_sync(&slice("a", 3)));
        t.expect_deletion(&slice("a", 2));
        assert!(t.stale("ns", "svc", &[Arc::new(slice("a", 2))]));
        assert!(!t.stale("ns", "svc", &[]));
        assert!(t.handle_deletion(&slice("a", 2)));
        assert!(!t.has(&slice("a", 2)));
    }
}

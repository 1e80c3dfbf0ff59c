//! The resources the API server serves, from discovery: which ones the
//! garbage collector watches and the namespace controller empties, and
//! how an owner reference's apiVersion and kind map to a resource.

use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::discovery::{ApiResource, Discovery, Scope, verbs};

use crate::Result;

/// One served resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Group, version, kind and plural.
    pub api: ApiResource,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
    /// The verbs it answers.
    pub verbs: Vec<String>,
}

impl Resource {
    /// Whether it answers `verb`.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// An API for its objects in `namespace` (all of them for `None`, and
    /// always all for cluster-scoped resources).
    pub fn api(&self, client: &Client, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) if self.namespaced => Api::namespaced_with(client.clone(), ns, &self.api),
            _ => Api::all_with(client.clone(), &self.api),
        }
    }
}

/// What discovery found: the preferred version of every resource.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    all: Vec<Resource>,
}

/// Resources the garbage collector leaves alone, as upstream does: events
/// are many, short-lived and never owners that matter.
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

impl Resources {
    /// Asks the API server (aggregated discovery when served, else one
    /// request per group version).
    pub async fn discover(client: &Client) -> Result<Resources> {
        let discovery = match Discovery::new(client.clone()).run_aggregated().await {
            Ok(d) => d,
            Err(_) => Discovery::new(client.clone()).run().await?,
        };
        let mut all = Vec::new();
        for group in discovery.groups() {
            for (api, caps) in group.recommended_resources() {
                all.push(Resource {
                    api,
                    namespaced: caps.scope == Scope::Namespaced,
                    verbs: caps.operations.clone(),
                });
            }
        }
        all.sort_by(|a, b| (&a.api.group, &a.api.plural).cmp(&(&b.api.group, &b.api.plural)));
        Ok(Resources { all })
    }

    /// From a known list (tests).
    pub fn from_list(all: Vec<Resource>) -> Resources {
        Resources { all }
    }

    /// Every resource.
    pub fn all(&self) -> &[Resource] {
        &self.all
    }

    /// What the garbage collector watches: everything it can list, watch
    /// and delete, but events.
    pub fn collectable(&self) -> impl Iterator<Item = &Resource> {
        self.all.iter().filter(|r| {
            r.supports(verbs::LIST)
                && r.supports(verbs::WATCH)
                && r.supports(verbs::DELETE)
                && !IGNORED.contains(&(r.api.group.as_str(), r.api.plural.as_str()))
        })
    }

    /// What lives in a namespace and can be listed and deleted (the
    /// namespace controller's work list).
    pub fn namespaced_deletable(&self) -> impl Iterator<Item = &Resource> {
        self.all.iter().filter(|r| {
            r.namespaced
                && r.supports(verbs::LIST)
                && (r.supports(verbs::DELETE) || r.supports(verbs::DELETE_COLLECTION))
        })
    }

    /// The resource of an owner reference's `apiVersion` and `kind`: the
    /// exact version when served, else the served version of the same
    /// group and kind.
    pub fn for_kind(&self, api_version: &str, kind: &str) -> Option<&Resource> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let same = |r: &&Resource| r.api.group == group && r.api.kind == kind;
        self.all
            .iter()
            .filter(same)
            .find(|r| r.api.version == version)
            .or_else(|| self.all.iter().find(same))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Resource {
        let api_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Resource {
            api: ApiResource {
                group: group.into(),
                version: version.into(),
                api_version,
                kind: kind.into(),
                plural: plural.into(),
            },
            namespaced,
            verbs: ["list", "watch", "delete", "get"]
                .map(String::from)
                .to_vec(),
        }
    }

    #[test]
    fn kinds_map_to_resources_and_events_are_ignored() {
        let r = Resources::from_list(vec![
            res("apps", "v1", "ReplicaSet", "replicasets", true),
            res("", "v1", "Event", "events", true),
            res("", "v1", "Node", "nodes", false),
        ]);
        assert_eq!(
            r.for_kind("apps/v1", "ReplicaSet").unwrap().api.plural,
            "replicasets"
        );
        assert_eq!(
            r.for_kind("apps/v1beta2", "ReplicaSet")
                .unwrap()
                .api
                .version,
            "v1",
            "another version of a served kind"
        );
        assert!(r.for_kind("v1", "ReplicaSet").is_none());
        let watched: Vec<_> = r.collectable().map(|r| r.api.plural.as_str()).collect();
        assert_eq!(watched, ["replicasets", "nodes"]);
        let ns: Vec<_> = r
            .namespaced_deletable()
            .map(|r| r.api.plural.as_str())
            .collect();
        assert_eq!(ns, ["replicasets", "events"]);
    }
}

//! Authorization: the chain of authorizers `--authorization-mode` lists,
//! asked in order (the first that allows or denies decides; nobody
//! deciding is a refusal), after the `system:masters` short cut upstream
//! also has. The RBAC index and the Node authorizer's graph are rebuilt
//! from the watch caches as roles, bindings and pods change.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use ironclad_api::registry;
use ironclad_auth::authz::node::{NodeAuthorizer, NodeGraph};
use ironclad_auth::authz::rbac::RbacIndex;
use ironclad_auth::authz::{NonResourceRule, ResourceRule, RuleResolver, Rules};
use ironclad_auth::user::MASTERS;
use ironclad_auth::{Attributes, Authorizer, Decision, UserInfo};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::config::{AuthConfig, AuthzMode};
use crate::objects;
use crate::watchcache::{Caches, EventType, Start};

/// Allows everything (`AlwaysAllow`).
struct AlwaysAllow;

impl Authorizer for AlwaysAllow {
    fn authorize(&self, _: &Attributes) -> Decision {
        Decision::Allow("AlwaysAllow".into())
    }
}

impl RuleResolver for AlwaysAllow {
    fn rules_for(&self, _: &UserInfo, _: &str) -> Rules {
        everything()
    }
}

/// Denies everything (`AlwaysDeny`).
struct AlwaysDeny;

impl Authorizer for AlwaysDeny {
    fn authorize(&self, _: &Attributes) -> Decision {
        Decision::Deny("Everything is forbidden.".into())
    }
}

impl RuleResolver for AlwaysDeny {
    fn rules_for(&self, _: &UserInfo, _: &str) -> Rules {
        Rules::default()
    }
}

/// The current RBAC index, swapped whole when roles or bindings change.
struct Rbac {
    index: RwLock<Arc<RbacIndex>>,
}

impl Rbac {
    fn current(&self) -> Arc<RbacIndex> {
        match self.index.read() {
            Ok(i) => i.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

impl Authorizer for Rbac {
    fn authorize(&self, a: &Attributes) -> Decision {
        self.current().authorize(a)
    }
}

impl RuleResolver for Rbac {
    fn rules_for(&self, user: &UserInfo, namespace: &str) -> Rules {
        self.current().rules_for(user, namespace)
    }
}

/// Node authorizer: no rules to list for SelfSubjectRulesReview (upstream
/// reports them as incomplete too).
struct NodeRules;

impl RuleResolver for NodeRules {
    fn rules_for(&self, user: &UserInfo, _: &str) -> Rules {
        Rules {
            incomplete: user.node_name().is_some(),
            ..Default::default()
        }
    }
}

/// What may do what.
pub struct Authorizers {
    chain: Vec<(Arc<dyn Authorizer>, Arc<dyn RuleResolver>)>,
    rbac: Option<Arc<Rbac>>,
    graph: Option<Arc<RwLock<NodeGraph>>>,
}

/// Rules that allow everything (what `system:masters` may do).
pub fn everything() -> Rules {
    Rules {
        resource_rules: vec![ResourceRule {
            verbs: vec!["*".into()],
            api_groups: vec!["*".into()],
            resources: vec!["*".into()],
            resource_names: Vec::new(),
        }],
        non_resource_rules: vec![NonResourceRule {
            verbs: vec!["*".into()],
            non_resource_urls: vec!["*".into()],
        }],
        incomplete: false,
    }
}

impl Authorizers {
    /// The chain of `config.modes`.
    pub fn new(config: &AuthConfig) -> Result<Authorizers, String> {
        let mut chain: Vec<(Arc<dyn Authorizer>, Arc<dyn RuleResolver>)> = Vec::new();
        let mut rbac = None;
        let mut graph = None;
        for mode in &config.modes {
            match mode {
                AuthzMode::AlwaysAllow => {
                    chain.push((Arc::new(AlwaysAllow), Arc::new(AlwaysAllow)))
                }
                AuthzMode::AlwaysDeny => chain.push((Arc::new(AlwaysDeny), Arc::new(AlwaysDeny))),
                AuthzMode::Abac => {
                    let policy = config.abac.clone().ok_or(
                        "--authorization-mode has ABAC but no --authorization-policy-file was given",
                    )?;
                    chain.push((policy.clone(), policy));
                }
                AuthzMode::Rbac => {
                    let r = Arc::new(Rbac {
                        index: RwLock::new(Arc::new(RbacIndex::new(
                            Vec::new(),
                            Vec::new(),
                            Vec::new(),
                            Vec::new(),
                        ))),
                    });
                    rbac = Some(r.clone());
                    chain.push((r.clone(), r));
                }
                AuthzMode::Node => {
                    let g = Arc::new(RwLock::new(NodeGraph::default()));
                    graph = Some(g.clone());
                    chain.push((Arc::new(NodeAuthorizer::new(g)), Arc::new(NodeRules)));
                }
            }
        }
        Ok(Authorizers { chain, rbac, graph })
    }

    /// Decides on a request.
    pub fn authorize(&self, a: &Attributes) -> Decision {
        if a.user.in_group(MASTERS) {
            return Decision::Allow(String::new());
        }
        let mut reasons = Vec::new();
        for (authorizer, _) in &self.chain {
            match authorizer.authorize(a) {
                Decision::NoOpinion(r) => {
                    if !r.is_empty() {
                        reasons.push(r);
                    }
                }
                decided => return decided,
            }
        }
        Decision::NoOpinion(reasons.join(", "))
    }

    /// The current RBAC index, when RBAC is among the modes.
    pub fn rbac_index(&self) -> Option<Arc<RbacIndex>> {
        self.rbac.as_ref().map(|r| r.current())
    }

    /// What `user` may do in `namespace` (SelfSubjectRulesReview).
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> Rules {
        if user.in_group(MASTERS) {
            return everything();
        }
        let mut out = Rules::default();
        for (_, resolver) in &self.chain {
            let r = resolver.rules_for(user, namespace);
            out.resource_rules.extend(r.resource_rules);
            out.non_resource_rules.extend(r.non_resource_rules);
            out.incomplete |= r.incomplete;
        }
        out
    }

    /// Starts following the caches that feed the RBAC index and the node
    /// graph, and waits (bounded) until each has been loaded once.
    pub async fn follow(self: &Arc<Self>, caches: &Caches) {
        let mut loaded = Vec::new();
        if self.rbac.is_some() {
            let sources = Arc::new(RbacSources::default());
            for (i, plural) in RBAC_RESOURCES.iter().enumerate() {
                let (tx, rx) = tokio::sync::oneshot::channel();
                loaded.push(rx);
                let me = Arc::downgrade(self);
                let sources = sources.clone();
                let cache = caches.get(&prefix("rbac.authorization.k8s.io", plural));
                tokio::spawn(follow(cache, tx, me, move |me, change| {
                    sources.apply(i, change);
                    if matches!(change, Change::Synced)
                        && let Some(rbac) = &me.rbac
                    {
                        let index = Arc::new(sources.index());
                        match rbac.index.write() {
                            Ok(mut w) => *w = index,
                            Err(p) => *p.into_inner() = index,
                        }
                    }
                }));
            }
        }
        if self.graph.is_some() {
            let (tx, rx) = tokio::sync::oneshot::channel();
            loaded.push(rx);
            let cache = caches.get(&prefix("", "pods"));
            tokio::spawn(follow(cache, tx, Arc::downgrade(self), |me, change| {
                let Some(graph) = &me.graph else { return };
                let mut g = match graph.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                match change {
                    Change::Reset => *g = NodeGraph::default(),
                    Change::Upsert(v) => {
                        if let Ok(pod) = serde_json::from_value(Value::clone(v)) {
                            g.apply_pod(&pod);
                        }
                    }
                    Change::Delete(v) => {
                        let (ns, name) = ns_name(v);
                        g.remove_pod(&ns, &name);
                    }
                    Change::Synced => {}
                }
            }));
        }
        for rx in loaded {
            let _ = tokio::time::timeout(Duration::from_secs(10), rx).await;
        }
    }
}

/// The RBAC resources, in the order [`RbacSources`] keeps them.
const RBAC_RESOURCES: [&str; 4] = [
    "clusterroles",
    "clusterrolebindings",
    "roles",
    "rolebindings",
];

fn prefix(group: &str, plural: &str) -> String {
    match registry::RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
    {
        Some(info) => objects::prefix(info, None),
        None => format!("{}{group}/{plural}/", objects::ROOT),
    }
}

fn ns_name(v: &Value) -> (String, String) {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("/metadata/namespace"), s("/metadata/name"))
}

/// Objects of one resource by namespace and name.
type ByName = BTreeMap<(String, String), Arc<Value>>;

/// The RBAC objects as last seen, by resource and `namespace/name`.
#[derive(Default)]
struct RbacSources {
    objects: std::sync::Mutex<[ByName; 4]>,
}

impl RbacSources {
    fn apply(&self, which: usize, change: &Change) {
        let mut all = match self.objects.lock() {
            Ok(a) => a,
            Err(p) => p.into_inner(),
        };
        let map = &mut all[which];
        match change {
            Change::Reset => map.clear(),
            Change::Upsert(v) => {
                map.insert(ns_name(v), v.clone());
            }
            Change::Delete(v) => {
                map.remove(&ns_name(v));
            }
            Change::Synced => {}
        }
    }

    fn index(&self) -> RbacIndex {
        let all = match self.objects.lock() {
            Ok(a) => a,
            Err(p) => p.into_inner(),
        };
        fn typed<T: serde::de::DeserializeOwned>(
            m: &BTreeMap<(String, String), Arc<Value>>,
        ) -> Vec<T> {
            m.values()
                .filter_map(|v| serde_json::from_value(Value::clone(v)).ok())
                .collect()
        }
        RbacIndex::new(
            typed(&all[0]),
            typed(&all[1]),
            typed(&all[2]),
            typed(&all[3]),
        )
    }
}

/// One change a follower sees.
enum Change {
    /// Start over (the subscription was lost).
    Reset,
    /// Added or modified.
    Upsert(Arc<Value>),
    /// Deleted.
    Delete(Arc<Value>),
    /// Every change available now has been applied.
    Synced,
}

/// Follows one cache for as long as the authorizers live: the objects
/// present, then every change; `loaded` fires after the first sync.
async fn follow<F>(
    cache: Arc<crate::watchcache::Cache>,
    loaded: tokio::sync::oneshot::Sender<()>,
    owner: Weak<Authorizers>,
    apply: F,
) where
    F: Fn(&Authorizers, &Change) + Send + 'static,
{
    let mut loaded = Some(loaded);
    loop {
        let Some(me) = owner.upgrade() else { return };
        let sub = match cache.subscribe(Start::Now).await {
            Ok(Some(s)) => s,
            _ => {
                drop(me);
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        apply(&me, &Change::Reset);
        for obj in sub.initial {
            apply(&me, &Change::Upsert(obj));
        }
        apply(&me, &Change::Synced);
        if let Some(tx) = loaded.take() {
            let _ = tx.send(());
        }
        drop(me);
        let mut live = sub.live;
        loop {
            let first = live.recv().await;
            let Some(me) = owner.upgrade() else { return };
            let mut next = Some(first);
            let mut lost = false;
            while let Some(item) = next.take() {
                match item {
                    Ok(ev) => {
                        let change = match ev.kind {
                            EventType::Deleted => Change::Delete(ev.object.clone()),
                            _ => Change::Upsert(ev.object.clone()),
                        };
                        apply(&me, &change);
                    }
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                        lost = true;
                        break;
                    }
                }
                next = match live.try_recv() {
                    Ok(ev) => Some(Ok(ev)),
                    Err(tokio::sync::broadcast::error::TryRecvError::Empty) => None,
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                        Some(Err(RecvError::Lagged(n)))
                    }
                    Err(tokio::sync::broadcast::error::TryRecvError::Closed) => {
                        Some(Err(RecvError::Closed))
                    }
                };
            }
            if lost {
                break;
            }
            apply(&me, &Change::Synced);
        }
    }
}

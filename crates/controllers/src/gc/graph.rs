//! The dependency graph (upstream's GraphBuilder): one node per object
//! uid, with the owners its ownerReferences name and the dependents that
//! name it. Owners referenced but not (yet) observed are *virtual* nodes,
//! which the collector verifies against the API server. Every change says
//! what the collector must look at next; the graph itself never talks to
//! the API server.

mod node;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

pub use node::{Changes, FOREGROUND, InvalidOwner, Node, ORPHAN, ObjectRef, Observed, State, Work};

/// How many identities known to be absent are remembered (upstream: 500).
const ABSENT_CAPACITY: usize = 500;

/// The graph.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
    absent: HashSet<ObjectRef>,
    absent_order: VecDeque<ObjectRef>,
}

// === impl Graph ===

impl Graph {
    /// The node of `uid`.
    pub fn node(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    /// How many nodes there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The dependents of `uid`.
    pub fn dependents(&self, uid: &str) -> Vec<&Node> {
        self.nodes
            .get(uid)
            .map(|n| {
                n.dependents
                    .iter()
                    .filter_map(|d| self.nodes.get(d))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The dependents of `uid` whose reference to it blocks its deletion.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<&Node> {
        self.dependents(uid)
            .into_iter()
            .filter(|d| {
                d.reference_to(uid)
                    .is_some_and(|r| r.block_owner_deletion == Some(true))
            })
            .collect()
    }

    /// Whether `identity` is known not to exist.
    pub fn is_absent(&self, identity: &ObjectRef) -> bool {
        self.absent.contains(identity)
    }

    /// Remembers that `identity` does not exist.
    pub fn mark_absent(&mut self, identity: ObjectRef) {
        if self.absent.insert(identity.clone()) {
            self.absent_order.push_back(identity);
            while self.absent_order.len() > ABSENT_CAPACITY {
                if let Some(old) = self.absent_order.pop_front() {
                    self.absent.remove(&old);
                }
            }
        }
    }

    /// An object was added or changed (seen through watch `resource`).
    pub fn observe(&mut self, resource: usize, obs: Observed) -> Changes {
        let mut ch = Changes::default();
        let uid = obs.identity.uid.clone();
        let virtual_identity = self
            .nodes
            .get(&uid)
            .filter(|n| !n.observed)
            .map(|n| n.identity.clone());
        if let Some(was) = virtual_identity {
            if was != obs.identity {
                // Dependents that named the owner otherwise than it is may
                // be invalid: have them checked.
                let (_, mismatched) = self.partition_dependents(&uid, &obs.identity);
                for dep in mismatched {
                    if let Some(d) = self.nodes.get(&dep)
                        && obs.identity.namespace.is_some()
                        && d.identity.namespace != obs.identity.namespace
                    {
                        ch.invalid.push(invalid(d, &uid));
                    }
                    ch.work.push(Work::Delete(dep));
                }
            }
            if let Some(n) = self.nodes.get_mut(&uid) {
                n.identity = obs.identity.clone();
                n.observed = true;
                n.resource = Some(resource);
            }
        }
        let Some(existing) = self.nodes.get_mut(&uid) else {
            let node = Node {
                identity: obs.identity,
                owners: obs.owners.clone(),
                dependents: BTreeSet::new(),
                state: obs.state,
                observed: true,
                resource: Some(resource),
            };
            self.nodes.insert(uid.clone(), node);
            self.add_dependent_to_owners(&uid, &obs.owners, &mut ch);
            transitions(&uid, State::default(), obs.state, self, &mut ch);
            return ch;
        };
        let old_state = existing.state;
        existing.state = obs.state;
        existing.resource = Some(resource);
        if existing.owners != obs.owners {
            let old: HashMap<&str, &OwnerReference> = existing
                .owners
                .iter()
                .map(|r| (r.uid.as_str(), r))
                .collect();
            let new: HashMap<&str, &OwnerReference> =
                obs.owners.iter().map(|r| (r.uid.as_str(), r)).collect();
            let added: Vec<OwnerReference> = obs
                .owners
                .iter()
                .filter(|r| !old.contains_key(r.uid.as_str()))
                .cloned()
                .collect();
            let removed: Vec<OwnerReference> = existing
                .owners
                .iter()
                .filter(|r| !new.contains_key(r.uid.as_str()))
                .cloned()
                .collect();
            // Owners waiting on this dependent no longer have to.
            for r in &removed {
                if r.block_owner_deletion == Some(true) {
                    ch.work.push(Work::Delete(r.uid.clone()));
                }
            }
            for (u, before) in &old {
                if let Some(after) = new.get(u)
                    && before.block_owner_deletion == Some(true)
                    && after.block_owner_deletion != Some(true)
                {
                    ch.work.push(Work::Delete(u.to_string()));
                }
            }
            existing.owners = obs.owners.clone();
            self.add_dependent_to_owners(&uid, &added, &mut ch);
            for r in &removed {
                if let Some(o) = self.nodes.get_mut(&r.uid) {
                    o.dependents.remove(&uid);
                }
            }
        }
        transitions(&uid, old_state, obs.state, self, &mut ch);
        ch
    }

    /// A watch reported the object of `uid` deleted.
    pub fn observe_deleted(&mut self, uid: &str) -> Changes {
        let mut ch = Changes::default();
        self.remove_node(uid, &mut ch);
        ch
    }

    /// Watch `resource` listed everything again and saw only `seen`: what
    /// it had seen before and not now is gone.
    pub fn relisted(&mut self, resource: usize, seen: &HashSet<String>) -> Changes {
        let gone: Vec<String> = self
            .nodes
            .iter()
            .filter(|(uid, n)| n.observed && n.resource == Some(resource) && !seen.contains(*uid))
            .map(|(uid, _)| uid.clone())
            .collect();
        let mut ch = Changes::default();
        for uid in gone {
            self.remove_node(&uid, &mut ch);
        }
        ch
    }

    /// The collector found that `identity` does not exist (upstream's
    /// virtual delete event).
    pub fn virtual_delete(&mut self, identity: &ObjectRef) -> Changes {
        let mut ch = Changes::default();
        let Some(node) = self.nodes.get(&identity.uid) else {
            return ch;
        };
        let (observed, current) = (node.observed, node.identity.clone());
        let (matching, nonmatching) = self.partition_dependents(&identity.uid, identity);
        if !observed && nonmatching.is_empty() || observed && current == *identity {
            self.remove_node(&identity.uid, &mut ch);
            return ch;
        }
        // Some dependents name this uid otherwise: only those naming the
        // verified identity are garbage.
        if !matching.is_empty() {
            self.mark_absent(identity.clone());
            ch.work.extend(matching.into_iter().map(Work::Delete));
        }
        if !observed {
            if current == *identity
                && let Some(alternate) = self.alternate_identity(&nonmatching, identity)
                && let Some(n) = self.nodes.get_mut(&identity.uid)
            {
                n.identity = alternate;
            }
            ch.later.push(Work::Delete(identity.uid.clone()));
        }
        ch
    }

    /// Another identity the `dependents` name the owner `absent.uid` by,
    /// not yet known absent.
    fn alternate_identity(&self, dependents: &[String], absent: &ObjectRef) -> Option<ObjectRef> {
        dependents
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .filter_map(|d| {
                let r = d.reference_to(&absent.uid)?;
                let mut alt = ObjectRef::owner(r, d.identity.namespace.as_deref());
                if absent.namespace.is_none()
                    && alt.api_version == absent.api_version
                    && alt.kind == absent.kind
                {
                    alt.namespace = None;
                }
                Some(alt)
            })
            .find(|alt| alt != absent && !self.is_absent(alt))
    }

    /// The dependents of `uid` that name it as `identity` does, and those
    /// that do not.
    fn partition_dependents(&self, uid: &str, identity: &ObjectRef) -> (Vec<String>, Vec<String>) {
        let mut matching = Vec::new();
        let mut nonmatching = Vec::new();
        for dep in self.dependents(uid) {
            let dep_uid = dep.identity.uid.clone();
            if identity.namespace.is_some() && identity.namespace != dep.identity.namespace {
                nonmatching.push(dep_uid);
                continue;
            }
            match dep.reference_to(uid) {
                Some(r) if identity.matches(r) => matching.push(dep_uid),
                Some(_) => nonmatching.push(dep_uid),
                None => {}
            }
        }
        (matching, nonmatching)
    }

    /// Adds `uid` to the dependents of `owners`, creating virtual nodes
    /// for owners not seen yet (and having them verified).
    fn add_dependent_to_owners(&mut self, uid: &str, owners: &[OwnerReference], ch: &mut Changes) {
        let Some(dep) = self.nodes.get(uid).map(|n| n.identity.clone()) else {
            return;
        };
        let mut suspect = false;
        for r in owners {
            match self.nodes.get_mut(&r.uid) {
                None => {
                    let mut node = Node {
                        identity: ObjectRef::owner(r, dep.namespace.as_deref()),
                        owners: Vec::new(),
                        dependents: BTreeSet::new(),
                        state: State::default(),
                        observed: false,
                        resource: None,
                    };
                    node.dependents.insert(uid.to_string());
                    self.nodes.insert(r.uid.clone(), node);
                    ch.work.push(Work::Delete(r.uid.clone()));
                }
                Some(owner) => {
                    owner.dependents.insert(uid.to_string());
                    if suspect {
                        continue;
                    }
                    let owner_namespaced = owner.identity.namespace.is_some();
                    if owner_namespaced && owner.identity.namespace != dep.namespace {
                        if owner.observed {
                            ch.invalid.push(InvalidOwner {
                                dependent: dep.clone(),
                                owner: ObjectRef::owner(r, dep.namespace.as_deref()),
                            });
                        }
                        suspect = true;
                    } else if !owner.identity.matches(r)
                        || !owner_namespaced && dep.namespace.is_some() && !owner.observed
                    {
                        suspect = true;
                    }
                }
            }
        }
        if suspect {
            ch.work.push(Work::Delete(uid.to_string()));
        }
    }

    /// Removes a node: its dependents are now possibly garbage, and owners
    /// deleting their dependents may be done.
    fn remove_node(&mut self, uid: &str, ch: &mut Changes) {
        let Some(node) = self.nodes.remove(uid) else {
            return;
        };
        for r in &node.owners {
            if let Some(o) = self.nodes.get_mut(&r.uid) {
                o.dependents.remove(uid);
            }
        }
        if !node.dependents.is_empty() {
            self.mark_absent(node.identity.clone());
        }
        ch.work
            .extend(node.dependents.iter().cloned().map(Work::Delete));
        for r in &node.owners {
            if self
                .nodes
                .get(&r.uid)
                .is_some_and(|o| o.state.deleting_dependents())
            {
                ch.work.push(Work::Delete(r.uid.clone()));
            }
        }
    }
}

fn invalid(dependent: &Node, owner_uid: &str) -> InvalidOwner {
    let owner = dependent
        .reference_to(owner_uid)
        .map(|r| ObjectRef::owner(r, dependent.identity.namespace.as_deref()))
        .unwrap_or_else(|| ObjectRef {
            uid: owner_uid.to_string(),
            ..dependent.identity.clone()
        });
    InvalidOwner {
        dependent: dependent.identity.clone(),
        owner,
    }
}

/// What a change of an object's deletion state asks for: orphaning starts,
/// or deleting the dependents in the foreground starts.
fn transitions(uid: &str, old: State, new: State, graph: &Graph, ch: &mut Changes) {
    if new.orphaning() && !old.orphaning() {
        ch.work.push(Work::Orphan(uid.to_string()));
        return;
    }
    if new.deleting_dependents() && !old.deleting_dependents() {
        ch.work.extend(
            graph
                .dependents(uid)
                .into_iter()
                .map(|d| Work::Delete(d.identity.uid.clone())),
        );
        ch.work.push(Work::Delete(uid.to_string()));
    }
}

#[cfg(test)]
mod tests;

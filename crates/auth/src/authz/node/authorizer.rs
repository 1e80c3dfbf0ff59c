//! Upstream's Node authorizer: a kubelet (`system:node:<name>` in
//! `system:nodes`) may read the secrets, config maps, claims and volumes of
//! the pods bound to its node, create tokens for their service accounts,
//! and manage its own Lease and CSINode; everything else it may do is
//! [`node_rules`]. It never denies: what it does not allow is left to the
//! next authorizer.
//!
//! Upstream 1.33 also narrows reads of nodes and pods by field selector
//! (`AuthorizeNodeWithSelectors`). [`Attributes`] carry no field selector,
//! so nodes and pods are authorized as with that feature off: by the node
//! rules.

use std::sync::{Arc, PoisonError, RwLock};

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::graph::{NodeGraph, VertexKind};
use crate::attributes::Attributes;
use crate::authz::bootstrap_policy::node_rules;
use crate::authz::rbac::{go_quote, rules_allow};
use crate::authz::{Authorizer, Decision, RuleResolver, Rules};
use crate::user::{NODE_PREFIX, UserInfo};

/// The namespace of node heartbeat Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The Node authorizer over a shared [`NodeGraph`].
#[derive(Debug, Clone)]
pub struct NodeAuthorizer {
    graph: Arc<RwLock<NodeGraph>>,
    rules: Vec<PolicyRule>,
}

/// Who a request is, for this authorizer.
enum Identity<'a> {
    /// Not a node: no opinion.
    NotANode,
    /// In `system:nodes` as `system:node:` with no name.
    Unknown,
    /// The node of this name.
    Node(&'a str),
}

fn identify(user: &UserInfo) -> Identity<'_> {
    match user.name.strip_prefix(NODE_PREFIX) {
        Some(_) if !user.in_group(crate::user::NODES) => Identity::NotANode,
        Some("") => Identity::Unknown,
        Some(name) => Identity::Node(name),
        None => Identity::NotANode,
    }
}

fn no_opinion(reason: impl Into<String>) -> Decision {
    Decision::NoOpinion(reason.into())
}

fn allow() -> Decision {
    Decision::Allow(String::new())
}

impl NodeAuthorizer {
    /// An authorizer reading `graph`, which the API server keeps up to date.
    pub fn new(graph: Arc<RwLock<NodeGraph>>) -> NodeAuthorizer {
        NodeAuthorizer {
            graph,
            rules: node_rules(),
        }
    }

    fn has_path(&self, node: &str, kind: VertexKind, attributes: &Attributes) -> bool {
        let graph = self.graph.read().unwrap_or_else(PoisonError::into_inner);
        graph.has_path(node, kind, &attributes.namespace, &attributes.name)
    }

    /// Allows if the named object is related to the node.
    fn related(&self, node: &str, kind: VertexKind, attributes: &Attributes) -> Decision {
        if attributes.name.is_empty() {
            return no_opinion("No Object name found");
        }
        if self.has_path(node, kind, attributes) {
            allow()
        } else {
            no_opinion(format!(
                "no relationship found between node '{node}' and this object"
            ))
        }
    }

    /// `get`, `list` and `watch` of one named object.
    fn read_namespaced(&self, node: &str, kind: VertexKind, attributes: &Attributes) -> Decision {
        if !matches!(attributes.verb.as_str(), "get" | "list" | "watch") {
            return no_opinion("can only read resources of this type");
        }
        if !attributes.subresource.is_empty() {
            return no_opinion("cannot read subresource");
        }
        if attributes.namespace.is_empty() {
            return no_opinion("can only read namespaced object of this type");
        }
        self.related(node, kind, attributes)
    }

    /// `get` of one named object.
    fn get(&self, node: &str, kind: VertexKind, attributes: &Attributes) -> Decision {
        if attributes.verb != "get" {
            return no_opinion("can only get individual resources of this type");
        }
        if !attributes.subresource.is_empty() {
            return no_opinion("cannot get subresource");
        }
        self.related(node, kind, attributes)
    }

    /// `update` and `patch` of the status of one named object.
    fn status_update(&self, node: &str, kind: VertexKind, attributes: &Attributes) -> Decision {
        if !matches!(attributes.verb.as_str(), "update" | "patch") {
            return no_opinion("can only get/update/patch this type");
        }
        if attributes.subresource != "status" {
            return no_opinion("can only update status subresource");
        }
        self.related(node, kind, attributes)
    }

    /// Tokens for the service accounts of the node's pods.
    fn create_token(&self, node: &str, attributes: &Attributes) -> Decision {
        if attributes.verb != "create" || attributes.name.is_empty() {
            return no_opinion("can only create tokens for individual service accounts");
        }
        if attributes.subresource != "token" {
            return no_opinion("can only create token subresource of serviceaccount");
        }
        self.related(node, VertexKind::ServiceAccount, attributes)
    }

    /// The node's own heartbeat Lease.
    fn lease(&self, node: &str, attributes: &Attributes) -> Decision {
        let verb = attributes.verb.as_str();
        if !matches!(verb, "get" | "create" | "update" | "patch" | "delete") {
            return no_opinion("can only get, create, update, patch, or delete a node lease");
        }
        if attributes.namespace != NODE_LEASE_NAMESPACE {
            return no_opinion(format!(
                "can only access leases in the {} system namespace",
                go_quote(NODE_LEASE_NAMESPACE)
            ));
        }
        // The name of a created object is not known here; the
        // NodeRestriction admission plugin checks it.
        if verb != "create" && attributes.name != node {
            return no_opinion(
                "can only access node lease with the same name as the requesting node",
            );
        }
        allow()
    }

    /// The node's own CSINode.
    fn csi_node(&self, node: &str, attributes: &Attributes) -> Decision {
        let verb = attributes.verb.as_str();
        if !matches!(verb, "get" | "create" | "update" | "patch" | "delete") {
            return no_opinion("can only get, create, update, patch, or delete a CSINode");
        }
        if !attributes.subresource.is_empty() {
            return no_opinion("cannot authorize CSINode subresources");
        }
        if verb != "create" && attributes.name != node {
            return no_opinion("can only access CSINode with the same name as the requesting node");
        }
        allow()
    }

    /// The node's ResourceSlices.
    fn resource_slice(&self, node: &str, attributes: &Attributes) -> Decision {
        if !attributes.subresource.is_empty() {
            return no_opinion("cannot authorize ResourceSlice subresources");
        }
        match attributes.verb.as_str() {
            // NodeRestriction checks the node name of what is created, and
            // without field selectors lists are not narrowed (as upstream
            // with AuthorizeNodeWithSelectors off).
            "create" | "watch" | "list" | "deletecollection" => allow(),
            "get" | "update" | "patch" | "delete" => {
                self.related(node, VertexKind::ResourceSlice, attributes)
            }
            _ => no_opinion(
                "only the following verbs are allowed for a ResourceSlice: get, watch, list, create, update, patch, delete, deletecollection",
            ),
        }
    }
}

impl Authorizer for NodeAuthorizer {
    fn authorize(&self, attributes: &Attributes) -> Decision {
        let node = match identify(&attributes.user) {
            Identity::NotANode => return no_opinion(""),
            Identity::Unknown => {
                return no_opinion(format!(
                    "unknown node for user {}",
                    go_quote(&attributes.user.name)
                ));
            }
            Identity::Node(node) => node,
        };
        if attributes.resource_request {
            let decision = match (attributes.api_group.as_str(), attributes.resource.as_str()) {
                ("", "secrets") => Some(self.read_namespaced(node, VertexKind::Secret, attributes)),
                ("", "configmaps") => {
                    Some(self.read_namespaced(node, VertexKind::ConfigMap, attributes))
                }
                ("", "persistentvolumeclaims") if attributes.subresource == "status" => {
                    Some(self.status_update(node, VertexKind::PersistentVolumeClaim, attributes))
                }
                ("", "persistentvolumeclaims") => {
                    Some(self.get(node, VertexKind::PersistentVolumeClaim, attributes))
                }
                ("", "persistentvolumes") => {
                    Some(self.get(node, VertexKind::PersistentVolume, attributes))
                }
                ("resource.k8s.io", "resourceclaims") => {
                    Some(self.get(node, VertexKind::ResourceClaim, attributes))
                }
                ("storage.k8s.io", "volumeattachments") => {
                    Some(self.get(node, VertexKind::VolumeAttachment, attributes))
                }
                ("", "serviceaccounts") => Some(self.create_token(node, attributes)),
                ("coordination.k8s.io", "leases") => Some(self.lease(node, attributes)),
                ("storage.k8s.io", "csinodes") => Some(self.csi_node(node, attributes)),
                ("resource.k8s.io", "resourceslices") => {
                    Some(self.resource_slice(node, attributes))
                }
                _ => None,
            };
            if let Some(decision) = decision {
                return decision;
            }
        }
        if rules_allow(attributes, &self.rules) {
            allow()
        } else {
            no_opinion("")
        }
    }
}

impl RuleResolver for NodeAuthorizer {
    /// Nodes' rights depend on the objects they ask for, so their rules are
    /// never complete; other users get none from this authorizer.
    fn rules_for(&self, user: &UserInfo, _namespace: &str) -> Rules {
        Rules {
            incomplete: !matches!(identify(user), Identity::NotANode),
            ..Default::default()
        }
    }
}

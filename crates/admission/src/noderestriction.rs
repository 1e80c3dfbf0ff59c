//! NodeRestriction (upstream's `noderestriction` plugin): a kubelet
//! (`system:node:<name>` in `system:nodes`) may only write its own Node,
//! mirror pods bound to itself, the status of its own pods and claims, its
//! own lease, CSINode and resource slices, tokens for pods on itself, and
//! CSRs for its own name. Other users pass.

mod csr;
mod nodes;
mod pods;

use ironclad_auth::user::{NODE_PREFIX, NODES};
use serde_json::Value;

use crate::error::AdmissionError;
use crate::json::{str_at, str_or_empty};
use crate::request::{Operation, Request};

pub use nodes::is_kubelet_label;

/// The namespace of node leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// Objects the plugin reads besides the request's own (looked up by the
/// API server).
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeLookups<'a> {
    /// The requesting node's Node object (mirror pod creates check the
    /// owner reference's uid against it); `None` if it does not exist.
    pub node: Option<&'a Value>,
    /// The stored pod the request is about: the pod being deleted (else
    /// `old` is used), evicted, or bound by a token request; `None` if it
    /// does not exist.
    pub pod: Option<&'a Value>,
    /// Audiences of the CSI drivers the token request's pod uses (through
    /// its CSI, PVC → PV and ephemeral volumes: `CSIDriver.spec.tokenRequests`).
    pub csi_audiences: &'a [String],
    /// Whether the authorizer lets the node `request-serviceaccounts-token-audience`
    /// on the requested audience (resource = audience, name = the account).
    pub audience_authorized: bool,
}

/// The node a user is, per upstream's `NodeIdentity`: `Some(name)` for a
/// `system:node:<name>` user in `system:nodes` (the name may be empty),
/// `None` for anyone else.
fn node_identity(req: &Request) -> Option<&str> {
    let name = req.user.name.strip_prefix(NODE_PREFIX)?;
    req.user.in_group(NODES).then_some(name)
}

/// Admits a request. `new` is the object written (create/update), `old`
/// the stored one (update/delete).
pub fn admit(
    req: &Request,
    new: Option<&Value>,
    old: Option<&Value>,
    lookups: &NodeLookups<'_>,
) -> Result<(), AdmissionError> {
    let Some(node) = node_identity(req) else {
        return Ok(());
    };
    if req.operation == Operation::Connect {
        return Ok(());
    }
    if node.is_empty() {
        return Err(req.forbidden(
            new,
            format!("could not determine node from user \"{}\"", req.user.name),
        ));
    }
    let ctx = Ctx {
        req,
        node,
        new,
        old,
        lookups,
    };
    match (req.group.as_str(), req.resource.as_str()) {
        ("", "pods") => match req.subresource.as_str() {
            "" => pods::admit_pod(&ctx),
            "status" => pods::admit_status(&ctx),
            "eviction" => pods::admit_eviction(&ctx),
            other => Err(ctx.forbidden(format!(
                "unexpected pod subresource \"{other}\", only 'status' and 'eviction' are allowed"
            ))),
        },
        ("", "nodes") => nodes::admit_node(&ctx),
        ("", "persistentvolumeclaims") => match req.subresource.as_str() {
            "status" => pods::admit_claim_status(&ctx),
            _ => Err(ctx.forbidden("may only update PVC status")),
        },
        ("", "serviceaccounts") => pods::admit_token(&ctx),
        ("coordination.k8s.io", "leases") => admit_lease(&ctx),
        ("storage.k8s.io", "csinodes") => admit_named(
            &ctx,
            "can only access CSINode with the same name as the requesting node",
        ),
        ("resource.k8s.io", "resourceslices") => admit_slice(&ctx),
        ("certificates.k8s.io", "certificatesigningrequests") => csr::admit_csr(&ctx),
        _ => Ok(()),
    }
}

/// One request being decided.
pub(crate) struct Ctx<'a> {
    pub(crate) req: &'a Request,
    pub(crate) node: &'a str,
    pub(crate) new: Option<&'a Value>,
    pub(crate) old: Option<&'a Value>,
    pub(crate) lookups: &'a NodeLookups<'a>,
}

impl Ctx<'_> {
    pub(crate) fn forbidden(&self, err: impl std::fmt::Display) -> AdmissionError {
        self.req.forbidden(self.new, err)
    }

    /// The new object, if it is a JSON object.
    pub(crate) fn new_obj(&self) -> Result<&Value, AdmissionError> {
        self.new
            .filter(|v| v.is_object())
            .ok_or_else(|| self.forbidden(unexpected_type(self.new)))
    }

    /// The stored object, if it is a JSON object.
    pub(crate) fn old_obj(&self) -> Result<&Value, AdmissionError> {
        self.old
            .filter(|v| v.is_object())
            .ok_or_else(|| self.forbidden(unexpected_type(self.old)))
    }

    pub(crate) fn unexpected_operation(&self) -> AdmissionError {
        self.forbidden(format!("unexpected operation \"{}\"", self.req.operation))
    }
}

/// Upstream's `unexpected type %T`, for bodies that are not objects.
pub(crate) fn unexpected_type(v: Option<&Value>) -> String {
    let t = match v {
        None | Some(Value::Null) => "<nil>",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    };
    format!("unexpected type {t}")
}

fn admit_lease(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    if ctx.req.namespace != NODE_LEASE_NAMESPACE {
        return Err(ctx.forbidden(format!(
            "can only access leases in the \"{NODE_LEASE_NAMESPACE}\" system namespace"
        )));
    }
    admit_named(
        ctx,
        "can only access node lease with the same name as the requesting node",
    )
}

/// Objects named after the node: on create the new object's name, else the
/// request's.
fn admit_named(ctx: &Ctx<'_>, message: &str) -> Result<(), AdmissionError> {
    let name = if ctx.req.operation == Operation::Create {
        str_or_empty(ctx.new_obj()?, &["metadata", "name"])
    } else {
        ctx.req.name.as_str()
    };
    if name != ctx.node {
        return Err(ctx.forbidden(message));
    }
    Ok(())
}

fn admit_slice(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    let (obj, verb) = match ctx.req.operation {
        Operation::Create => (ctx.new_obj()?, "create"),
        Operation::Delete => (ctx.old_obj()?, "delete"),
        _ => return Ok(()),
    };
    if str_at(obj, &["spec", "nodeName"]) != Some(ctx.node) {
        return Err(ctx.forbidden(format!(
            "can only {verb} ResourceSlice with the same NodeName as the requesting node"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

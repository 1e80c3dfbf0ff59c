//! The CSR approver (upstream's csrapproving, `sarApprover`): a pending
//! request for the `kubernetes.io/kube-apiserver-client-kubelet` signer
//! that is a valid kubelet client request (CN `system:node:<name>`, O
//! exactly `system:nodes`, client usages, no subject alternative names) is
//! approved when a SubjectAccessReview says its requester may create
//! `certificatesigningrequests/selfnodeclient` (a node renewing its own
//! certificate) or `certificatesigningrequests/nodeclient` (a
//! bootstrapper). Anything else is left to people.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use ironclad_api::certificates::{
    APPROVED, CertificateRequest, KUBE_APISERVER_CLIENT_KUBELET_SIGNER, is_kubelet_client_csr,
    parse_csr,
};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestStatus,
};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::{Backoff, approval, has_certificate, usages};
use crate::{Context, Error, Result};

/// The condition reason of an automatic approval.
pub const REASON: &str = "AutoApproved";

/// One kind of request the approver knows, the permission its requester
/// needs, and what the approval says.
struct Recognizer {
    subresource: &'static str,
    message: &'static str,
    recognize: fn(&CertificateSigningRequest, &CertificateRequest) -> bool,
}

/// In upstream's order: a node's own renewal first.
const RECOGNIZERS: [Recognizer; 2] = [
    Recognizer {
        subresource: "selfnodeclient",
        message: "Auto approving self kubelet client certificate after SubjectAccessReview.",
        recognize: is_self_node_client_cert,
    },
    Recognizer {
        subresource: "nodeclient",
        message: "Auto approving kubelet client certificate after SubjectAccessReview.",
        recognize: is_node_client_cert,
    },
];

/// A kubelet client request for the kubelet client signer.
fn is_node_client_cert(csr: &CertificateSigningRequest, req: &CertificateRequest) -> bool {
    csr.spec.signer_name == KUBE_APISERVER_CLIENT_KUBELET_SIGNER
        && is_kubelet_client_csr(req, usages(csr))
}

/// ... made by the node it names.
fn is_self_node_client_cert(csr: &CertificateSigningRequest, req: &CertificateRequest) -> bool {
    is_node_client_cert(csr, req) && csr.spec.username.as_deref() == Some(&req.common_name)
}

struct State {
    client: Client,
    backoff: Backoff,
}

/// Runs the controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let api: Api<CertificateSigningRequest> = Api::all(ctx.client.clone());
    let state = Arc::new(State {
        client: ctx.client.clone(),
        backoff: Backoff::default(),
    });
    Controller::new(api, watcher::Config::default())
        .run(reconcile, error_policy, state)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "csrapproving");
            }
        })
        .await;
    Ok(())
}

async fn reconcile(csr: Arc<CertificateSigningRequest>, state: Arc<State>) -> Result<Action> {
    let name = csr.name_any();
    let (approved, denied) = approval(&csr);
    if has_certificate(&csr) || approved || denied {
        state.backoff.reset(&name);
        return Ok(Action::await_change());
    }
    let req = match parse_csr(&csr.spec.request.0) {
        Ok(r) => r,
        Err(e) => {
            return Err(Error::Invalid(format!("unable to parse csr {name:?}: {e}")));
        }
    };
    let mut tried = Vec::new();
    for r in &RECOGNIZERS {
        if !(r.recognize)(&csr, &req) {
            continue;
        }
        tried.push(r.subresource);
        if !authorize(&state.client, &csr, r.subresource).await? {
            continue;
        }
        let mut approved = (*csr).clone();
        let status = approved
            .status
            .get_or_insert_with(CertificateSigningRequestStatus::default);
        status
            .conditions
            .get_or_insert_with(Vec::new)
            .push(CertificateSigningRequestCondition {
                type_: APPROVED.into(),
                status: "True".into(),
                reason: Some(REASON.into()),
                message: Some(r.message.into()),
                ..Default::default()
            });
        Api::<CertificateSigningRequest>::all(state.client.clone())
            .replace_subresource("approval", &name, &PostParams::default(), &approved)
            .await
            .map_err(|e| Error::Invalid(format!("error updating approval for csr: {e}")))?;
        tracing::info!(csr = %name, subresource = r.subresource, "csr auto-approved");
        state.backoff.reset(&name);
        return Ok(Action::await_change());
    }
    if tried.is_empty() {
        return Ok(Action::await_change());
    }
    // Upstream retries these (with backoff): the permission may come.
    Err(Error::Invalid(format!(
        "recognized csr {name:?} as {tried:?} but subject access review was not approved"
    )))
}

/// Whether the request's requester may create
/// `certificatesigningrequests/<subresource>`.
async fn authorize(
    client: &Client,
    csr: &CertificateSigningRequest,
    subresource: &str,
) -> Result<bool> {
    let spec = &csr.spec;
    let sar = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: spec.username.clone(),
            uid: spec.uid.clone(),
            groups: spec.groups.clone(),
            extra: spec
                .extra
                .clone()
                .filter(|e: &BTreeMap<_, _>| !e.is_empty()),
            resource_attributes: Some(ResourceAttributes {
                group: Some("certificates.k8s.io".into()),
                resource: Some("certificatesigningrequests".into()),
                verb: Some("create".into()),
                subresource: Some(subresource.into()),
                version: Some("*".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let review = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &sar)
        .await?;
    Ok(review.status.is_some_and(|s| s.allowed))
}

fn error_policy(csr: Arc<CertificateSigningRequest>, e: &Error, state: Arc<State>) -> Action {
    let name = csr.name_any();
    let delay = state.backoff.next(&name);
    tracing::info!(csr = %name, error = %e, ?delay, "csrapproving: retrying");
    Action::requeue(delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csr(signer: &str, username: &str, usages: &[&str]) -> CertificateSigningRequest {
        serde_json::from_value(json!({
            "metadata": {"name": "c"},
            "spec": {"request": "", "signerName": signer, "usages": usages, "username": username}
        }))
        .unwrap()
    }

    fn node_request(cn: &str) -> CertificateRequest {
        CertificateRequest {
            common_name: cn.into(),
            organizations: vec!["system:nodes".into()],
            ..Default::default()
        }
    }

    const CLIENT: &[&str] = &["digital signature", "key encipherment", "client auth"];

    #[test]
    fn recognizes_node_client_requests() {
        let req = node_request("system:node:n1");
        let bootstrap = csr(
            KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
            "system:bootstrap:abc",
            CLIENT,
        );
        assert!(is_node_client_cert(&bootstrap, &req));
        assert!(!is_self_node_client_cert(&bootstrap, &req));
        let own = csr(
            KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
            "system:node:n1",
            CLIENT,
        );
        assert!(is_self_node_client_cert(&own, &req));
        // Another signer, other usages, another subject: not a kubelet's.
        let other = csr(
            "kubernetes.io/kube-apiserver-client",
            "system:node:n1",
            CLIENT,
        );
        assert!(!is_node_client_cert(&other, &req));
        let serving = csr(
            KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
            "system:node:n1",
            &["digital signature", "server auth"],
        );
        assert!(!is_node_client_cert(&serving, &req));
        assert!(!is_node_client_cert(&own, &node_request("n1")));
    }
}

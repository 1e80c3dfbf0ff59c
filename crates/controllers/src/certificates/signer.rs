//! The CSR signer (upstream's csrsigning): an approved, not denied, not
//! failed request without a certificate, for one of the built-in signers
//! `kubernetes.io/kube-apiserver-client`,
//! `kubernetes.io/kube-apiserver-client-kubelet` or
//! `kubernetes.io/kubelet-serving`, is checked against its signer's rules
//! (a request that breaks them gets condition Failed, reason
//! SignerValidationFailure) and signed by the context's [`CsrSigner`]
//! for the requested lifetime (at least 10 minutes, at most the default
//! of one year); the certificate is written through `/status`. Without a
//! signer the controller does nothing.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ironclad_api::certificates::{
    FAILED, KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBE_APISERVER_CLIENT_SIGNER,
    KUBELET_SERVING_SIGNER, parse_csr, validate_kubelet_client_csr, validate_kubelet_serving_csr,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::{Backoff, CsrSigner, approval, has_certificate, has_true_condition, usages};
use crate::{Context, Error, Result};

/// The longest lifetime of an issued certificate
/// (`--cluster-signing-duration`, one year).
pub const DEFAULT_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The shortest one a request may get.
pub const MIN_DURATION: Duration = Duration::from_secs(600);
/// The condition reason of a request its signer refuses.
pub const REASON_VALIDATION_FAILURE: &str = "SignerValidationFailure";

struct State {
    client: Client,
    signer: Arc<dyn CsrSigner>,
    backoff: Backoff,
}

/// Runs the controller until aborted (at once when there is no signer).
pub async fn run(ctx: Context) -> Result<()> {
    let Some(signer) = ctx.csr_signer.clone() else {
        tracing::info!("csrsigning: no CSR signer configured; not signing");
        return Ok(());
    };
    let api: Api<CertificateSigningRequest> = Api::all(ctx.client.clone());
    let state = Arc::new(State {
        client: ctx.client.clone(),
        signer,
        backoff: Backoff::default(),
    });
    Controller::new(api, watcher::Config::default())
        .run(reconcile, error_policy, state)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "csrsigning");
            }
        })
        .await;
    Ok(())
}

/// Whether the signer issues client (true) or serving (false)
/// certificates; None for signers this controller does not serve.
pub fn client_signer(signer_name: &str) -> Option<bool> {
    match signer_name {
        KUBE_APISERVER_CLIENT_SIGNER | KUBE_APISERVER_CLIENT_KUBELET_SIGNER => Some(true),
        KUBELET_SERVING_SIGNER => Some(false),
        _ => None,
    }
}

/// The signer's rules for a request (upstream's `isRequestForSignerFn`).
pub fn check_request(csr: &CertificateSigningRequest) -> Result<(), String> {
    let req = parse_csr(&csr.spec.request.0).map_err(|e| e.to_string())?;
    match csr.spec.signer_name.as_str() {
        KUBELET_SERVING_SIGNER => {
            validate_kubelet_serving_csr(&req, usages(csr)).map_err(|e| e.to_string())
        }
        KUBE_APISERVER_CLIENT_KUBELET_SIGNER => {
            validate_kubelet_client_csr(&req, usages(csr)).map_err(|e| e.to_string())
        }
        KUBE_APISERVER_CLIENT_SIGNER => api_server_client_usages(usages(csr)),
        other => Err(format!("unrecognized signerName: {other}")),
    }
}

/// Upstream's `validAPIServerClientUsages`: client auth, optionally
/// digital signature and key encipherment, nothing else.
fn api_server_client_usages<'a>(usages: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut client_auth = false;
    for u in usages {
        match u {
            "digital signature" | "key encipherment" => {}
            "client auth" => client_auth = true,
            other => return Err(format!("invalid usage for client certificate: {other}")),
        }
    }
    if client_auth {
        Ok(())
    } else {
        Err("missing required usage for client certificate: client auth".into())
    }
}

/// The lifetime of the certificate: the requested one within
/// [`MIN_DURATION`] and [`DEFAULT_DURATION`], else the default.
pub fn duration(expiration_seconds: Option<i32>) -> Duration {
    match expiration_seconds {
        None => DEFAULT_DURATION,
        Some(s) => {
            Duration::from_secs(u64::try_from(s).unwrap_or(0)).clamp(MIN_DURATION, DEFAULT_DURATION)
        }
    }
}

async fn reconcile(csr: Arc<CertificateSigningRequest>, state: Arc<State>) -> Result<Action> {
    let name = csr.name_any();
    let (approved, denied) = approval(&csr);
    let Some(client) = client_signer(&csr.spec.signer_name) else {
        return Ok(Action::await_change());
    };
    if has_certificate(&csr) || !approved || denied || has_true_condition(&csr, FAILED) {
        state.backoff.reset(&name);
        return Ok(Action::await_change());
    }
    let api = Api::<CertificateSigningRequest>::all(state.client.clone());
    let mut update = (*csr).clone();
    let status = update
        .status
        .get_or_insert_with(CertificateSigningRequestStatus::default);
    if let Err(message) = check_request(&csr) {
        status
            .conditions
            .get_or_insert_with(Vec::new)
            .push(CertificateSigningRequestCondition {
                type_: FAILED.into(),
                status: "True".into(),
                reason: Some(REASON_VALIDATION_FAILURE.into()),
                message: Some(message.clone()),
                last_update_time: Some(Time(k8s_openapi::jiff::Timestamp::now())),
                ..Default::default()
            });
        api.replace_status(&name, &PostParams::default(), &update)
            .await
            .map_err(|e| Error::Invalid(format!("error adding failure condition for csr: {e}")))?;
        tracing::info!(csr = %name, %message, "csr failed its signer's checks");
        return Ok(Action::await_change());
    }
    let pem = String::from_utf8_lossy(&csr.spec.request.0).into_owned();
    let validity = duration(csr.spec.expiration_seconds);
    let cert = state
        .signer
        .sign(&pem, client, validity)
        .map_err(|e| Error::Invalid(format!("error auto signing csr: {e}")))?;
    status.certificate = Some(ByteString(cert.into_bytes()));
    api.replace_status(&name, &PostParams::default(), &update)
        .await
        .map_err(|e| Error::Invalid(format!("error updating signature for csr: {e}")))?;
    tracing::info!(csr = %name, ?validity, "csr signed");
    state.backoff.reset(&name);
    Ok(Action::await_change())
}

fn error_policy(csr: Arc<CertificateSigningRequest>, e: &Error, state: Arc<State>) -> Action {
    let name = csr.name_any();
    let delay = state.backoff.next(&name);
    tracing::info!(csr = %name, error = %e, ?delay, "csrsigning: retrying");
    Action::requeue(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_clamped() {
        assert_eq!(duration(None), DEFAULT_DURATION);
        assert_eq!(duration(Some(60)), MIN_DURATION);
        assert_eq!(duration(Some(-5)), MIN_DURATION);
        assert_eq!(duration(Some(3600)), Duration::from_secs(3600));
        assert_eq!(duration(Some(i32::MAX)), DEFAULT_DURATION);
    }

    #[test]
    fn signers_and_client_usages() {
        assert_eq!(client_signer(KUBE_APISERVER_CLIENT_SIGNER), Some(true));
        assert_eq!(
            client_signer(KUBE_APISERVER_CLIENT_KUBELET_SIGNER),
            Some(true)
        );
        assert_eq!(client_signer(KUBELET_SERVING_SIGNER), Some(false));
        assert_eq!(client_signer("example.com/mine"), None);
        assert_eq!(
            api_server_client_usages(["client auth", "digital signature"].into_iter()),
            Ok(())
        );
        assert_eq!(
            api_server_client_usages(["digital signature"].into_iter()),
            Err("missing required usage for client certificate: client auth".into())
        );
        assert_eq!(
            api_server_client_usages(["client auth", "server auth"].into_iter()),
            Err("invalid usage for client certificate: server auth".into())
        );
    }
}

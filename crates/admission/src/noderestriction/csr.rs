//! A node's certificate signing requests: for the kubelet signers, the
//! subject must be the node itself (`CN=system:node:<name>`).

use base64::Engine;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use super::Ctx;
use crate::error::AdmissionError;
use crate::json::str_or_empty;
use crate::request::Operation;

/// The kubelet serving-certificate signer.
pub const KUBELET_SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";
/// The kubelet client-certificate signer.
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";

pub(super) fn admit_csr(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    if ctx.req.operation != Operation::Create {
        return Ok(());
    }
    let csr = ctx.new_obj()?;
    let signer = str_or_empty(csr, &["spec", "signerName"]);
    if signer != KUBELET_SERVING_SIGNER && signer != KUBELET_CLIENT_SIGNER {
        return Ok(());
    }
    let cn = common_name(str_or_empty(csr, &["spec", "request"]))
        .map_err(|e| ctx.forbidden(format!("unable to parse csr: {e}")))?;
    let want = format!("system:node:{}", ctx.node);
    if cn != want {
        return Err(ctx.forbidden(format!("can only create a node CSR with CN={want}")));
    }
    Ok(())
}

/// The subject common name of a CSR as the API carries it (base64 of a
/// PEM `CERTIFICATE REQUEST`); the last CN wins, as in Go.
fn common_name(request_b64: &str) -> Result<String, String> {
    let pem = base64::engine::general_purpose::STANDARD
        .decode(request_b64.trim())
        .map_err(|e| e.to_string())?;
    let block = match x509_parser::pem::parse_x509_pem(&pem) {
        Ok((_, block)) if block.label == "CERTIFICATE REQUEST" => block,
        _ => return Err("PEM block type must be CERTIFICATE REQUEST".into()),
    };
    let (_, req) =
        X509CertificationRequest::from_der(&block.contents).map_err(|e| e.to_string())?;
    let cn = req
        .certification_request_info
        .subject
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .last()
        .unwrap_or("")
        .to_string();
    Ok(cn)
}

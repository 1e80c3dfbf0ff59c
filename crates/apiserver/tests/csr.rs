//! CertificateSigningRequests through the REST API: create with a real
//! PKCS#10 request, 422s for bad ones, approval through `/approval`, the
//! certificate through `/status`, and what each path may not change (the
//! main resource neither spec nor status, `/status` not the approval,
//! `/approval` not the certificate); discovery and OpenAPI name the
//! resource and its subresources.

#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::StatusCode;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use serde_json::{Value, json};
use support::Server;

const CSRS: &str = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

fn request_pem(cn: &str) -> String {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let key = KeyPair::generate().unwrap();
    params.serialize_request(&key).unwrap().pem().unwrap()
}

fn certificate_pem() -> String {
    let key = KeyPair::generate().unwrap();
    CertificateParams::new(vec!["alice".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem()
}

fn b64(s: &str) -> String {
    STANDARD.encode(s.as_bytes())
}

fn csr(name: &str) -> Value {
    json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": b64(&request_pem("alice")),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["digital signature", "client auth"],
            "expirationSeconds": 3600,
        },
    })
}

fn condition_types(obj: &Value) -> Vec<&str> {
    obj["status"]["conditions"]
        .as_array()
        .map(|c| c.iter().map(|c| c["type"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn create_approve_and_issue() {
    let s = Server::start().await;
    let mut body = csr("alice");
    // Nobody creates a pre-approved request.
    body["status"] = json!({"conditions": [{"type": "Approved", "status": "True"}]});
    let (code, created) = s.call("POST", CSRS, Some(body)).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], json!({}));
    assert!(created["metadata"].get("namespace").is_none());
    let item = format!("{CSRS}/alice");

    // The main resource cannot approve.
    let mut update = created.clone();
    update["status"] = json!({"conditions": [{"type": "Approved", "status": "True"}]});
    update["metadata"]["labels"] = json!({"team": "a"});
    let (code, updated) = s.call("PUT", &item, Some(update)).await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert_eq!(updated["status"], json!({}));
    assert_eq!(updated["metadata"]["labels"]["team"], "a");

    // Nor can /status.
    let mut update = updated.clone();
    update["status"] = json!({"conditions": [{"type": "Approved", "status": "True"}]});
    let (code, updated) = s.call("PUT", &format!("{item}/status"), Some(update)).await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert!(condition_types(&updated).is_empty(), "{updated}");

    // /approval can (kubectl certificate approve PUTs the object).
    let mut approve = updated.clone();
    approve["status"] = json!({"conditions": [{"type": "Approved", "status": "True",
        "reason": "KubectlApprove", "message": "approved by test"}]});
    approve["status"]["certificate"] = json!(b64(&certificate_pem()));
    let (code, approved) = s
        .call("PUT", &format!("{item}/approval"), Some(approve))
        .await;
    assert_eq!(code, StatusCode::OK, "{approved}");
    assert_eq!(condition_types(&approved), ["Approved"]);
    let cond = &approved["status"]["conditions"][0];
    assert_eq!(cond["reason"], "KubectlApprove");
    assert!(cond["lastUpdateTime"].is_string() && cond["lastTransitionTime"].is_string());
    // ... but not issue a certificate.
    assert!(
        approved["status"].get("certificate").is_none(),
        "{approved}"
    );
    let (code, got) = s.call("GET", &format!("{item}/approval"), None).await;
    assert_eq!(
        (code, condition_types(&got)),
        (StatusCode::OK, vec!["Approved"])
    );

    // The signer writes the certificate through /status; the approval stays.
    let cert = b64(&certificate_pem());
    let mut signed = approved.clone();
    signed["status"]["certificate"] = json!(cert);
    signed["status"]["conditions"] = json!([]);
    let (code, signed) = s.call("PUT", &format!("{item}/status"), Some(signed)).await;
    assert_eq!(code, StatusCode::OK, "{signed}");
    assert_eq!(signed["status"]["certificate"], cert);
    assert_eq!(condition_types(&signed), ["Approved"]);

    // An issued certificate never changes, and approval is never taken back.
    let mut again = signed.clone();
    again["status"]["certificate"] = json!(b64(&certificate_pem()));
    let (code, e) = s.call("PUT", &format!("{item}/status"), Some(again)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains(
            "status.certificate: Forbidden: updates may not modify existing certificate content"
        ),
        "{e}"
    );
    let (code, e) = s
        .patch(
            &format!("{item}/approval"),
            "application/merge-patch+json",
            r#"{"status": {"conditions": null}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains(r#"updates may not remove a condition of type "Approved""#),
        "{e}"
    );
}

#[tokio::test]
async fn approval_by_patch_and_denial() {
    let s = Server::start().await;
    let (code, _) = s.call("POST", CSRS, Some(csr("bob"))).await;
    assert_eq!(code, StatusCode::CREATED);
    let item = format!("{CSRS}/bob/approval");
    let (code, denied) = s
        .patch(
            &item,
            "application/merge-patch+json",
            r#"{"status": {"conditions": [{"type": "Denied", "status": "True", "reason": "No"}]}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{denied}");
    assert_eq!(condition_types(&denied), ["Denied"]);
    let (code, e) = s
        .patch(
            &item,
            "application/json-patch+json",
            r#"[{"op": "add", "path": "/status/conditions/-", "value": {"type": "Approved", "status": "True"}}]"#,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Approved and Denied conditions are mutually exclusive"),
        "{e}"
    );
    let (code, e) = s.patch(&item, "application/apply-patch+yaml", "{}").await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
}

#[tokio::test]
async fn bad_requests_are_invalid() {
    let s = Server::start().await;
    let mut bad = csr("bad");
    bad["spec"]["request"] = json!(b64("not a request"));
    bad["spec"]["signerName"] = json!("nodomain");
    bad["spec"]["usages"] = json!(["client auth", "flying"]);
    bad["spec"]["expirationSeconds"] = json!(60);
    let (code, e) = s.call("POST", CSRS, Some(bad)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<&str> = e["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "spec.request",
            "spec.usages[1]",
            "spec.signerName",
            "spec.expirationSeconds"
        ]
    );
    assert_eq!(e["details"]["kind"], "CertificateSigningRequest");
    assert_eq!(e["details"]["group"], "certificates.k8s.io");
    // The spec of a request never changes: an update keeps the spec it
    // was created with, as upstream's strategy does.
    let (code, created) = s.call("POST", CSRS, Some(csr("good"))).await;
    assert_eq!(code, StatusCode::CREATED);
    let mut changed = created.clone();
    changed["spec"]["usages"] = json!(["client auth"]);
    let (code, e) = s.call("PUT", &format!("{CSRS}/good"), Some(changed)).await;
    assert_eq!(code, StatusCode::OK, "{e}");
    assert_eq!(e["spec"]["usages"], created["spec"]["usages"]);
}

#[tokio::test]
async fn discovery_and_openapi_know_the_resource() {
    let s = Server::start().await;
    let (code, list) = s.call("GET", "/apis/certificates.k8s.io/v1", None).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "certificatesigningrequests",
            "certificatesigningrequests/approval",
            "certificatesigningrequests/status"
        ]
    );
    assert_eq!(list["resources"][0]["shortNames"], json!(["csr"]));
    assert_eq!(list["resources"][0]["namespaced"], false);
    let (code, doc) = s
        .call("GET", "/openapi/v3/apis/certificates.k8s.io/v1", None)
        .await;
    assert_eq!(code, StatusCode::OK, "{doc}");
    assert!(
        doc["paths"]
            .get("/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval")
            .is_some()
    );
}

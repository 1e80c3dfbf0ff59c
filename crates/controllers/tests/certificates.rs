//! The CSR approver and signer against a real API server, with a test CA
//! behind the signer: a kubelet's client request is approved and signed
//! on its own; a request for the API server client signer waits for a
//! person's approval, then is signed; a denied request is never signed;
//! a request its signer refuses fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ironclad_controllers::{Config, Context, CsrSigner};
use ironclad_testkit::{TestCluster, eventually};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, IsCa, Issuer, KeyPair, SanType,
};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(20);

/// One call of the signer.
#[derive(Debug, Clone)]
struct Call {
    csr_pem: String,
    client: bool,
    validity: Duration,
    cert: String,
}

/// Signs with a throwaway CA and remembers what it was asked.
struct TestSigner {
    issuer: Issuer<'static, KeyPair>,
    calls: Mutex<Vec<Call>>,
}

impl TestSigner {
    fn new() -> TestSigner {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "test-ca");
        TestSigner {
            issuer: Issuer::new(params, KeyPair::generate().unwrap()),
            calls: Mutex::new(Vec::new()),
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

impl CsrSigner for TestSigner {
    fn sign(&self, csr_pem: &str, client: bool, validity: Duration) -> Result<String, String> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(|e| e.to_string())?;
        let cert = csr
            .signed_by(&self.issuer)
            .map_err(|e| e.to_string())?
            .pem();
        self.calls.lock().unwrap().push(Call {
            csr_pem: csr_pem.to_string(),
            client,
            validity,
            cert: cert.clone(),
        });
        Ok(cert)
    }
}

async fn start() -> (TestCluster, Client, Arc<TestSigner>) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let signer = Arc::new(TestSigner::new());
    let ctx = Context::new(client.clone(), Config::default()).with_csr_signer(signer.clone());
    tokio::spawn(ironclad_controllers::certificates::approver::run(
        ctx.clone(),
    ));
    tokio::spawn(ironclad_controllers::certificates::signer::run(ctx));
    (cluster, client, signer)
}

fn request(cn: &str, orgs: &[&str], sans: Vec<SanType>) -> String {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    for o in orgs {
        dn.push(DnType::OrganizationName, *o);
    }
    params.distinguished_name = dn;
    params.subject_alt_names = sans;
    let key = KeyPair::generate().unwrap();
    params.serialize_request(&key).unwrap().pem().unwrap()
}

/// Creates a CSR as the requester `extra` names (`username`, `groups`):
/// the API server records who asks, whatever the body says.
async fn create(
    cluster: &TestCluster,
    name: &str,
    pem: &str,
    signer: &str,
    usages: &[&str],
    extra: Value,
) -> CertificateSigningRequest {
    let user = extra
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("admin");
    // People without groups ask as administrators (they may create CSRs).
    let groups: Vec<&str> = extra
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| vec!["system:masters"]);
    let api: Api<CertificateSigningRequest> = Api::all(cluster.client_as(user, &groups).unwrap());
    let mut spec = json!({
        "request": STANDARD.encode(pem.as_bytes()),
        "signerName": signer,
        "usages": usages,
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    let body = json!({"metadata": {"name": name}, "spec": spec});
    api.create(
        &PostParams::default(),
        &serde_json::from_value(body).unwrap(),
    )
    .await
    .unwrap()
}

async fn set_condition(api: &Api<CertificateSigningRequest>, name: &str, t: &str) {
    api.patch_approval(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"conditions": [
            {"type": t, "status": "True", "reason": "Test", "message": "by the test"}]}})),
    )
    .await
    .unwrap();
}

fn certificate(csr: &CertificateSigningRequest) -> Option<String> {
    csr.status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .map(|c| String::from_utf8(c.0.clone()).unwrap())
}

async fn signed(api: &Api<CertificateSigningRequest>, name: &str) -> CertificateSigningRequest {
    eventually(&format!("{name} to be signed"), DEADLINE, || async {
        let csr = api.get(name).await.unwrap();
        certificate(&csr).is_some().then_some(csr)
    })
    .await
}

fn condition<'a>(
    csr: &'a CertificateSigningRequest,
    t: &str,
) -> Option<&'a k8s_openapi::api::certificates::v1::CertificateSigningRequestCondition> {
    csr.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == t)
}

const KUBELET_CLIENT: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const API_CLIENT: &str = "kubernetes.io/kube-apiserver-client";
const KUBELET_USAGES: &[&str] = &["digital signature", "key encipherment", "client auth"];

#[tokio::test]
async fn a_kubelet_client_request_is_approved_and_signed() {
    let (cluster, client, signer) = start().await;
    let api: Api<CertificateSigningRequest> = Api::all(client);
    let pem = request("system:node:n1", &["system:nodes"], Vec::new());
    create(
        &cluster,
        "node-csr-1",
        &pem,
        KUBELET_CLIENT,
        KUBELET_USAGES,
        json!({"username": "system:bootstrap:abc123", "groups": ["system:bootstrappers"],
               "expirationSeconds": 7200}),
    )
    .await;
    let csr = signed(&api, "node-csr-1").await;
    let approved = condition(&csr, "Approved").expect("approved");
    assert_eq!(approved.status, "True");
    assert_eq!(approved.reason.as_deref(), Some("AutoApproved"));
    assert_eq!(
        approved.message.as_deref(),
        Some("Auto approving kubelet client certificate after SubjectAccessReview.")
    );
    let calls = signer.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].csr_pem, pem);
    assert!(calls[0].client);
    assert_eq!(calls[0].validity, Duration::from_secs(7200));
    assert_eq!(certificate(&csr).unwrap(), calls[0].cert);

    // A node renewing its own certificate is approved as itself.
    create(
        &cluster,
        "node-csr-2",
        &request("system:node:n1", &["system:nodes"], Vec::new()),
        KUBELET_CLIENT,
        &["digital signature", "client auth"],
        json!({"username": "system:node:n1", "groups": ["system:nodes"]}),
    )
    .await;
    let csr = signed(&api, "node-csr-2").await;
    assert_eq!(
        condition(&csr, "Approved").unwrap().message.as_deref(),
        Some("Auto approving self kubelet client certificate after SubjectAccessReview.")
    );
    // No expirationSeconds: the default year.
    assert_eq!(
        signer.calls()[1].validity,
        Duration::from_secs(365 * 24 * 3600)
    );
}

#[tokio::test]
async fn other_requests_wait_for_a_person() {
    let (cluster, client, signer) = start().await;
    let api: Api<CertificateSigningRequest> = Api::all(client);
    let alice = request("alice", &["devs"], Vec::new());
    create(
        &cluster,
        "alice",
        &alice,
        API_CLIENT,
        &["digital signature", "client auth"],
        json!({"username": "alice", "expirationSeconds": 60 * 60}),
    )
    .await;
    // A kubelet's request made after it is approved and signed; alice's
    // is still pending.
    create(
        &cluster,
        "marker",
        &request("system:node:m", &["system:nodes"], Vec::new()),
        KUBELET_CLIENT,
        KUBELET_USAGES,
        json!({"username": "system:bootstrap:x", "groups": ["system:bootstrappers"]}),
    )
    .await;
    signed(&api, "marker").await;
    let pending = api.get("alice").await.unwrap();
    assert!(condition(&pending, "Approved").is_none(), "{pending:?}");
    assert!(certificate(&pending).is_none());

    set_condition(&api, "alice", "Approved").await;
    let csr = signed(&api, "alice").await;
    let approved = condition(&csr, "Approved").unwrap();
    assert_eq!(approved.reason.as_deref(), Some("Test"));
    let call = signer
        .calls()
        .into_iter()
        .find(|c| c.csr_pem == alice)
        .unwrap();
    assert!(call.client);
    assert_eq!(call.validity, Duration::from_secs(3600));

    // A kubelet's serving certificate is a server certificate.
    let serving = request(
        "system:node:n1",
        &["system:nodes"],
        vec![SanType::IpAddress("10.0.0.1".parse().unwrap())],
    );
    create(
        &cluster,
        "serving",
        &serving,
        "kubernetes.io/kubelet-serving",
        &["digital signature", "server auth"],
        json!({"username": "system:node:n1", "groups": ["system:nodes"]}),
    )
    .await;
    set_condition(&api, "serving", "Approved").await;
    signed(&api, "serving").await;
    let call = signer
        .calls()
        .into_iter()
        .find(|c| c.csr_pem == serving)
        .unwrap();
    assert!(!call.client);
}

#[tokio::test]
async fn denied_requests_are_never_signed() {
    let (cluster, client, signer) = start().await;
    let api: Api<CertificateSigningRequest> = Api::all(client);
    let bob = request("bob", &[], Vec::new());
    create(
        &cluster,
        "bob",
        &bob,
        API_CLIENT,
        &["client auth"],
        json!({"username": "bob"}),
    )
    .await;
    set_condition(&api, "bob", "Denied").await;
    // A request approved after the denial is signed: the signer has seen
    // bob's by then.
    create(
        &cluster,
        "carol",
        &request("carol", &[], Vec::new()),
        API_CLIENT,
        &["client auth"],
        json!({"username": "carol"}),
    )
    .await;
    set_condition(&api, "carol", "Approved").await;
    signed(&api, "carol").await;
    let bob_now = api.get("bob").await.unwrap();
    assert!(certificate(&bob_now).is_none());
    assert!(condition(&bob_now, "Denied").is_some());
    assert!(signer.calls().iter().all(|c| c.csr_pem != bob));
}

#[tokio::test]
async fn a_request_its_signer_refuses_fails() {
    let (cluster, client, signer) = start().await;
    let api: Api<CertificateSigningRequest> = Api::all(client);
    // For the kubelet client signer, but not a node's: never auto-approved.
    create(
        &cluster,
        "impostor",
        &request("alice", &[], Vec::new()),
        KUBELET_CLIENT,
        KUBELET_USAGES,
        json!({"username": "alice"}),
    )
    .await;
    set_condition(&api, "impostor", "Approved").await;
    let csr = eventually("impostor to fail", DEADLINE, || async {
        let csr = api.get("impostor").await.unwrap();
        condition(&csr, "Failed").is_some().then_some(csr)
    })
    .await;
    let failed = condition(&csr, "Failed").unwrap();
    assert_eq!(failed.status, "True");
    assert_eq!(failed.reason.as_deref(), Some("SignerValidationFailure"));
    assert_eq!(
        failed.message.as_deref(),
        Some("subject organization is not system:nodes")
    );
    assert!(certificate(&csr).is_none());
    // An API server client request with a server usage fails too.
    create(
        &cluster,
        "wrong-usage",
        &request("dave", &[], Vec::new()),
        API_CLIENT,
        &["client auth", "server auth"],
        json!({"username": "dave"}),
    )
    .await;
    set_condition(&api, "wrong-usage", "Approved").await;
    let csr = eventually("wrong-usage to fail", DEADLINE, || async {
        let csr = api.get("wrong-usage").await.unwrap();
        condition(&csr, "Failed").cloned()
    })
    .await;
    assert_eq!(
        csr.message.as_deref(),
        Some("invalid usage for client certificate: server auth")
    );
    assert!(signer.calls().is_empty());
}

//! Certificates from this crate in a real mutual-TLS handshake (rustls,
//! webpki verification on both sides), over an in-memory pipe.

#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use ironclad_pki::{Ca, CertInfo, Issued, LeafSpec, Usage, serving_spec};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const DAY: Duration = Duration::from_secs(86_400);

fn install_provider() {
    // Another test may have installed it already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn roots(ca: &Ca) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.cert_pem().as_bytes()).unwrap())
        .unwrap();
    Arc::new(roots)
}

fn chain(issued: &Issued) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    (
        vec![CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap()],
        PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap(),
    )
}

/// Runs one handshake; on success returns what the server saw of the
/// client certificate.
async fn handshake(
    server_ca: &Ca,
    server_cert: &Issued,
    client_ca: &Ca,
    client_cert: &Issued,
    name: &str,
) -> Result<CertInfo, String> {
    let verifier = WebPkiClientVerifier::builder(roots(server_ca))
        .build()
        .unwrap();
    let (certs, key) = chain(server_cert);
    let server = ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    let (certs, key) = chain(client_cert);
    let client = ClientConfig::builder()
        .with_root_certificates(roots(client_ca))
        .with_client_auth_cert(certs, key)
        .unwrap();

    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let connector = TlsConnector::from(Arc::new(client));
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let server_task = tokio::spawn(async move {
        let mut tls = acceptor
            .accept(server_io)
            .await
            .map_err(|e| e.to_string())?;
        let peer = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first().cloned())
            .ok_or("no client certificate")?;
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        tls.write_all(b"pong").await.map_err(|e| e.to_string())?;
        tls.shutdown().await.map_err(|e| e.to_string())?;
        CertInfo::from_der(&peer).map_err(|e| e.to_string())
    });
    let client_result = async {
        let mut tls = connector
            .connect(server_name, client_io)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(buf)
    }
    .await;
    let server_result = server_task.await.map_err(|e| e.to_string())?;
    match (client_result, server_result) {
        (Ok(buf), Ok(info)) if &buf == b"pong" => Ok(info),
        (Err(e), _) | (_, Err(e)) => Err(e),
        (Ok(_), Ok(_)) => Err("bad reply".into()),
    }
}

fn serving(ca: &Ca) -> Issued {
    let spec = serving_spec(&[], "10.96.0.1".parse().unwrap(), &[]);
    ca.issue(&LeafSpec {
        common_name: spec.common_name,
        organizations: vec![],
        dns_names: spec.dns_names,
        ips: spec.ips,
        usage: Usage::Server,
        validity: DAY,
    })
    .unwrap()
}

#[tokio::test]
async fn mutual_tls_accepts_our_certificates_and_sees_the_groups() {
    install_provider();
    let ca = Ca::generate("ironclad-ca", 10 * DAY).unwrap();
    let server = serving(&ca);
    let groups = vec!["system:masters".to_string(), "dev".to_string()];
    let client = ca.issue(&LeafSpec::client("alice", &groups, DAY)).unwrap();
    for name in [
        "kubernetes.default.svc",
        "kubernetes",
        "localhost",
        "127.0.0.1",
        "::1",
        "10.96.0.1",
    ] {
        let seen = handshake(&ca, &server, &ca, &client, name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(seen.common_name, "alice");
        assert_eq!(seen.organizations, groups);
    }
}

#[tokio::test]
async fn csr_signed_client_certificate_works_too() {
    install_provider();
    let ca = Ca::generate("ironclad-ca", 10 * DAY).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "system:node:n1");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "system:nodes");
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let cert_pem = ca.sign_csr(&csr, Usage::Client, DAY).unwrap();
    let client = Issued {
        not_after: CertInfo::from_pem(&cert_pem).unwrap().not_after,
        cert_pem,
        key_pem: key.serialize_pem(),
    };
    let seen = handshake(&ca, &serving(&ca), &ca, &client, "localhost")
        .await
        .unwrap();
    assert_eq!(seen.common_name, "system:node:n1");
    assert_eq!(seen.organizations, ["system:nodes"]);
}

#[tokio::test]
async fn mutual_tls_refuses_wrong_ca_usage_or_name() {
    install_provider();
    let ca = Ca::generate("ironclad-ca", 10 * DAY).unwrap();
    let other = Ca::generate("ironclad-ca", 10 * DAY).unwrap();
    let server = serving(&ca);
    let client = ca.issue(&LeafSpec::client("alice", &[], DAY)).unwrap();

    // A client certificate from another CA with the same name.
    let foreign = other.issue(&LeafSpec::client("alice", &[], DAY)).unwrap();
    assert!(
        handshake(&ca, &server, &ca, &foreign, "localhost")
            .await
            .is_err()
    );
    // The client trusts another CA.
    assert!(
        handshake(&ca, &server, &other, &client, "localhost")
            .await
            .is_err()
    );
    // A serving certificate is not a client certificate, and the reverse.
    assert!(
        handshake(&ca, &server, &ca, &server, "localhost")
            .await
            .is_err()
    );
    assert!(
        handshake(&ca, &client, &ca, &client, "localhost")
            .await
            .is_err()
    );
    // A name the serving certificate does not cover.
    assert!(
        handshake(&ca, &server, &ca, &client, "example.com")
            .await
            .is_err()
    );
    assert!(
        handshake(&ca, &server, &ca, &client, "10.96.0.2")
            .await
            .is_err()
    );
}

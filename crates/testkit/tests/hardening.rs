//! Bad input at the front door: malformed, expired and foreign
//! certificates, garbage tokens, oversized headers and slow clients each
//! get a clear refusal, and the server keeps answering everyone else.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::sync::Arc;
use std::time::{Duration, Instant};

use ironclad_pki::{Ca, Credential, LeafSpec, Usage};
use ironclad_testkit::{Options, TestCluster, client_from};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The admin can still list namespaces.
async fn still_serves(cluster: &TestCluster) {
    let ns: Api<Namespace> = Api::all(cluster.client().unwrap());
    ns.get("default").await.unwrap();
}

fn status_code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(s) => s.code,
        other => panic!("expected an API error, got {other}"),
    }
}

/// A client certificate signed by the cluster CA but expired yesterday.
fn expired_cert(cluster: &TestCluster) -> (String, String) {
    let ca = cluster.ca().unwrap();
    let ca_key = rcgen::KeyPair::from_pem(ca.key_pem()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(ca.cert_pem(), ca_key).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "late");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(10);
    params.not_after = now - time::Duration::days(1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn bad_credentials_get_401_and_the_server_stays_up() {
    let cluster = TestCluster::start().await.unwrap();

    // No credentials at all.
    let anon =
        client_from(&cluster.kubeconfig_with("nobody", Credential::Token(String::new()))).unwrap();
    let err = Api::<Namespace>::all(anon)
        .list(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(status_code(err), 401);

    // Garbage, malformed and forged tokens.
    let junk = "x".repeat(8000);
    for token in [
        "garbage",
        "a.b.c",
        "abcdef.0123456789abcdef",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06YWRtaW4ifQ.",
        junk.as_str(),
    ] {
        let c = cluster.client_with_token(token).unwrap();
        let err = Api::<Namespace>::all(c)
            .list(&Default::default())
            .await
            .unwrap_err();
        assert_eq!(status_code(err), 401, "token {token:.20}");
    }

    // A certificate from another CA, even one claiming system:masters.
    let other = Ca::generate("elsewhere", Duration::from_secs(3600)).unwrap();
    let forged = other
        .issue(&LeafSpec {
            common_name: "mallory".into(),
            organizations: vec!["system:masters".into()],
            dns_names: Vec::new(),
            ips: Vec::new(),
            usage: Usage::Client,
            validity: Duration::from_secs(3600),
        })
        .unwrap();
    let c = client_from(&cluster.kubeconfig_with(
        "mallory",
        Credential::ClientCert {
            cert_pem: forged.cert_pem,
            key_pem: forged.key_pem,
        },
    ))
    .unwrap();
    let err = Api::<Namespace>::all(c)
        .list(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(status_code(err), 401);

    // An expired certificate from the right CA.
    let (cert_pem, key_pem) = expired_cert(&cluster);
    let c =
        client_from(&cluster.kubeconfig_with("late", Credential::ClientCert { cert_pem, key_pem }))
            .unwrap();
    let err = Api::<Namespace>::all(c)
        .list(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(status_code(err), 401);

    still_serves(&cluster).await;
}

/// A TLS connection to the cluster as the admin, for hand-made requests.
async fn tls(cluster: &TestCluster) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(cluster.ca_pem().unwrap().as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(cluster.addr).await.unwrap();
    connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn health_needs_no_credentials_and_oversized_headers_are_refused() {
    let cluster = TestCluster::start().await.unwrap();
    let mut s = tls(&cluster).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.ends_with("ok"), "{out}");

    let mut s = tls(&cluster).await;
    let big = format!(
        "GET /api HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(2 << 20)
    );
    // The server may stop reading before the whole head is sent.
    let _ = s.write_all(big.as_bytes()).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "an oversized head must be refused: {text:.200}"
    );
    still_serves(&cluster).await;
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_others_are_served() {
    let limits = ironclad_apiserver::tls::ConnectionLimits {
        handshake_timeout: Duration::from_millis(500),
        header_read_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let cluster = TestCluster::start_with(Options {
        limits,
        ..Default::default()
    })
    .await
    .unwrap();
    // Fifty connections that never start the handshake, and one that
    // sends half a request head and stops.
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(TcpStream::connect(cluster.addr).await.unwrap());
    }
    let mut half = tls(&cluster).await;
    half.write_all(b"GET /api HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Others are served meanwhile.
    still_serves(&cluster).await;
    // And the slow ones are closed by the server, within the limits.
    let started = Instant::now();
    for mut c in idle {
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("an idle connection was never closed");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    }
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(10), half.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "a half-sent request head was never cut off");
    assert!(started.elapsed() < Duration::from_secs(10));
    still_serves(&cluster).await;
}

#[tokio::test]
async fn garbage_instead_of_tls_does_not_crash_the_server() {
    let cluster = TestCluster::start().await.unwrap();
    // A TLS record header that promises more than comes, and bytes that
    // are not TLS at all: each connection ends, the server stays.
    let mut short = TcpStream::connect(cluster.addr).await.unwrap();
    short.write_all(b"\x16\x03\x01\x00\x40\x01").await.unwrap();
    drop(short);
    // Raw bytes that are not TLS at all.
    let mut raw = TcpStream::connect(cluster.addr).await.unwrap();
    raw.write_all(b"\x16\x03\x01\xff\xffgarbage-garbage")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut buf)).await;
    still_serves(&cluster).await;
}

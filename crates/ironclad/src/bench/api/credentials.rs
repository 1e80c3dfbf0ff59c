//! Who the benchmark's client is and whom it trusts: a server URL, the CA
//! that signed the server's certificate, and a client certificate with its
//! key — read from the admin kubeconfig `ironclad server` writes, or made
//! up for the in-process servers — and the rustls configuration built from
//! them.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

/// A server and a client certificate to talk to it with.
#[derive(Clone)]
pub struct Credentials {
    /// `https://host:port`, without a trailing slash.
    pub server: String,
    /// The CA bundle the server's certificate chains to (PEM).
    pub ca_pem: String,
    /// The client certificate (PEM).
    pub cert_pem: String,
    /// Its private key (PEM).
    pub key_pem: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Reads the current context of a kubeconfig whose user has a client
    /// certificate given inline (`client-certificate-data` and
    /// `client-key-data`), as `ironclad server` writes `admin.kubeconfig`.
    pub fn from_kubeconfig(path: &Path) -> anyhow::Result<Credentials> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        Self::parse_kubeconfig(&text).with_context(|| format!("kubeconfig {}", path.display()))
    }

    fn parse_kubeconfig(text: &str) -> anyhow::Result<Credentials> {
        let doc: Value = serde_yaml_ng::from_str(text).context("not YAML")?;
        let current = doc
            .get("current-context")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .context("no current-context")?;
        let named = |list: &str, name: &str| -> anyhow::Result<Value> {
            doc.get(list)
                .and_then(Value::as_array)
                .and_then(|items| {
                    items
                        .iter()
                        .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
                })
                .and_then(|i| i.get(&list[..list.len() - 1]))
                .cloned()
                .with_context(|| format!("{list}: no entry {name:?}"))
        };
        let context = named("contexts", current)?;
        let field = |v: &Value, key: &str| -> anyhow::Result<String> {
            v.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .with_context(|| format!("no {key}"))
        };
        let cluster = named("clusters", &field(&context, "cluster")?)?;
        let user = named("users", &field(&context, "user")?)?;
        let data = |v: &Value, key: &str| -> anyhow::Result<String> {
            let bytes = STANDARD
                .decode(field(v, key)?.trim())
                .with_context(|| format!("{key} is not base64"))?;
            String::from_utf8(bytes).with_context(|| format!("{key} is not PEM text"))
        };
        Ok(Credentials {
            server: field(&cluster, "server")?.trim_end_matches('/').to_string(),
            ca_pem: data(&cluster, "certificate-authority-data")?,
            cert_pem: data(&user, "client-certificate-data")?,
            key_pem: data(&user, "client-key-data")?,
        })
    }

    /// A TLS client configuration that trusts only the CA and presents the
    /// client certificate. No ALPN: the connector sets it (HTTP/1.1).
    pub fn tls_config(&self) -> anyhow::Result<rustls::ClientConfig> {
        ironclad_apiserver::tls::install_crypto_provider();
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots
                .add(ca.context("the CA certificate")?)
                .context("the CA certificate")?;
        }
        anyhow::ensure!(!roots.is_empty(), "no CA certificate");
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .context("the client certificate")?;
        anyhow::ensure!(!chain.is_empty(), "no client certificate");
        let key =
            PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).context("the client key")?;
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .context("the client certificate and key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(user_extra: &str) -> String {
        let b = |s: &str| STANDARD.encode(s);
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: admin@c\n\
             clusters:\n- name: other\n  cluster:\n    server: https://10.0.0.1:6443\n\
             - name: c\n  cluster:\n    server: https://127.0.0.1:6443/\n    certificate-authority-data: {}\n\
             contexts:\n- name: admin@c\n  context:\n    cluster: c\n    user: admin\n\
             users:\n- name: admin\n  user:\n    client-certificate-data: {}\n{user_extra}",
            b("CA PEM"),
            b("CERT PEM"),
        )
    }

    #[test]
    fn reads_the_current_context_of_a_kubeconfig() {
        let text = kubeconfig(&format!(
            "    client-key-data: {}\n",
            STANDARD.encode("KEY")
        ));
        let c = Credentials::parse_kubeconfig(&text).unwrap();
        assert_eq!(c.server, "https://127.0.0.1:6443");
        assert_eq!(c.ca_pem, "CA PEM");
        assert_eq!(c.cert_pem, "CERT PEM");
        assert_eq!(c.key_pem, "KEY");
        assert!(!format!("{c:?}").contains("KEY\""), "{c:?}");
    }

    #[test]
    fn a_kubeconfig_without_a_client_key_is_refused() {
        let e = Credentials::parse_kubeconfig(&kubeconfig("")).unwrap_err();
        assert!(format!("{e:#}").contains("client-key-data"), "{e:#}");
        let e = Credentials::parse_kubeconfig("kind: Config\n").unwrap_err();
        assert!(format!("{e:#}").contains("current-context"), "{e:#}");
        let bad = kubeconfig("    client-key-data: '%%%'\n");
        let e = Credentials::parse_kubeconfig(&bad).unwrap_err();
        assert!(format!("{e:#}").contains("not base64"), "{e:#}");
    }

    #[test]
    fn bad_pem_is_refused_when_the_tls_configuration_is_built() {
        let c = Credentials {
            server: "https://127.0.0.1:1".into(),
            ca_pem: "not a certificate".into(),
            cert_pem: String::new(),
            key_pem: String::new(),
        };
        assert!(c.tls_config().is_err());
    }
}

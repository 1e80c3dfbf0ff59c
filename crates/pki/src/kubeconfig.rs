//! Kubeconfig files (`apiVersion: v1, kind: Config`): writing one for a
//! user, and reading the server and CA out of an existing one.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files;

/// How the user of a kubeconfig authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A client certificate and its key (both PEM), written as
    /// `client-certificate-data` / `client-key-data`.
    ClientCert {
        /// The certificate, PEM.
        cert_pem: String,
        /// The private key, PEM.
        key_pem: String,
    },
    /// A bearer token, written as `token`.
    Token(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ClientCert { cert_pem, .. } => f
                .debug_struct("ClientCert")
                .field("cert_pem", cert_pem)
                .field("key_pem", &"<redacted>")
                .finish(),
            Credential::Token(_) => f.debug_tuple("Token").field(&"<redacted>").finish(),
        }
    }
}

/// A kubeconfig with one cluster, one user and one context joining them,
/// which is also the current context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// Name of the cluster entry.
    pub cluster_name: String,
    /// API server URLs; a kubeconfig cluster entry has one server, so the
    /// first is written.
    pub servers: Vec<String>,
    /// The CA certificate that signed the server's certificate, PEM.
    pub ca_pem: String,
    /// Name of the user entry.
    pub user_name: String,
    /// The user's credential.
    pub credential: Credential,
    /// The context's default namespace, if any.
    pub namespace: Option<String>,
    /// Name of the context (and the current context).
    pub context_name: String,
}

/// The v1 Config document. Reading is lenient (unknown fields ignored,
/// most fields optional); writing produces what kubectl writes.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "null_as_default")]
    contexts: Vec<NamedContext>,
    #[serde(default)]
    current_context: String,
    #[serde(default, deserialize_with = "null_as_default")]
    users: Vec<NamedUser>,
    #[serde(default, skip_deserializing)]
    preferences: Preferences,
}

/// Accepts `null` (as `clusters: null` in some files) as empty.
fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Default, Serialize)]
struct Preferences {}

#[derive(Debug, Serialize, Deserialize)]
struct NamedCluster {
    name: String,
    #[serde(default)]
    cluster: ClusterEntry,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterEntry {
    #[serde(default)]
    server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate_authority_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate_authority: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct NamedContext {
    name: String,
    #[serde(default)]
    context: ContextEntry,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ContextEntry {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default)]
    user: UserEntry,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UserEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_certificate_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl Kubeconfig {
    /// The kubeconfig as YAML, the standard v1 Config format kubectl and
    /// client libraries read: PEM data base64-encoded in
    /// `certificate-authority-data`, `client-certificate-data` and
    /// `client-key-data` (or a `token`). Fails if there is no server or a
    /// name is empty.
    pub fn to_yaml(&self) -> Result<String> {
        let err = |reason: &str| Error::Kubeconfig {
            path: None,
            reason: reason.to_string(),
        };
        let server = self.servers.first().ok_or_else(|| err("no server URL"))?;
        if self.cluster_name.is_empty() || self.user_name.is_empty() || self.context_name.is_empty()
        {
            return Err(err("cluster, user and context names must not be empty"));
        }
        let user = match &self.credential {
            Credential::ClientCert { cert_pem, key_pem } => UserEntry {
                client_certificate_data: Some(STANDARD.encode(cert_pem)),
                client_key_data: Some(STANDARD.encode(key_pem)),
                token: None,
            },
            Credential::Token(token) => UserEntry {
                token: Some(token.clone()),
                ..UserEntry::default()
            },
        };
        let file = ConfigFile {
            api_version: "v1".into(),
            kind: "Config".into(),
            clusters: vec![NamedCluster {
                name: self.cluster_name.clone(),
                cluster: ClusterEntry {
                    server: server.clone(),
                    certificate_authority_data: Some(STANDARD.encode(&self.ca_pem)),
                    certificate_authority: None,
                },
            }],
            contexts: vec![NamedContext {
                name: self.context_name.clone(),
                context: ContextEntry {
                    cluster: self.cluster_name.clone(),
                    user: self.user_name.clone(),
                    namespace: self.namespace.clone(),
                },
            }],
            current_context: self.context_name.clone(),
            users: vec![NamedUser {
                name: self.user_name.clone(),
                user,
            }],
            preferences: Preferences {},
        };
        serde_yaml_ng::to_string(&file).map_err(|e| err(&e.to_string()))
    }

    /// Writes [`Kubeconfig::to_yaml`] to `path`, 0600, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        files::write_private(path, &self.to_yaml()?)
    }
}

/// The current context's cluster entry of a kubeconfig file, with the
/// cluster's name.
fn current_cluster(path: &Path) -> Result<(String, ClusterEntry)> {
    let err = |reason: String| Error::Kubeconfig {
        path: Some(path.to_path_buf()),
        reason,
    };
    let text = files::read(path)?;
    let file: ConfigFile =
        serde_yaml_ng::from_str(&text).map_err(|e| err(format!("cannot parse: {e}")))?;
    if file.current_context.is_empty() {
        return Err(err("no current-context".into()));
    }
    let context = file
        .contexts
        .into_iter()
        .find(|c| c.name == file.current_context)
        .ok_or_else(|| err(format!("context {:?} not found", file.current_context)))?;
    let name = context.context.cluster;
    file.clusters
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| (c.name, c.cluster))
        .ok_or_else(|| err(format!("cluster {name:?} not found")))
}

/// The server URL of the current context's cluster in the kubeconfig at
/// `path`.
pub fn server_of_kubeconfig(path: &Path) -> Result<String> {
    let (name, cluster) = current_cluster(path)?;
    if cluster.server.is_empty() {
        return Err(Error::Kubeconfig {
            path: Some(path.to_path_buf()),
            reason: format!("cluster {name:?} has no server"),
        });
    }
    Ok(cluster.server)
}

/// The name of the current context's cluster in the kubeconfig at `path`.
pub fn cluster_name_of_kubeconfig(path: &Path) -> Result<String> {
    current_cluster(path).map(|(name, _)| name)
}

/// The CA certificate (PEM) of the current context's cluster in the
/// kubeconfig at `path`: `certificate-authority-data` decoded, or the file
/// `certificate-authority` names (relative to the kubeconfig's directory).
pub fn ca_of_kubeconfig(path: &Path) -> Result<String> {
    let (name, cluster) = current_cluster(path)?;
    let err = |reason: String| Error::Kubeconfig {
        path: Some(path.to_path_buf()),
        reason,
    };
    if let Some(data) = cluster.certificate_authority_data.filter(|d| !d.is_empty()) {
        let bytes = STANDARD
            .decode(data.trim())
            .map_err(|e| err(format!("certificate-authority-data is not base64: {e}")))?;
        return String::from_utf8(bytes)
            .map_err(|_| err("certificate-authority-data is not PEM text".into()));
    }
    if let Some(file) = cluster.certificate_authority.filter(|f| !f.is_empty()) {
        let ca_path = path.parent().unwrap_or(Path::new(".")).join(file);
        return files::read(&ca_path);
    }
    Err(err(format!(
        "cluster {name:?} has no certificate authority"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sample(credential: Credential) -> Kubeconfig {
        Kubeconfig {
            cluster_name: "ironclad".into(),
            servers: vec![
                "https://10.0.0.1:6443".into(),
                "https://10.0.0.2:6443".into(),
            ],
            ca_pem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n".into(),
            user_name: "alice".into(),
            credential,
            namespace: Some("default".into()),
            context_name: "alice@ironclad".into(),
        }
    }

    fn cert_cred() -> Credential {
        Credential::ClientCert {
            cert_pem: "CERT PEM\n".into(),
            key_pem: "KEY PEM\n".into(),
        }
    }

    #[test]
    fn yaml_parses_back_with_base64_data() {
        let yaml = sample(cert_cred()).to_yaml().unwrap();
        let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["kind"], "Config");
        assert_eq!(v["current-context"], "alice@ironclad");
        let cluster = &v["clusters"][0];
        assert_eq!(cluster["name"], "ironclad");
        assert_eq!(cluster["cluster"]["server"], "https://10.0.0.1:6443");
        let b64 = |v: &serde_yaml_ng::Value| {
            String::from_utf8(STANDARD.decode(v.as_str().unwrap()).unwrap()).unwrap()
        };
        assert_eq!(
            b64(&cluster["cluster"]["certificate-authority-data"]),
            sample(cert_cred()).ca_pem
        );
        let user = &v["users"][0];
        assert_eq!(user["name"], "alice");
        assert_eq!(b64(&user["user"]["client-certificate-data"]), "CERT PEM\n");
        assert_eq!(b64(&user["user"]["client-key-data"]), "KEY PEM\n");
        assert!(user["user"].get("token").is_none());
        let ctx = &v["contexts"][0];
        assert_eq!(ctx["name"], "alice@ironclad");
        assert_eq!(ctx["context"]["cluster"], "ironclad");
        assert_eq!(ctx["context"]["user"], "alice");
        assert_eq!(ctx["context"]["namespace"], "default");
        assert_eq!(v["clusters"].as_sequence().unwrap().len(), 1);
    }

    #[test]
    fn token_credential_and_no_namespace() {
        let mut kc = sample(Credential::Token("s3cr3t".into()));
        kc.namespace = None;
        let yaml = kc.to_yaml().unwrap();
        let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(v["users"][0]["user"]["token"], "s3cr3t");
        assert!(v["users"][0]["user"].get("client-key-data").is_none());
        assert!(v["contexts"][0]["context"].get("namespace").is_none());
        assert!(!format!("{kc:?}").contains("s3cr3t"));
    }

    #[test]
    fn empty_servers_or_names_are_refused() {
        let mut kc = sample(cert_cred());
        kc.servers.clear();
        assert!(matches!(kc.to_yaml(), Err(Error::Kubeconfig { .. })));
        let mut kc = sample(cert_cred());
        kc.user_name.clear();
        assert!(kc.to_yaml().is_err());
    }

    #[test]
    fn kube_rs_reads_it() {
        let yaml = sample(cert_cred()).to_yaml().unwrap();
        let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("alice@ironclad"));
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://10.0.0.1:6443"));
        let ctx = kc.contexts[0].context.as_ref().unwrap();
        assert_eq!(ctx.namespace.as_deref(), Some("default"));
        assert_eq!(ctx.user.as_deref(), Some("alice"));
        let auth = kc.auth_infos[0].auth_info.as_ref().unwrap();
        assert!(auth.client_certificate_data.is_some());
    }

    #[tokio::test]
    async fn kube_rs_builds_a_client_from_it() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let ca =
            crate::Ca::generate("ironclad-ca", std::time::Duration::from_secs(86_400)).unwrap();
        let issued = ca
            .issue(&crate::LeafSpec::client(
                "alice",
                &["dev".into()],
                std::time::Duration::from_secs(3600),
            ))
            .unwrap();
        let mut kc = sample(Credential::ClientCert {
            cert_pem: issued.cert_pem,
            key_pem: issued.key_pem,
        });
        kc.ca_pem = ca.cert_pem().to_string();
        let parsed = kube::config::Kubeconfig::from_yaml(&kc.to_yaml().unwrap()).unwrap();
        let config = kube::Config::from_custom_kubeconfig(
            parsed,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(config.default_namespace, "default");
        assert_eq!(config.cluster_url.to_string(), "https://10.0.0.1:6443/");
        // Building the client loads the CA and the client identity into
        // rustls, which fails on a key or certificate it cannot read.
        kube::Client::try_from(config).unwrap();
    }

    #[test]
    fn written_file_is_private_and_readable_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kube/config");
        let kc = sample(cert_cred());
        kc.write(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            server_of_kubeconfig(&path).unwrap(),
            "https://10.0.0.1:6443"
        );
        assert_eq!(ca_of_kubeconfig(&path).unwrap(), kc.ca_pem);
        assert_eq!(cluster_name_of_kubeconfig(&path).unwrap(), "ironclad");
    }

    #[test]
    fn reads_the_current_context_of_a_foreign_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA FROM FILE").unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            r#"
apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: one
  cluster:
    server: https://one:6443
    certificate-authority-data: T05F
- name: two
  cluster:
    server: https://two:6443
    certificate-authority: ca.crt
    insecure-skip-tls-verify: false
contexts:
- name: a
  context: {cluster: one, user: u}
- name: b
  context: {cluster: two, user: u}
current-context: b
users:
- name: u
  user:
    exec: {command: foo}
extensions: []
"#,
        )
        .unwrap();
        assert_eq!(server_of_kubeconfig(&path).unwrap(), "https://two:6443");
        assert_eq!(ca_of_kubeconfig(&path).unwrap(), "CA FROM FILE");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("current-context: b", "current-context: a");
        std::fs::write(&path, text).unwrap();
        assert_eq!(server_of_kubeconfig(&path).unwrap(), "https://one:6443");
        assert_eq!(ca_of_kubeconfig(&path).unwrap(), "ONE");
    }

    #[test]
    fn bad_kubeconfigs_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let check = |text: &str, want: &str| {
            std::fs::write(&path, text).unwrap();
            let err = server_of_kubeconfig(&path).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(want), "{msg}");
            assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
        };
        check("clusters: null\n", "no current-context");
        check(
            "current-context: x\ncontexts: []\n",
            "context \"x\" not found",
        );
        check(
            "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n",
            "cluster \"c\" not found",
        );
        check(
            "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {}\n",
            "has no server",
        );
        check("[1, 2", "cannot parse");
        let err = ca_of_kubeconfig(&path).unwrap_err();
        assert!(matches!(err, Error::Kubeconfig { .. }));
        let missing = dir.path().join("absent");
        assert!(matches!(
            server_of_kubeconfig(&missing),
            Err(Error::Io { .. })
        ));
    }
}

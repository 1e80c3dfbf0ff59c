//! `ironclad pki issue`: a kubeconfig with a client certificate for a user.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::kubeconfig::{Credential, Kubeconfig, cluster_name_of_kubeconfig, server_of_kubeconfig};
use crate::leaf::LeafSpec;
use crate::pki_dir::PkiDir;

/// Cluster entry name used when the admin kubeconfig does not give one.
pub const DEFAULT_CLUSTER_NAME: &str = "ironclad";

/// What `ironclad pki issue --data-dir DIR --user NAME [--group G ...]
/// --kubeconfig OUT [--server URL]` does: issues a client certificate
/// (CN = `user`, one O per group) from the CA in `DIR/pki`, and writes `out`
/// (0600) as a kubeconfig whose cluster is `server` (or else the server of
/// `DIR/admin.kubeconfig`), whose user and context are named `user`, with
/// namespace `default`.
pub fn issue_user(
    data_dir: &Path,
    user: &str,
    groups: &[String],
    out: &Path,
    server: Option<&str>,
    validity: Duration,
) -> Result<()> {
    if user.is_empty() {
        return Err(Error::InvalidSpec("the user name is empty".into()));
    }
    let pki = PkiDir::new(data_dir);
    let ca = pki.read_ca()?.ok_or_else(|| Error::NoCa {
        pki_dir: pki.dir().to_path_buf(),
        data_dir: data_dir.to_path_buf(),
    })?;
    let admin = pki.admin_kubeconfig_path();
    let server = match server {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => server_of_kubeconfig(&admin).map_err(|e| Error::Kubeconfig {
            path: None,
            reason: format!(
                "no server URL given (--server) and none from {}: {e}",
                admin.display()
            ),
        })?,
    };
    let cluster_name =
        cluster_name_of_kubeconfig(&admin).unwrap_or_else(|_| DEFAULT_CLUSTER_NAME.to_string());
    let issued = ca.issue(&LeafSpec::client(user, groups, validity))?;
    Kubeconfig {
        cluster_name,
        servers: vec![server],
        ca_pem: ca.cert_pem().to_string(),
        user_name: user.to_string(),
        credential: Credential::ClientCert {
            cert_pem: issued.cert_pem,
            key_pem: issued.key_pem,
        },
        namespace: Some("default".to_string()),
        context_name: user.to_string(),
    }
    .write(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::Ca;
    use crate::cert_info::CertInfo;
    use crate::kubeconfig::ca_of_kubeconfig;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use std::os::unix::fs::PermissionsExt;

    const DAY: Duration = Duration::from_secs(86_400);

    /// A data dir with a CA (but no service-account key: issuing users only
    /// needs the CA).
    fn data_dir() -> (tempfile::TempDir, Ca) {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path());
        let ca = Ca::generate("ironclad-ca", 10 * DAY).unwrap();
        crate::files::write_public(&pki.ca_cert_path(), ca.cert_pem()).unwrap();
        crate::files::write_private(&pki.ca_key_path(), ca.key_pem()).unwrap();
        (dir, ca)
    }

    fn yaml(path: &Path) -> serde_yaml_ng::Value {
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn issues_a_kubeconfig_with_server_from_admin_kubeconfig() {
        let (dir, ca) = data_dir();
        let pki = PkiDir::new(dir.path());
        Kubeconfig {
            cluster_name: "prod".into(),
            servers: vec!["https://192.168.1.10:6443".into()],
            ca_pem: ca.cert_pem().into(),
            user_name: "admin".into(),
            credential: Credential::Token("x".into()),
            namespace: None,
            context_name: "admin".into(),
        }
        .write(&pki.admin_kubeconfig_path())
        .unwrap();

        let out = dir.path().join("alice.kubeconfig");
        let groups = vec!["dev".to_string(), "ops".to_string()];
        issue_user(dir.path(), "alice", &groups, &out, None, 30 * DAY).unwrap();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            server_of_kubeconfig(&out).unwrap(),
            "https://192.168.1.10:6443"
        );
        assert_eq!(ca_of_kubeconfig(&out).unwrap(), ca.cert_pem());
        let v = yaml(&out);
        assert_eq!(v["current-context"], "alice");
        assert_eq!(v["contexts"][0]["context"]["namespace"], "default");
        assert_eq!(v["contexts"][0]["context"]["user"], "alice");
        assert_eq!(v["contexts"][0]["context"]["cluster"], "prod");
        let cert = STANDARD
            .decode(
                v["users"][0]["user"]["client-certificate-data"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        let cert = String::from_utf8(cert).unwrap();
        assert!(ca.verify_issued(&cert));
        let info = CertInfo::from_pem(&cert).unwrap();
        assert_eq!(info.common_name, "alice");
        assert_eq!(info.organizations, groups);
        assert!(info.client_auth);
    }

    #[test]
    fn explicit_server_wins_and_no_admin_kubeconfig_is_needed() {
        let (dir, _ca) = data_dir();
        let out = dir.path().join("out/bob.kubeconfig");
        issue_user(dir.path(), "bob", &[], &out, Some("https://lb:6443"), DAY).unwrap();
        assert_eq!(server_of_kubeconfig(&out).unwrap(), "https://lb:6443");
        assert_eq!(yaml(&out)["clusters"][0]["name"], DEFAULT_CLUSTER_NAME);
    }

    #[test]
    fn clear_errors_without_ca_or_server() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.kubeconfig");
        let err = issue_user(dir.path(), "bob", &[], &out, Some("https://x"), DAY).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("no cluster CA in "), "{msg}");
        assert!(
            msg.contains(&format!(
                "start `ironclad server --data-dir {}` first",
                dir.path().display()
            )),
            "{msg}"
        );

        let (dir, _ca) = data_dir();
        let err = issue_user(dir.path(), "bob", &[], &out, None, DAY).unwrap_err();
        assert!(err.to_string().contains("no server URL given"), "{err}");
        assert!(err.to_string().contains("admin.kubeconfig"), "{err}");
        assert!(!out.exists());
        let err = issue_user(dir.path(), "", &[], &out, Some("https://x"), DAY).unwrap_err();
        assert!(matches!(err, Error::InvalidSpec(_)));
    }
}

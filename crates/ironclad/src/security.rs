//! The security configuration a server runs with, from its flags and the
//! cluster's shared secrets: authentication and authorization, encryption
//! at rest and the audit log.

use std::sync::Arc;

use anyhow::Context as _;
use ironclad_apiserver::ApiServer;
use ironclad_apiserver::encryption::{EncryptionConfig, Transformers};
use ironclad_apiserver::security::{AuthConfig, ServiceAccountKeys};
use ironclad_auth::authn::tokenfile::TokenFile;
use ironclad_auth::authz::abac::AbacPolicy;

use crate::cluster::Joined;
use crate::server::SecurityArgs;

/// What a server's flags and the cluster secrets come to.
pub struct Security {
    /// Authentication and authorization.
    pub auth: AuthConfig,
    /// Encryption at rest.
    pub transformers: Transformers,
    /// The audit log, if one is kept.
    pub audit: Option<ironclad_apiserver::audit::AuditConfig>,
}

impl Security {
    /// Reads the files the flags name; every error names its flag.
    pub fn load(args: &SecurityArgs, joined: &Joined) -> anyhow::Result<Security> {
        let mut auth = AuthConfig::new(joined.secrets.ca_cert_pem.clone());
        auth.modes = AuthConfig::parse_modes(&args.authorization_mode)
            .map_err(anyhow::Error::msg)
            .context("--authorization-mode")?;
        auth.anonymous = args.anonymous_auth;
        if let Some(path) = &args.authorization_policy_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--authorization-policy-file {}", path.display()))?;
            let policy = AbacPolicy::parse(&text)
                .with_context(|| format!("--authorization-policy-file {}", path.display()))?;
            auth.abac = Some(Arc::new(policy));
        }
        if auth
            .modes
            .contains(&ironclad_apiserver::security::AuthzMode::Abac)
            && auth.abac.is_none()
        {
            anyhow::bail!(
                "--authorization-mode has ABAC: give the policy with --authorization-policy-file"
            );
        }
        if let Some(path) = &args.token_auth_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--token-auth-file {}", path.display()))?;
            let file = TokenFile::parse(&text)
                .with_context(|| format!("--token-auth-file {}", path.display()))?;
            auth.token_file = Some(Arc::new(file));
        }
        auth.service_account = Some(ServiceAccountKeys {
            signing_key_pem: joined.secrets.sa_private_pem.clone(),
            verifying_keys_pem: vec![joined.secrets.sa_public_pem.clone()],
            issuer: args.service_account_issuer.clone(),
        });
        let encryption = match &args.encryption_provider_config {
            Some(path) => EncryptionConfig::from_file(path)
                .with_context(|| format!("--encryption-provider-config {}", path.display()))?,
            None => EncryptionConfig::default_for_key(&joined.secrets.encryption_key),
        };
        let transformers = encryption
            .transformers()
            .context("build the encryption providers")?;
        let audit = match &args.audit_log_path {
            Some(path) => Some(
                ironclad_apiserver::audit::AuditConfig::open(
                    path,
                    args.audit_policy_file.as_deref(),
                )
                .with_context(|| format!("--audit-log-path {}", path.display()))?,
            ),
            None => None,
        };
        Ok(Security {
            auth,
            transformers,
            audit,
        })
    }
}

/// Makes sure the join token authenticates as a bootstrap token: a
/// `bootstrap-token-<id>` Secret in kube-system (agents join with it).
pub async fn ensure_join_token(
    api: &ApiServer,
    token: &ironclad_pki::JoinToken,
) -> anyhow::Result<()> {
    let secret = ironclad_auth::authn::bootstrap::bootstrap_secret(
        &token.id,
        &token.secret,
        "the ironclad cluster's join token",
        &[],
        None,
    );
    let value = serde_json::to_value(secret).context("encode the join token Secret")?;
    api.ensure("", "secrets", Some("kube-system"), value)
        .await
        .context("create the join token Secret")?;
    Ok(())
}

/// The controller-manager's configuration that comes from the cluster
/// secrets: the CA it publishes in every namespace.
pub fn controller_config(joined: &Joined) -> ironclad_controllers::Config {
    ironclad_controllers::Config {
        root_ca_pem: Some(joined.secrets.ca_cert_pem.clone()),
        ..Default::default()
    }
}

/// Signs approved CertificateSigningRequests with the cluster CA.
pub struct CaSigner(pub ironclad_pki::Ca);

impl ironclad_controllers::CsrSigner for CaSigner {
    fn sign(
        &self,
        csr_pem: &str,
        client: bool,
        validity: std::time::Duration,
    ) -> Result<String, String> {
        let usage = if client {
            ironclad_pki::Usage::Client
        } else {
            ironclad_pki::Usage::Server
        };
        self.0
            .sign_csr(csr_pem, usage, validity)
            .map_err(|e| e.to_string())
    }
}

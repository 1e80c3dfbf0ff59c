//! The security configuration of an API server.

use std::str::FromStr;
use std::sync::Arc;

use ironclad_auth::authn::tokenfile::TokenFile;
use ironclad_auth::authz::abac::AbacPolicy;

/// One authorizer in `--authorization-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthzMode {
    /// Allows everything.
    AlwaysAllow,
    /// Denies everything.
    AlwaysDeny,
    /// The ABAC policy file.
    Abac,
    /// Roles and bindings.
    Rbac,
    /// The Node authorizer (kubelets).
    Node,
}

impl FromStr for AuthzMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "AlwaysAllow" => AuthzMode::AlwaysAllow,
            "AlwaysDeny" => AuthzMode::AlwaysDeny,
            "ABAC" => AuthzMode::Abac,
            "RBAC" => AuthzMode::Rbac,
            "Node" => AuthzMode::Node,
            other => {
                return Err(format!(
                    "unknown authorization mode {other:?} (known: AlwaysAllow, AlwaysDeny, ABAC, RBAC, Node)"
                ));
            }
        })
    }
}

/// The service-account key pair: the private key signs the tokens this
/// server issues (TokenRequest), the public keys verify tokens.
#[derive(Debug, Clone)]
pub struct ServiceAccountKeys {
    /// PEM private key (RSA, PKCS#8).
    pub signing_key_pem: String,
    /// PEM public keys accepted when verifying (the signing key's first).
    pub verifying_keys_pem: Vec<String>,
    /// The `iss` of issued tokens (upstream's default:
    /// `https://kubernetes.default.svc.cluster.local`).
    pub issuer: String,
}

/// Authentication and authorization of an API server.
#[derive(Clone)]
pub struct AuthConfig {
    /// The CA bundle client certificates must chain to (PEM).
    pub client_ca_pem: String,
    /// Static bearer tokens (`--token-auth-file`).
    pub token_file: Option<Arc<TokenFile>>,
    /// Service-account token keys.
    pub service_account: Option<ServiceAccountKeys>,
    /// Accept bootstrap (join) tokens kept as Secrets in kube-system.
    pub bootstrap_tokens: bool,
    /// Serve requests without credentials as `system:anonymous` (default:
    /// refused with 401, except the health endpoints).
    pub anonymous: bool,
    /// The authorizers, in order; the first that decides wins.
    pub modes: Vec<AuthzMode>,
    /// The ABAC policy (needed when `modes` has ABAC).
    pub abac: Option<Arc<AbacPolicy>>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("token_file", &self.token_file.is_some())
            .field("service_account", &self.service_account.is_some())
            .field("bootstrap_tokens", &self.bootstrap_tokens)
            .field("anonymous", &self.anonymous)
            .field("modes", &self.modes)
            .field("abac", &self.abac.is_some())
            .finish()
    }
}

impl AuthConfig {
    /// Client certificates from `client_ca_pem`, bootstrap tokens, no
    /// anonymous access, `Node,RBAC`.
    pub fn new(client_ca_pem: String) -> AuthConfig {
        AuthConfig {
            client_ca_pem,
            token_file: None,
            service_account: None,
            bootstrap_tokens: true,
            anonymous: false,
            modes: vec![AuthzMode::Node, AuthzMode::Rbac],
            abac: None,
        }
    }

    /// Parses `--authorization-mode` (comma-separated).
    pub fn parse_modes(list: &str) -> Result<Vec<AuthzMode>, String> {
        let modes: Vec<AuthzMode> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        if modes.is_empty() {
            return Err("--authorization-mode is empty".into());
        }
        Ok(modes)
    }
}

//! Authentication: a request's credentials to a user, as upstream's union
//! authenticator does — a client certificate verified against the cluster
//! CA, else a bearer token (static token file, bootstrap token,
//! service-account JWT). A request with no credentials is anonymous only
//! when that is enabled; otherwise, and for any bad credential, 401.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use http::{HeaderMap, header};
use ironclad_auth::UserInfo;
use ironclad_auth::authn::bootstrap;
use ironclad_auth::authn::serviceaccount::{ServiceAccountLookup, TokenVerifier, validate_live};
use ironclad_auth::authn::tokenfile::TokenFile;
use ironclad_auth::authn::x509::ClientCertAuthenticator;
use ironclad_store::Store;
use serde_json::Value;

use super::attributes::unauthorized;
use super::config::AuthConfig;
use crate::error::ApiError;
use crate::objects;
use crate::tls::Peer;

/// The authenticators of one server.
pub struct Authenticator {
    x509: ClientCertAuthenticator,
    tokens: Option<Arc<TokenFile>>,
    service_accounts: Option<TokenVerifier>,
    bootstrap: bool,
    anonymous: bool,
}

impl Authenticator {
    /// Builds them from the configuration.
    pub fn new(config: &AuthConfig) -> Result<Authenticator, String> {
        let x509 = ClientCertAuthenticator::new(&config.client_ca_pem)
            .map_err(|e| format!("client CA: {e}"))?;
        let service_accounts = match &config.service_account {
            Some(keys) => {
                let pems: Vec<&str> = keys.verifying_keys_pem.iter().map(String::as_str).collect();
                Some(
                    TokenVerifier::new(&pems, vec![keys.issuer.clone()], vec![keys.issuer.clone()])
                        .map_err(|e| format!("service-account keys: {e}"))?,
                )
            }
            None => None,
        };
        Ok(Authenticator {
            x509,
            tokens: config.token_file.clone(),
            service_accounts,
            bootstrap: config.bootstrap_tokens,
            anonymous: config.anonymous,
        })
    }

    /// Who the request is. Errors are 401s.
    pub async fn authenticate(
        &self,
        store: &dyn Store,
        peer: Option<&Peer>,
        headers: &HeaderMap,
    ) -> Result<UserInfo, ApiError> {
        let mut failure: Option<String> = None;
        if let Some(peer) = peer
            && let Some((leaf, rest)) = peer.certificates.split_first()
        {
            let intermediates: Vec<&[u8]> = rest.iter().map(|c| c.as_ref()).collect();
            match self
                .x509
                .authenticate(leaf.as_ref(), &intermediates, SystemTime::now())
            {
                Ok(user) => return Ok(user),
                Err(e) => failure = Some(e.to_string()),
            }
        }
        if let Some(token) = bearer(headers) {
            match self.token(store, token).await {
                Ok(Some(user)) => return Ok(user),
                Ok(None) => {}
                Err(e) => failure = Some(e),
            }
            return Err(refused(
                failure.as_deref().unwrap_or("invalid bearer token"),
            ));
        }
        if let Some(why) = failure {
            return Err(refused(&why));
        }
        if self.anonymous {
            return Ok(UserInfo::anonymous());
        }
        Err(unauthorized())
    }

    async fn token(&self, store: &dyn Store, token: &str) -> Result<Option<UserInfo>, String> {
        if let Some(file) = &self.tokens
            && let Some(user) = file.authenticate(token)
        {
            return Ok(Some(user));
        }
        if self.bootstrap
            && let Some((id, _)) = bootstrap::parse_token(token)
        {
            let secret = objects::read_core(
                store,
                "secrets",
                Some("kube-system"),
                &bootstrap::secret_name(id),
            )
            .await
            .map_err(|e| e.message)?
            .and_then(|v| serde_json::from_value(v).ok());
            return bootstrap::authenticate(token, secret.as_ref(), SystemTime::now())
                .map_err(|e| e.to_string());
        }
        if let Some(verifier) = &self.service_accounts
            && token.split('.').count() == 3
        {
            let verified = verifier
                .verify(token, SystemTime::now())
                .map_err(|e| e.to_string())?;
            validate_live(&verified, &Lookup { store })
                .await
                .map_err(|e| e.to_string())?;
            return Ok(Some(verified.user_info()));
        }
        Ok(None)
    }
}

/// 401 with the reason logged (upstream does not tell the client why).
fn refused(why: &str) -> ApiError {
    tracing::debug!(reason = why, "authentication failed");
    unauthorized()
}

/// The bearer token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// Live objects a service-account token is bound to, read from the store.
struct Lookup<'a> {
    store: &'a dyn Store,
}

impl Lookup<'_> {
    async fn uid(&self, plural: &str, ns: &str, name: &str) -> Option<String> {
        let obj = objects::read_core(self.store, plural, Some(ns), name)
            .await
            .ok()??;
        if obj.pointer("/metadata/deletionTimestamp").is_some() && plural != "pods" {
            return None;
        }
        obj.pointer("/metadata/uid")
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

#[async_trait]
impl ServiceAccountLookup for Lookup<'_> {
    async fn service_account_uid(&self, ns: &str, name: &str) -> Option<String> {
        self.uid("serviceaccounts", ns, name).await
    }

    async fn pod_uid(&self, ns: &str, name: &str) -> Option<String> {
        self.uid("pods", ns, name).await
    }

    async fn secret_uid(&self, ns: &str, name: &str) -> Option<String> {
        self.uid("secrets", ns, name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}

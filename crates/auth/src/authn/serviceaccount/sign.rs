//! Signing bound service-account tokens, as upstream's `TokenRequest`
//! does: upstream's claim set, a random `jti`, and the key id of the
//! signing key in the header.

use std::time::{Duration, SystemTime};

use jsonwebtoken::Header;

use super::claims::{BoundKind, Claims, Kubernetes, Ref, TokenSpec};
use super::keys::{self, SigningKey};
use super::{
    EXPIRATION_EXTENSION_SECONDS, MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS, TokenError,
    WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS, make_username,
};
use crate::authn::timefmt::unix_seconds;

/// Signs service-account tokens with the cluster's service-account key.
pub struct TokenSigner {
    key: SigningKey,
    issuer: String,
    max_expiration_seconds: Option<i64>,
    extend_for_audiences: Option<Vec<String>>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("issuer", &self.issuer)
            .field("kid", &self.key.kid)
            .field("algorithm", &self.key.algorithm)
            .field("max_expiration_seconds", &self.max_expiration_seconds)
            .field("extend_for_audiences", &self.extend_for_audiences)
            .finish()
    }
}

impl TokenSigner {
    /// A signer with the first private key of `private_pem` (RSA: RS256;
    /// EC P-256/P-384: ES256/ES384) for the issuer `issuer`
    /// (`--service-account-issuer`). It caps no lifetime and extends none
    /// until told to.
    pub fn new(private_pem: &str, issuer: &str) -> Result<Self, TokenError> {
        Ok(TokenSigner {
            key: keys::signing_key(private_pem)?,
            issuer: issuer.to_string(),
            max_expiration_seconds: None,
            extend_for_audiences: None,
        })
    }

    /// Caps lifetimes at `seconds` (`--service-account-max-token-expiration`;
    /// 0 or less: no cap).
    pub fn with_max_expiration_seconds(mut self, seconds: i64) -> Self {
        self.max_expiration_seconds = (seconds > 0).then_some(seconds);
        self
    }

    /// Extends the kubelet's pod-bound tokens as upstream's
    /// `--service-account-extend-token-expiration` does: a pod-bound token
    /// asking for exactly 3607 s for audiences among `api_audiences`
    /// expires after a year, with a `warnafter` at the 3607 s.
    pub fn with_extended_expiration(mut self, api_audiences: Vec<String>) -> Self {
        self.extend_for_audiences = Some(api_audiences);
        self
    }

    /// The key id in the header of the tokens (upstream's
    /// `keyIDFromPublicKey` of the key).
    pub fn key_id(&self) -> &str {
        &self.key.kid
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The lifetime a request for `requested` seconds gets, after the cap;
    /// when it differs the API server warns "requested expiration of N
    /// seconds shortened to M seconds".
    pub fn capped_expiration_seconds(&self, requested: i64) -> i64 {
        match self.max_expiration_seconds {
            Some(max) if requested > max => max,
            _ => requested,
        }
    }

    /// Signs a token for `spec` at `now`; returns it with its expiration
    /// as the TokenRequest's status reports it (`now` plus the capped
    /// lifetime; an extended token's own `exp` is later).
    pub fn sign(
        &self,
        spec: &TokenSpec,
        now: SystemTime,
    ) -> Result<(String, SystemTime), TokenError> {
        if spec.expiration_seconds < MIN_EXPIRATION_SECONDS {
            return Err(TokenError::ExpirationTooShort(spec.expiration_seconds));
        }
        if spec.expiration_seconds > MAX_EXPIRATION_SECONDS {
            return Err(TokenError::ExpirationTooLong(spec.expiration_seconds));
        }
        if spec.namespace.is_empty()
            || spec.service_account_name.is_empty()
            || spec.service_account_uid.is_empty()
        {
            return Err(TokenError::InvalidSpec(
                "a token needs the service account's namespace, name and uid".to_string(),
            ));
        }
        let pod_bound = matches!(&spec.bound, Some(b) if b.kind == BoundKind::Pod);
        if spec.node.is_some() && !pod_bound {
            return Err(TokenError::InvalidSpec(
                "the node of a token is only recorded for pod-bound tokens; bind to a Node instead"
                    .to_string(),
            ));
        }

        let lifetime = self.capped_expiration_seconds(spec.expiration_seconds);
        let mut exp_seconds = lifetime;
        let mut warn_after = None;
        if let Some(api_audiences) = &self.extend_for_audiences
            && pod_bound
            && lifetime == WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS
            && spec.audiences.iter().all(|a| api_audiences.contains(a))
        {
            exp_seconds = EXPIRATION_EXTENSION_SECONDS;
            warn_after = Some(lifetime);
        }

        let iat = unix_seconds(now);
        let to_ref = |(name, uid): (&str, &str)| Ref {
            name: name.to_string(),
            uid: uid.to_string(),
        };
        let mut kubernetes = Kubernetes {
            namespace: spec.namespace.clone(),
            serviceaccount: to_ref((&spec.service_account_name, &spec.service_account_uid)),
            warnafter: warn_after.map(|w| iat.saturating_add(w)),
            ..Default::default()
        };
        if let Some(bound) = &spec.bound {
            let r = to_ref((&bound.name, &bound.uid));
            match bound.kind {
                BoundKind::Pod => {
                    kubernetes.pod = Some(r);
                    kubernetes.node = spec.node.as_ref().map(|(n, u)| to_ref((n, u)));
                }
                BoundKind::Secret => kubernetes.secret = Some(r),
                BoundKind::Node => kubernetes.node = Some(r),
            }
        }
        let claims = Claims {
            iss: Some(self.issuer.clone()),
            sub: Some(make_username(&spec.namespace, &spec.service_account_name)),
            aud: Some(spec.audiences.clone()),
            exp: Some(iat.saturating_add(exp_seconds)),
            iat: Some(iat),
            nbf: Some(iat),
            jti: Some(uuid::Uuid::new_v4().to_string()),
            kubernetes: Some(kubernetes),
            ..Default::default()
        };
        let token = self.encode(&claims)?;
        let status_expiration = now
            .checked_add(Duration::from_secs(lifetime.unsigned_abs()))
            .ok_or_else(|| TokenError::InvalidSpec("the expiration is out of range".to_string()))?;
        Ok((token, status_expiration))
    }

    /// Signs a legacy token for the token Secret `secret_name` of the
    /// service account (what upstream's tokens controller puts in a
    /// `kubernetes.io/service-account-token` Secret): issuer
    /// `kubernetes/serviceaccount`, no audience, no expiry.
    pub fn sign_legacy(
        &self,
        namespace: &str,
        service_account_name: &str,
        service_account_uid: &str,
        secret_name: &str,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            iss: Some(super::LEGACY_ISSUER.to_string()),
            sub: Some(make_username(namespace, service_account_name)),
            legacy_namespace: Some(namespace.to_string()),
            legacy_secret_name: Some(secret_name.to_string()),
            legacy_service_account_name: Some(service_account_name.to_string()),
            legacy_service_account_uid: Some(service_account_uid.to_string()),
            ..Default::default()
        };
        self.encode(&claims)
    }

    fn encode(&self, claims: &Claims) -> Result<String, TokenError> {
        let mut header = Header::new(self.key.algorithm);
        header.typ = None;
        header.kid = Some(self.key.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))
    }
}

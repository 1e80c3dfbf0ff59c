//! Verifying service-account tokens without I/O, as upstream's
//! `jwtTokenAuthenticator` with its bound and legacy validators (minus
//! the lookups, which are [`validate_live`](super::validate_live)).

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;

use super::claims::Claims;
use super::keys::{self, VerifyingKey};
use super::{
    LEEWAY_SECONDS, LEGACY_ISSUER, NAMESPACE_GROUP_PREFIX, TokenError, make_username,
    split_username,
};
use crate::authn::extra;
use crate::authn::timefmt::{from_unix_seconds, unix_nanos};
use crate::user::{AUTHENTICATED, SERVICE_ACCOUNTS, UserInfo};

/// Verifies service-account tokens.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Vec<VerifyingKey>,
    issuers: Vec<String>,
    api_audiences: Vec<String>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("key_ids", &self.key_ids())
            .field("issuers", &self.issuers)
            .field("api_audiences", &self.api_audiences)
            .finish()
    }
}

/// A token whose signature, issuer, audiences and times check out. The
/// objects it names are not checked yet: see
/// [`validate_live`](super::validate_live).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The service account's namespace.
    pub namespace: String,
    /// The service account's name.
    pub name: String,
    /// The service account's uid.
    pub uid: String,
    /// The pod (name, uid) the token is bound to.
    pub pod: Option<(String, String)>,
    /// The secret (name, uid) the token is bound to; for a legacy token,
    /// its token Secret (name, "").
    pub secret: Option<(String, String)>,
    /// The node (name, uid) the token is bound to, or of the pod it is
    /// bound to.
    pub node: Option<(String, String)>,
    /// `JTI=<jti>`, or "" for a token without a `jti` (legacy tokens).
    pub credential_id: String,
    /// Whether it is a legacy (Secret-based) token.
    pub legacy: bool,
    /// When it expires (`exp`); legacy tokens never do.
    pub expires: Option<SystemTime>,
    /// After when its use is reported as stale (`warnafter` of an
    /// extended token).
    pub warn_after: Option<SystemTime>,
    /// The audiences it was accepted for (its audiences among those asked
    /// for).
    pub audiences: Vec<String>,
    /// SHA-256 of a legacy token, to compare with its Secret's.
    pub(super) legacy_token_digest: Option<[u8; 32]>,
}

impl VerifiedToken {
    /// The user the token authenticates, as upstream's
    /// `ServiceAccountInfo.UserInfo`.
    pub fn user_info(&self) -> UserInfo {
        let mut extra = BTreeMap::new();
        if let Some((name, uid)) = &self.pod
            && !name.is_empty()
            && !uid.is_empty()
        {
            extra.insert(extra::POD_NAME.to_string(), vec![name.clone()]);
            extra.insert(extra::POD_UID.to_string(), vec![uid.clone()]);
        }
        if !self.credential_id.is_empty() {
            extra.insert(
                extra::CREDENTIAL_ID.to_string(),
                vec![self.credential_id.clone()],
            );
        }
        if let Some((name, uid)) = &self.node
            && !name.is_empty()
        {
            extra.insert(extra::NODE_NAME.to_string(), vec![name.clone()]);
            if !uid.is_empty() {
                extra.insert(extra::NODE_UID.to_string(), vec![uid.clone()]);
            }
        }
        UserInfo {
            name: make_username(&self.namespace, &self.name),
            uid: self.uid.clone(),
            groups: vec![
                SERVICE_ACCOUNTS.to_string(),
                format!("{NAMESPACE_GROUP_PREFIX}{}", self.namespace),
                AUTHENTICATED.to_string(),
            ],
            extra,
        }
    }
}

/// The issuer of a token read without verifying it, as upstream's
/// `hasCorrectIssuer` reads it.
fn unverified_issuer(token: &str) -> Option<String> {
    if token.trim_start().starts_with('{') {
        return None;
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&payload).ok()?;
    match claims.get("iss") {
        None | Some(serde_json::Value::Null) => Some(String::new()),
        Some(serde_json::Value::String(iss)) => Some(iss.clone()),
        Some(_) => None,
    }
}

impl TokenVerifier {
    /// A verifier trusting the public keys of `public_pems`
    /// (`--service-account-key-file`s: public keys, certificates or
    /// private keys), tokens of `issuers` (`--service-account-issuer`) and
    /// legacy tokens, for `api_audiences` (`--api-audiences`; empty: any
    /// audience).
    pub fn new(
        public_pems: &[&str],
        issuers: Vec<String>,
        api_audiences: Vec<String>,
    ) -> Result<Self, TokenError> {
        let mut keys = Vec::new();
        for pem in public_pems {
            keys.extend(keys::verifying_keys(pem)?);
        }
        if keys.is_empty() {
            return Err(TokenError::InvalidKey(
                "no service account public key configured".to_string(),
            ));
        }
        Ok(TokenVerifier {
            keys,
            issuers,
            api_audiences,
        })
    }

    /// The key ids of the trusted keys (what a JWKS document lists).
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }

    /// The API audiences.
    pub fn api_audiences(&self) -> &[String] {
        &self.api_audiences
    }

    /// Verifies `token` at `now` for the API server's own audiences.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<VerifiedToken, TokenError> {
        self.verify_for_audiences(token, now, &self.api_audiences)
    }

    /// Verifies `token` at `now` for `audiences` (a TokenReview's
    /// `spec.audiences`; the API audiences when it has none).
    pub fn verify_for_audiences(
        &self,
        token: &str,
        now: SystemTime,
        audiences: &[String],
    ) -> Result<VerifiedToken, TokenError> {
        let issuer = unverified_issuer(token).ok_or(TokenError::NotServiceAccountToken)?;
        let bound_issuer = self.issuers.contains(&issuer);
        if !bound_issuer && issuer != LEGACY_ISSUER {
            return Err(TokenError::NotServiceAccountToken);
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| TokenError::NotServiceAccountToken)?;
        let claims = self.verified_claims(token, header.kid.as_deref())?;
        // The issuer was read before the signature was checked; the
        // signed one is the same bytes, but check it all the same.
        if claims.iss.as_deref() != Some(issuer.as_str()) {
            return Err(TokenError::InvalidClaims(format!(
                "token issuer {:?} is invalid",
                claims.iss.unwrap_or_default()
            )));
        }

        let mut token_audiences = claims.aud.clone().unwrap_or_default();
        if token_audiences.is_empty() {
            // Legacy tokens have no audience: the API server's.
            token_audiences = self.api_audiences.clone();
        }
        let accepted: Vec<String> = token_audiences
            .iter()
            .filter(|a| audiences.contains(a))
            .cloned()
            .collect();
        if accepted.is_empty() && !self.api_audiences.is_empty() {
            return Err(TokenError::InvalidAudience {
                token: token_audiences,
                target: audiences.to_vec(),
            });
        }

        let legacy = issuer == LEGACY_ISSUER && (!bound_issuer || claims.kubernetes.is_none());
        let mut verified = if legacy {
            legacy_token(&claims, token)?
        } else {
            bound_token(&claims, now)?
        };
        verified.audiences = accepted;
        Ok(verified)
    }

    /// The claims of `token` if its signature verifies with a key of id
    /// `kid` (any key if it names none).
    fn verified_claims(&self, token: &str, kid: Option<&str>) -> Result<Claims, TokenError> {
        let candidates: Vec<&VerifyingKey> = match kid.filter(|k| !k.is_empty()) {
            Some(kid) => self.keys.iter().filter(|k| k.kid == kid).collect(),
            None => self.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(TokenError::NoKeys);
        }
        let mut error = TokenError::InvalidSignature;
        for key in candidates {
            // Go decodes the payload into a struct: it must be an object.
            let decoded = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
                token,
                &key.decoding,
                &key.validation,
            );
            match decoded {
                Ok(data) => {
                    return Claims::deserialize(serde_json::Value::Object(data.claims)).map_err(
                        |reason| {
                            TokenError::InvalidClaims(format!(
                                "service account token claims could not be decoded: {reason}"
                            ))
                        },
                    );
                }
                Err(e) => {
                    // A payload that is not our claims only shows once the
                    // signature has verified.
                    if let ErrorKind::Json(reason) = e.kind() {
                        error = TokenError::InvalidClaims(format!(
                            "service account token claims could not be decoded: {reason}"
                        ));
                    }
                }
            }
        }
        Err(error)
    }
}

/// A bound token's times and claims, as upstream's validator checks them
/// before its lookups.
fn bound_token(claims: &Claims, now: SystemTime) -> Result<VerifiedToken, TokenError> {
    // Compared in nanoseconds, so that no date, however absurd, overflows.
    let now = unix_nanos(now);
    let at = |secs: i64| i128::from(secs) * 1_000_000_000;
    let leeway = at(LEEWAY_SECONDS);
    if let Some(nbf) = claims.nbf
        && now + leeway < at(nbf)
    {
        return Err(TokenError::NotValidYet);
    }
    if let Some(exp) = claims.exp
        && now - leeway > at(exp)
    {
        return Err(TokenError::Expired);
    }
    if let Some(iat) = claims.iat
        && now + leeway < at(iat)
    {
        return Err(TokenError::IssuedInTheFuture);
    }
    let missing = |what: &str| {
        TokenError::InvalidClaims(format!(
            "service account token claims could not be validated: {what} claim is missing"
        ))
    };
    let Some(k) = &claims.kubernetes else {
        return Err(missing("kubernetes.io"));
    };
    if k.namespace.is_empty() {
        return Err(missing("namespace"));
    }
    if k.serviceaccount.name.is_empty() {
        return Err(missing("serviceaccount name"));
    }
    if k.serviceaccount.uid.is_empty() {
        return Err(missing("serviceaccount uid"));
    }
    let jti = claims.jti.clone().unwrap_or_default();
    Ok(VerifiedToken {
        namespace: k.namespace.clone(),
        name: k.serviceaccount.name.clone(),
        uid: k.serviceaccount.uid.clone(),
        pod: k.pod.as_ref().map(|r| r.pair()),
        secret: k.secret.as_ref().map(|r| r.pair()),
        node: k.node.as_ref().map(|r| r.pair()),
        credential_id: if jti.is_empty() {
            String::new()
        } else {
            format!("JTI={jti}")
        },
        legacy: false,
        expires: claims.exp.map(from_unix_seconds),
        warn_after: k.warnafter.filter(|w| *w != 0).map(from_unix_seconds),
        audiences: Vec::new(),
        legacy_token_digest: None,
    })
}

/// A legacy token's claims, as upstream's legacy validator checks them
/// before its lookups.
fn legacy_token(claims: &Claims, token: &str) -> Result<VerifiedToken, TokenError> {
    let required = |value: &Option<String>, what: &str| match value.as_deref() {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(TokenError::InvalidClaims(format!(
            "{what} claim is missing"
        ))),
    };
    let subject = required(&claims.sub, "sub")?;
    let namespace = required(&claims.legacy_namespace, "namespace")?;
    let secret_name = required(&claims.legacy_secret_name, "secretName")?;
    let name = required(&claims.legacy_service_account_name, "serviceAccountName")?;
    let uid = required(&claims.legacy_service_account_uid, "serviceAccountUID")?;
    if split_username(&subject) != Some((namespace.as_str(), name.as_str())) {
        return Err(TokenError::InvalidClaims(
            "sub claim is invalid".to_string(),
        ));
    }
    let mut token_digest = [0u8; 32];
    token_digest.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    Ok(VerifiedToken {
        namespace,
        name,
        uid,
        pod: None,
        secret: Some((secret_name, String::new())),
        node: None,
        credential_id: String::new(),
        legacy: true,
        expires: None,
        warn_after: None,
        audiences: Vec::new(),
        legacy_token_digest: Some(token_digest),
    })
}

#[cfg(test)]
mod tests;

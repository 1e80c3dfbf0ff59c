//! The checks of a verified token against live objects, as upstream's
//! validators make them with their getters: the service account must
//! still exist with the token's uid, and so must what the token is bound
//! to, so that deleting (or re-creating) a pod invalidates its tokens.

use aws_lc_rs::{constant_time, digest};

use super::{TokenError, VerifiedToken};

/// The live objects a token names, as the API server's store has them.
///
/// An object counts as gone (`None`) when it does not exist, or when its
/// `deletionTimestamp` is more than [`LEEWAY_SECONDS`](super::LEEWAY_SECONDS)
/// in the past (upstream's rule for bound tokens; for legacy tokens
/// upstream refuses as soon as the Secret or service account has a
/// deletionTimestamp).
#[async_trait::async_trait]
pub trait ServiceAccountLookup: Send + Sync {
    /// The uid of the service account `namespace/name`.
    async fn service_account_uid(&self, namespace: &str, name: &str) -> Option<String>;
    /// The uid of the pod `namespace/name`.
    async fn pod_uid(&self, namespace: &str, name: &str) -> Option<String>;
    /// The uid of the secret `namespace/name`.
    async fn secret_uid(&self, namespace: &str, name: &str) -> Option<String>;
    /// The uid of the node `name`, for node-bound tokens. Without an
    /// implementation every node-bound token is refused.
    async fn node_uid(&self, _name: &str) -> Option<String> {
        None
    }
    /// The `token` data of the secret `namespace/name`, for legacy tokens
    /// (a legacy token is only good while its Secret holds it). Without an
    /// implementation every legacy token is refused.
    async fn secret_token(&self, _namespace: &str, _name: &str) -> Option<Vec<u8>> {
        None
    }
}

/// Checks `token` against the live objects, in upstream's order.
pub async fn validate_live(
    token: &VerifiedToken,
    lookup: &dyn ServiceAccountLookup,
) -> Result<(), TokenError> {
    if token.legacy {
        validate_legacy(token, lookup).await
    } else {
        validate_bound(token, lookup).await
    }
}

async fn validate_bound(
    token: &VerifiedToken,
    lookup: &dyn ServiceAccountLookup,
) -> Result<(), TokenError> {
    let ns = token.namespace.as_str();
    let uid = lookup
        .service_account_uid(ns, &token.name)
        .await
        .ok_or_else(|| TokenError::ServiceAccountNotFound(token.name.clone()))?;
    if uid != token.uid {
        return Err(TokenError::ServiceAccountUidMismatch {
            actual: uid,
            claim: token.uid.clone(),
        });
    }
    if let Some((name, claim)) = &token.secret {
        let uid = lookup
            .secret_uid(ns, name)
            .await
            .ok_or(TokenError::Invalidated)?;
        if &uid != claim {
            return Err(TokenError::SecretUidMismatch {
                actual: uid,
                claim: claim.clone(),
            });
        }
    }
    if let Some((name, claim)) = &token.pod {
        let uid = lookup
            .pod_uid(ns, name)
            .await
            .ok_or(TokenError::Invalidated)?;
        if &uid != claim {
            return Err(TokenError::PodUidMismatch {
                actual: uid,
                claim: claim.clone(),
            });
        }
    } else if let Some((name, claim)) = &token.node {
        // Node-bound (a pod-bound token's node is only informative).
        let uid = lookup.node_uid(name).await.ok_or(TokenError::Invalidated)?;
        if &uid != claim {
            return Err(TokenError::NodeUidMismatch {
                actual: uid,
                claim: claim.clone(),
            });
        }
    }
    Ok(())
}

async fn validate_legacy(
    token: &VerifiedToken,
    lookup: &dyn ServiceAccountLookup,
) -> Result<(), TokenError> {
    let ns = token.namespace.as_str();
    let (secret, _) = token.secret.as_ref().ok_or(TokenError::LegacyInvalidated)?;
    lookup
        .secret_uid(ns, secret)
        .await
        .ok_or(TokenError::LegacyInvalidated)?;
    let stored = lookup.secret_token(ns, secret).await.unwrap_or_default();
    let stored_digest = digest::digest(&digest::SHA256, &stored);
    let matches = token.legacy_token_digest.is_some_and(|d| {
        !stored.is_empty()
            && constant_time::verify_slices_are_equal(&d, stored_digest.as_ref()).is_ok()
    });
    if !matches {
        return Err(TokenError::LegacyTokenMismatch);
    }
    let uid = lookup
        .service_account_uid(ns, &token.name)
        .await
        .ok_or_else(|| TokenError::ServiceAccountNotFound(token.name.clone()))?;
    if uid != token.uid {
        return Err(TokenError::LegacyServiceAccountUidMismatch {
            actual: uid,
            claim: token.uid.clone(),
        });
    }
    Ok(())
}

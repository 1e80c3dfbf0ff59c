//! Why a service-account token could not be made, or is refused; the
//! refusals read as upstream's.

/// An error of the service-account token signer or verifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A key PEM holds no usable key.
    #[error("{0}")]
    InvalidKey(String),
    /// What was asked of the signer cannot be signed.
    #[error("{0}")]
    InvalidSpec(String),
    /// The requested lifetime is below the minimum.
    #[error(
        "spec.expirationSeconds: Invalid value: {0}: may not specify a duration less than 10 minutes"
    )]
    ExpirationTooShort(i64),
    /// The requested lifetime is above the maximum.
    #[error(
        "spec.expirationSeconds: Invalid value: {0}: may not specify a duration larger than 2^32 seconds"
    )]
    ExpirationTooLong(i64),
    /// The signing library failed.
    #[error("failed to generate token: {0}")]
    Signing(String),

    /// Not a service-account token: not a JWT, or issued by an issuer this
    /// verifier does not know. Upstream's authenticator has no opinion on
    /// such a token, so the next authenticator gets it.
    #[error("not a service account token")]
    NotServiceAccountToken,
    /// No configured key has the token's key id.
    #[error("invalid signature, no keys found")]
    NoKeys,
    /// The signature does not verify with any configured key (or uses an
    /// algorithm the key is not for).
    #[error("go-jose/go-jose: error in cryptographic primitive")]
    InvalidSignature,
    /// None of the token's audiences is one the verifier accepts.
    #[error(
        "token audiences {} is invalid for the target audiences {}",
        go_quoted(token),
        go_quoted(target)
    )]
    InvalidAudience {
        /// The token's audiences.
        token: Vec<String>,
        /// The audiences accepted.
        target: Vec<String>,
    },
    /// `exp` (plus the leeway) has passed.
    #[error("service account token has expired")]
    Expired,
    /// `nbf` (minus the leeway) has not come yet.
    #[error("service account token is not valid yet")]
    NotValidYet,
    /// `iat` (minus the leeway) is in the future.
    #[error("service account token is issued in the future")]
    IssuedInTheFuture,
    /// The claims are missing or malformed (`sub claim is missing`, ...).
    #[error("{0}")]
    InvalidClaims(String),

    /// The service account no longer exists.
    #[error("serviceaccounts \"{0}\" not found")]
    ServiceAccountNotFound(String),
    /// The service account was deleted and created again.
    #[error("service account UID ({actual}) does not match claim ({claim})")]
    ServiceAccountUidMismatch {
        /// The live object's uid.
        actual: String,
        /// The token's.
        claim: String,
    },
    /// A legacy token's service account was deleted and created again.
    #[error("ServiceAccount UID ({actual}) does not match claim ({claim})")]
    LegacyServiceAccountUidMismatch {
        /// The live object's uid.
        actual: String,
        /// The token's.
        claim: String,
    },
    /// The pod, secret or node a token is bound to is gone.
    #[error("service account token has been invalidated")]
    Invalidated,
    /// The pod a token is bound to was deleted and created again.
    #[error("pod UID ({actual}) does not match service account pod ref claim ({claim})")]
    PodUidMismatch {
        /// The live object's uid.
        actual: String,
        /// The token's.
        claim: String,
    },
    /// The secret a token is bound to was deleted and created again.
    #[error("secret UID ({actual}) does not match service account secret ref claim ({claim})")]
    SecretUidMismatch {
        /// The live object's uid.
        actual: String,
        /// The token's.
        claim: String,
    },
    /// The node a token is bound to was deleted and created again.
    #[error("node UID ({actual}) does not match service account node ref claim ({claim})")]
    NodeUidMismatch {
        /// The live object's uid.
        actual: String,
        /// The token's.
        claim: String,
    },
    /// A legacy token's Secret is gone.
    #[error("token has been invalidated")]
    LegacyInvalidated,
    /// A legacy token's Secret holds another token.
    #[error("token does not match secret")]
    LegacyTokenMismatch,
}

impl TokenError {
    /// Whether the token is simply not a service-account token, which
    /// another authenticator may accept (upstream: "no opinion"); every
    /// other error refuses a service-account token.
    pub fn is_not_service_account_token(&self) -> bool {
        matches!(self, TokenError::NotServiceAccountToken)
    }
}

/// A list as Go's `%q` prints a `[]string`: `["a" "b"]`.
fn go_quoted(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_message_quotes_like_go() {
        let err = TokenError::InvalidAudience {
            token: vec!["vault".into(), "x".into()],
            target: vec!["https://kubernetes.default.svc.cluster.local".into()],
        };
        assert_eq!(
            err.to_string(),
            "token audiences [\"vault\" \"x\"] is invalid for the target audiences [\"https://kubernetes.default.svc.cluster.local\"]"
        );
        assert!(!err.is_not_service_account_token());
        assert!(TokenError::NotServiceAccountToken.is_not_service_account_token());
    }
}

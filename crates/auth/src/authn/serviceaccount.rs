//! Service-account tokens: upstream's JWT token generator and
//! authenticator.
//!
//! - [`TokenSigner`] signs bound tokens (TokenRequest) with upstream's
//!   claims, and legacy tokens for token Secrets.
//! - [`TokenVerifier`] checks a bearer token without I/O: signature (any
//!   configured key, picked by key id), issuer, audiences, and for bound
//!   tokens the times with upstream's 60 s leeway; it accepts legacy
//!   Secret-based tokens (issuer `kubernetes/serviceaccount`) too.
//! - [`validate_live`] then checks the token against the live objects the
//!   API server looks up: the service account, and the pod, secret or
//!   node the token is bound to must still exist with the same uid.
//! - [`VerifiedToken::user_info`] is the user: `system:serviceaccount:<ns>:<name>`
//!   in `system:serviceaccounts`, `system:serviceaccounts:<ns>` and
//!   `system:authenticated`, with the pod, node and credential id in
//!   `extra`.

mod claims;
mod error;
mod keys;
mod live;
mod sign;
#[cfg(test)]
mod testkeys;
mod verify;

pub use claims::{BoundKind, BoundObject, TokenSpec};
pub use error::TokenError;
pub use live::{ServiceAccountLookup, validate_live};
pub use sign::TokenSigner;
pub use verify::{TokenVerifier, VerifiedToken};

use crate::user::SERVICE_ACCOUNT_PREFIX;

/// The issuer of legacy (Secret-based) tokens.
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";
/// The shortest lifetime a TokenRequest may ask for (10 minutes); the API
/// layer validates it, the signer refuses less.
pub const MIN_EXPIRATION_SECONDS: i64 = 600;
/// The longest lifetime a TokenRequest may ask for (2^32 s); the API layer
/// validates it, the signer refuses more.
pub const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;
/// The lifetime the kubelet asks for its projected tokens, which upstream
/// extends (see [`TokenSigner::with_extended_expiration`]).
pub const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS: i64 = 60 * 60 + 7;
/// The lifetime of an extended token: a year.
pub const EXPIRATION_EXTENSION_SECONDS: i64 = 24 * 365 * 60 * 60;
/// The clock skew allowed on `exp`, `nbf` and `iat`, and after a bound
/// object's deletion (go-jose's `DefaultLeeway`).
pub const LEEWAY_SECONDS: i64 = 60;
/// The group of all service accounts of a namespace is this prefix and
/// the namespace.
pub const NAMESPACE_GROUP_PREFIX: &str = "system:serviceaccounts:";

/// `system:serviceaccount:<namespace>:<name>`.
pub fn make_username(namespace: &str, name: &str) -> String {
    format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}")
}

/// The namespace and name of a service account's user name, if it is one
/// with a valid namespace (DNS label) and name (DNS subdomain), as
/// upstream's `SplitUsername`.
pub fn split_username(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix(SERVICE_ACCOUNT_PREFIX)?;
    let mut parts = rest.split(':');
    let (Some(namespace), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    (is_dns_label(namespace) && is_dns_subdomain(name)).then_some((namespace, name))
}

fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticators_are_shareable_between_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<TokenSigner>();
        shareable::<TokenVerifier>();
        shareable::<VerifiedToken>();
        shareable::<crate::authn::tokenfile::TokenFile>();
        shareable::<crate::authn::x509::ClientCertAuthenticator>();
    }

    #[test]
    fn usernames() {
        assert_eq!(make_username("ns", "sa"), "system:serviceaccount:ns:sa");
        assert_eq!(
            split_username("system:serviceaccount:kube-system:node.controller"),
            Some(("kube-system", "node.controller"))
        );
        for bad in [
            "system:serviceaccount:ns",
            "system:serviceaccount:ns:a:b",
            "system:serviceaccount::sa",
            "system:serviceaccount:ns:",
            "system:serviceaccount:NS:sa",
            "system:serviceaccount:ns.x:sa",
            "system:serviceaccount:ns:-sa",
            "system:node:n1",
        ] {
            assert_eq!(split_username(bad), None, "{bad}");
        }
    }
}

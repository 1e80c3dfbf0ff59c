//! Bootstrap (join) tokens: upstream's bootstrap-token authenticator.
//!
//! A token `<id>.<secret>` (`[a-z0-9]{6}.[a-z0-9]{16}`) is backed by the
//! Secret `kube-system/bootstrap-token-<id>` of type
//! `bootstrap.kubernetes.io/token`. The API server looks the Secret up and
//! hands it to [`authenticate`], which checks it the way upstream does, in
//! the same order: not being deleted, the type, the secret (in constant
//! time), the id, the expiration, `usage-bootstrap-authentication`, and
//! the extra groups. The user is `system:bootstrap:<id>` in
//! `system:bootstrappers`, the Secret's `auth-extra-groups` (sorted, as
//! upstream's set lists them) and `system:authenticated`.
//!
//! Upstream logs a refusal and answers "not authenticated"; here a refusal
//! is an [`Err`] carrying upstream's log text, and the request is a 401
//! unless another authenticator accepts it.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_lc_rs::constant_time;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rand::Rng;

use crate::authn::timefmt;
use crate::user::{AUTHENTICATED, BOOTSTRAPPERS, UserInfo};

/// The type of a bootstrap-token Secret.
pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// The namespace of bootstrap-token Secrets.
pub const SECRET_NAMESPACE: &str = "kube-system";
/// The prefix of a bootstrap-token Secret's name.
pub const SECRET_NAME_PREFIX: &str = "bootstrap-token-";
/// The prefix of a bootstrap token's user name.
pub const USER_PREFIX: &str = "system:bootstrap:";
/// The prefix every extra group must have.
pub const EXTRA_GROUP_PREFIX: &str = "system:bootstrappers:";
/// The Secret key of the token id.
pub const TOKEN_ID_KEY: &str = "token-id";
/// The Secret key of the token secret.
pub const TOKEN_SECRET_KEY: &str = "token-secret";
/// The Secret key of the expiration (RFC 3339).
pub const EXPIRATION_KEY: &str = "expiration";
/// The Secret key of the description.
pub const DESCRIPTION_KEY: &str = "description";
/// The Secret key that allows the token to authenticate (`"true"`).
pub const USAGE_AUTHENTICATION_KEY: &str = "usage-bootstrap-authentication";
/// The Secret key that allows the token to sign the cluster-info
/// ConfigMap (`"true"`).
pub const USAGE_SIGNING_KEY: &str = "usage-bootstrap-signing";
/// The Secret key of the extra groups (comma-separated).
pub const EXTRA_GROUPS_KEY: &str = "auth-extra-groups";
/// The extra group kubeadm gives its join tokens.
pub const KUBEADM_DEFAULT_NODE_TOKEN_GROUP: &str =
    "system:bootstrappers:kubeadm:default-node-token";

const TOKEN_CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Why a bootstrap token whose Secret exists is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootstrapError {
    /// The Secret handed over is not the token's (wrong name or
    /// namespace).
    #[error("Secret {namespace}/{name} is not the bootstrap secret of token id {id}")]
    WrongSecret {
        /// The token id.
        id: String,
        /// The Secret's namespace.
        namespace: String,
        /// The Secret's name.
        name: String,
    },
    /// The Secret is being deleted.
    #[error("Bootstrap secret {0} matching bearer token is deleted and awaiting removal")]
    Deleted(String),
    /// The Secret is not of type `bootstrap.kubernetes.io/token` or has no
    /// data.
    #[error("Bootstrap secret {0} matching bearer token has invalid type, expected {SECRET_TYPE}.")]
    InvalidType(String),
    /// `token-secret` does not match.
    #[error(
        "Bootstrap secret {0} matching bearer token has invalid value for key {TOKEN_SECRET_KEY}."
    )]
    InvalidSecret(String),
    /// `token-id` does not match.
    #[error("Bootstrap secret {0} matching bearer token has invalid value for key {TOKEN_ID_KEY}.")]
    InvalidId(String),
    /// The expiration has passed.
    #[error("Expired bootstrap token in {secret} Secret: {expiration}")]
    Expired {
        /// `namespace/name` of the Secret.
        secret: String,
        /// Its `expiration`.
        expiration: String,
    },
    /// The expiration does not parse; upstream treats the token as expired.
    #[error(
        "Unparseable expiration time ({expiration}) in {secret} Secret: {reason}. Treating as expired."
    )]
    UnparseableExpiration {
        /// `namespace/name` of the Secret.
        secret: String,
        /// Its `expiration`.
        expiration: String,
        /// Why it does not parse.
        reason: String,
    },
    /// `usage-bootstrap-authentication` is not `"true"`.
    #[error(
        "Bootstrap secret {0} matching bearer token not marked {USAGE_AUTHENTICATION_KEY}=true."
    )]
    NotForAuthentication(String),
    /// An extra group is not a `system:bootstrappers:` group.
    #[error(
        "Bootstrap secret {secret} matching bearer token has invalid value for key {EXTRA_GROUPS_KEY}: {reason}."
    )]
    InvalidExtraGroups {
        /// `namespace/name` of the Secret.
        secret: String,
        /// The group's validation error.
        reason: String,
    },
}

/// Splits a bearer token into its id and secret if it has the form of a
/// bootstrap token (`^([a-z0-9]{6})\.([a-z0-9]{16})$`).
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_once('.')?;
    let valid = |part: &str, len: usize| {
        part.len() == len
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    (valid(id, 6) && valid(secret, 16)).then_some((id, secret))
}

/// The name of the Secret (in kube-system) backing the token with `id`.
pub fn secret_name(id: &str) -> String {
    format!("{SECRET_NAME_PREFIX}{id}")
}

/// A new random token `<id>.<secret>`, as kubeadm generates them.
pub fn generate_token() -> String {
    let mut rng = rand::rng();
    let mut pick = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(TOKEN_CHARS[rng.random_range(0..TOKEN_CHARS.len())]))
            .collect()
    };
    let id = pick(6);
    let secret = pick(16);
    format!("{id}.{secret}")
}

/// Checks an extra group name as upstream's `ValidateBootstrapGroupName`:
/// `^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`.
pub fn validate_group_name(group: &str) -> Result<(), String> {
    let valid = group.strip_prefix(EXTRA_GROUP_PREFIX).is_some_and(|rest| {
        (1..=256).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b':' || b == b'-')
            && rest
                .bytes()
                .next_back()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "bootstrap group {group:?} is invalid (must match ^system:bootstrappers:[a-z0-9:-]{{0,255}}[a-z0-9]$)"
        ))
    }
}

/// A value of the Secret: `data` first, then `stringData` (which the API
/// server folds into `data` on write, but a Secret built in memory may
/// still carry).
fn value(secret: &Secret, key: &str) -> Option<Vec<u8>> {
    if let Some(v) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return Some(v.0.clone());
    }
    secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|v| v.as_bytes().to_vec())
}

fn string_value(secret: &Secret, key: &str) -> String {
    value(secret, key)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

/// Authenticates `token` against the Secret the API server found for it
/// (`None` if there is none) at `now`.
///
/// `Ok(None)`: not a bootstrap token, or no Secret for it; another
/// authenticator may know the token. `Ok(Some(user))`: authenticated.
/// `Err`: the token's Secret exists but refuses it.
pub fn authenticate(
    token: &str,
    secret: Option<&Secret>,
    now: SystemTime,
) -> Result<Option<UserInfo>, BootstrapError> {
    let Some((id, token_secret)) = parse_token(token) else {
        return Ok(None);
    };
    let Some(secret) = secret else {
        return Ok(None);
    };
    let namespace = secret
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(SECRET_NAMESPACE);
    let expected_name = secret_name(id);
    let name = secret.metadata.name.as_deref().unwrap_or(&expected_name);
    if namespace != SECRET_NAMESPACE || name != expected_name {
        return Err(BootstrapError::WrongSecret {
            id: id.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        });
    }
    let full_name = format!("{namespace}/{name}");

    if secret.metadata.deletion_timestamp.is_some() {
        return Err(BootstrapError::Deleted(full_name));
    }
    let has_data = secret.data.is_some() || secret.string_data.is_some();
    if secret.type_.as_deref() != Some(SECRET_TYPE) || !has_data {
        return Err(BootstrapError::InvalidType(full_name));
    }
    let stored_secret = value(secret, TOKEN_SECRET_KEY).unwrap_or_default();
    if constant_time::verify_slices_are_equal(&stored_secret, token_secret.as_bytes()).is_err() {
        return Err(BootstrapError::InvalidSecret(full_name));
    }
    if string_value(secret, TOKEN_ID_KEY) != id {
        return Err(BootstrapError::InvalidId(full_name));
    }
    let expiration = string_value(secret, EXPIRATION_KEY);
    if !expiration.is_empty() {
        match timefmt::parse(&expiration) {
            Ok(at) if at > now => {}
            Ok(_) => {
                return Err(BootstrapError::Expired {
                    secret: full_name,
                    expiration,
                });
            }
            Err(reason) => {
                return Err(BootstrapError::UnparseableExpiration {
                    secret: full_name,
                    expiration,
                    reason,
                });
            }
        }
    }
    if string_value(secret, USAGE_AUTHENTICATION_KEY) != "true" {
        return Err(BootstrapError::NotForAuthentication(full_name));
    }
    let mut groups = vec![BOOTSTRAPPERS.to_string()];
    let extra = string_value(secret, EXTRA_GROUPS_KEY);
    if !extra.is_empty() {
        for group in extra.split(',') {
            validate_group_name(group).map_err(|reason| BootstrapError::InvalidExtraGroups {
                secret: full_name.clone(),
                reason,
            })?;
            groups.push(group.to_string());
        }
    }
    groups.sort();
    groups.dedup();
    groups.push(AUTHENTICATED.to_string());
    Ok(Some(UserInfo {
        name: format!("{USER_PREFIX}{id}"),
        groups,
        ..Default::default()
    }))
}

/// The Secret backing the token `<id>.<secret>`, as kubeadm writes it:
/// in kube-system, usable to authenticate and to sign, with the given
/// description (left out if empty), extra groups (left out if none) and
/// expiration (RFC 3339, UTC, whole seconds; none: the token never
/// expires).
pub fn bootstrap_secret(
    id: &str,
    secret: &str,
    description: &str,
    extra_groups: &[&str],
    expiration: Option<SystemTime>,
) -> Secret {
    let mut data = BTreeMap::new();
    let mut put = |key: &str, value: &str| {
        data.insert(key.to_string(), ByteString(value.as_bytes().to_vec()));
    };
    put(TOKEN_ID_KEY, id);
    put(TOKEN_SECRET_KEY, secret);
    if !description.is_empty() {
        put(DESCRIPTION_KEY, description);
    }
    if let Some(at) = expiration {
        put(EXPIRATION_KEY, &timefmt::format_system_time(at));
    }
    put(USAGE_AUTHENTICATION_KEY, "true");
    put(USAGE_SIGNING_KEY, "true");
    if !extra_groups.is_empty() {
        put(EXTRA_GROUPS_KEY, &extra_groups.join(","));
    }
    Secret {
        metadata: ObjectMeta {
            name: Some(secret_name(id)),
            namespace: Some(SECRET_NAMESPACE.to_string()),
            ..Default::default()
        },
        type_: Some(SECRET_TYPE.to_string()),
        data: Some(data),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;

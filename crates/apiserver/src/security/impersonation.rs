//! Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): a user allowed
//! to `impersonate` users, groups, service accounts, uids and extras acts
//! as someone else, as upstream's impersonation filter lets them.

use http::HeaderMap;
use ironclad_auth::user::{ANONYMOUS, AUTHENTICATED, SERVICE_ACCOUNTS, UNAUTHENTICATED};
use ironclad_auth::{Attributes, Decision, UserInfo};

use super::attributes::forbidden;
use super::authz::Authorizers;
use crate::error::ApiError;

const USER: &str = "impersonate-user";
const GROUP: &str = "impersonate-group";
const UID: &str = "impersonate-uid";
const EXTRA_PREFIX: &str = "impersonate-extra-";

/// The user a request acts as: `user` itself without impersonation
/// headers, else the impersonated user once every part of it is allowed.
pub fn apply(
    authz: &Authorizers,
    user: UserInfo,
    headers: &HeaderMap,
) -> Result<UserInfo, ApiError> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    };
    let name = values(USER).into_iter().next();
    let groups = values(GROUP);
    let uid = values(UID).into_iter().next();
    let extras: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str().strip_prefix(EXTRA_PREFIX)?;
            Some((unescape(key), v.to_str().ok()?.to_string()))
        })
        .collect();
    let Some(name) = name else {
        if groups.is_empty() && uid.is_none() && extras.is_empty() {
            return Ok(user);
        }
        return Err(ApiError::bad_request(
            "requested impersonation of groups, uid or extras without impersonating a user",
        ));
    };
    let check = |group: &str, resource: &str, subresource: &str, namespace: &str, object: &str| {
        let mut a = Attributes::resource(
            user.clone(),
            "impersonate",
            group,
            resource,
            namespace,
            object,
        );
        a.subresource = subresource.to_string();
        match authz.authorize(&a) {
            Decision::Allow(_) => Ok(()),
            Decision::Deny(r) | Decision::NoOpinion(r) => Err(forbidden(&a, &r)),
        }
    };
    let mut target = UserInfo {
        name: name.clone(),
        ..Default::default()
    };
    match ironclad_auth::authn::serviceaccount::split_username(&name) {
        Some((ns, sa)) => {
            check("", "serviceaccounts", "", ns, sa)?;
            target.groups.push(SERVICE_ACCOUNTS.to_string());
            target.groups.push(format!("{SERVICE_ACCOUNTS}:{ns}"));
        }
        None => check("", "users", "", "", &name)?,
    }
    for g in groups {
        check("", "groups", "", "", &g)?;
        if !target.groups.contains(&g) {
            target.groups.push(g);
        }
    }
    if let Some(uid) = uid {
        check("authentication.k8s.io", "uids", "", "", &uid)?;
        target.uid = uid;
    }
    for (key, value) in extras {
        check("authentication.k8s.io", "userextras", &key, "", &value)?;
        target.extra.entry(key).or_default().push(value);
    }
    let implicit = if name == ANONYMOUS {
        UNAUTHENTICATED
    } else {
        AUTHENTICATED
    };
    if !target.groups.iter().any(|g| g == implicit) {
        target.groups.push(implicit.to_string());
    }
    Ok(target)
}

/// Extra keys travel percent-encoded in header names.
fn unescape(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&key[i + 1..(i + 3).min(key.len())], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_keys_are_unescaped() {
        assert_eq!(unescape("scopes"), "scopes");
        assert_eq!(unescape("example.com%2fteam"), "example.com/team");
        assert_eq!(unescape("bad%zz"), "bad%zz");
    }
}

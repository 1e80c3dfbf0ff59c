//! ServiceAccount (upstream's `serviceaccount` plugin): on pod creates,
//! default `spec.serviceAccountName` to `default`, require the account to
//! exist, mount its API credentials (the projected `kube-api-access-*`
//! volume) unless automounting is off, copy its image pull secrets, and —
//! when the account asks for it — refuse secrets the account does not list.
//! Mirror pods are never changed, and may not refer to an account, to
//! secrets or to token projections.

use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::{Value, json};

use crate::error::AdmissionError;
use crate::json::{arr_at, bool_at, has, obj_at, obj_mut, str_at, str_or_empty};
use crate::podrefs::secret_names;
use crate::request::{Operation, Request};

/// The annotation that marks a mirror pod (a static pod's API object).
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
/// The account a pod runs as when it names none.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// The annotation (`"true"`) by which an account limits its pods to the
/// secrets it lists.
pub const ENFORCE_MOUNTABLE_SECRETS_ANNOTATION: &str = "kubernetes.io/enforce-mountable-secrets";
/// The prefix of the token volume's name; the rest is random.
pub const TOKEN_VOLUME_PREFIX: &str = "kube-api-access-";
/// Where every container finds its credentials.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The token's lifetime in the projected volume (upstream's
/// `WarnOnlyBoundTokenExpirationSeconds`).
pub const TOKEN_EXPIRATION_SECONDS: i64 = 3607;

/// The service account the API server must look up before calling
/// [`admit_pod`]: the pod's `spec.serviceAccountName`, or `default`.
/// `None` when the plugin does not look at this request (not a pod create
/// or ephemeral-containers update, or a mirror pod).
pub fn account_to_look_up(req: &Request, pod: &Value) -> Option<String> {
    if !handles(req) || !pod.is_object() {
        return None;
    }
    let named = str_or_empty(pod, &["spec", "serviceAccountName"]);
    match (req.operation, req.subresource.as_str()) {
        (Operation::Create, "") if !is_mirror_pod(pod) => Some(if named.is_empty() {
            DEFAULT_SERVICE_ACCOUNT.to_string()
        } else {
            named.to_string()
        }),
        (Operation::Update, "ephemeralcontainers") if !named.is_empty() => Some(named.to_string()),
        _ => None,
    }
}

/// Whether the pod carries the mirror-pod annotation.
pub fn is_mirror_pod(pod: &Value) -> bool {
    obj_at(pod, &["metadata", "annotations"]).is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION))
}

/// Admits (and mutates) a pod create, or checks an ephemeral-containers
/// update; other requests pass untouched.
///
/// `sa` is the account [`account_to_look_up`] names, `None` when it does not
/// exist; `random_suffix` completes the token volume's name
/// (`kube-api-access-<suffix>`; upstream uses five random characters).
///
/// `allow_missing_default`: upstream retries the lookup of a missing
/// `default` account for about a second, because the service-account
/// controller creates it only just after the namespace; a pod created in a
/// brand-new namespace would otherwise fail. A server that cannot wait may
/// pass `true` while the namespace is young: a missing `default` account
/// then admits the pod as if the account existed with no settings (token
/// automounted, no pull secrets, no secret limits). Any other missing
/// account is always refused.
pub fn admit_pod(
    pod: &mut Value,
    req: &Request,
    sa: Option<&ServiceAccount>,
    random_suffix: &str,
    allow_missing_default: bool,
) -> Result<(), AdmissionError> {
    if !handles(req) || !pod.is_object() {
        return Ok(());
    }
    if req.operation == Operation::Update && req.subresource == "ephemeralcontainers" {
        return validate_ephemeral(pod, req, sa);
    }
    if req.operation != Operation::Create || !req.subresource.is_empty() {
        return Ok(());
    }
    if is_mirror_pod(pod) {
        return validate_mirror_pod(pod, req);
    }

    if str_or_empty(pod, &["spec", "serviceAccountName"]).is_empty()
        && let Some(spec) = obj_mut(pod, &["spec"])
    {
        spec.insert(
            "serviceAccountName".into(),
            Value::String(DEFAULT_SERVICE_ACCOUNT.into()),
        );
    }
    let name = str_or_empty(pod, &["spec", "serviceAccountName"]).to_string();
    let placeholder;
    let sa = match sa {
        Some(sa) => sa,
        None if allow_missing_default && name == DEFAULT_SERVICE_ACCOUNT => {
            placeholder = ServiceAccount {
                metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(req.namespace.clone()),
                    ..Default::default()
                },
                ..Default::default()
            };
            &placeholder
        }
        None => return Err(missing_account(req, pod, &name)),
    };

    if should_automount(sa, pod) {
        mount_token(pod, random_suffix);
    }
    if arr_at(pod, &["spec", "imagePullSecrets"]).is_empty() {
        let pulls: Vec<Value> = sa
            .image_pull_secrets
            .iter()
            .flatten()
            .map(|r| json!({"name": r.name}))
            .collect();
        if !pulls.is_empty()
            && let Some(spec) = obj_mut(pod, &["spec"])
        {
            spec.insert("imagePullSecrets".into(), Value::Array(pulls));
        }
    }

    if enforces_mountable_secrets(sa) {
        limit_secret_references(sa, pod).map_err(|e| req.forbidden(Some(pod), e))?;
    }
    Ok(())
}

fn handles(req: &Request) -> bool {
    req.is("", "pods") && (req.subresource.is_empty() || req.subresource == "ephemeralcontainers")
}

fn missing_account(req: &Request, pod: &Value, name: &str) -> AdmissionError {
    req.forbidden(
        Some(pod),
        format!(
            "error looking up service account {}/{name}: {}",
            req.namespace,
            AdmissionError::not_found("", "serviceaccount", name)
        ),
    )
}

fn validate_mirror_pod(pod: &Value, req: &Request) -> Result<(), AdmissionError> {
    if !str_or_empty(pod, &["spec", "serviceAccountName"]).is_empty() {
        return Err(req.forbidden(Some(pod), "a mirror pod may not reference service accounts"));
    }
    if !secret_names(pod).is_empty() {
        return Err(req.forbidden(Some(pod), "a mirror pod may not reference secrets"));
    }
    let projects_token = arr_at(pod, &["spec", "volumes"]).iter().any(|v| {
        arr_at(v, &["projected", "sources"])
            .iter()
            .any(|s| has(s, &["serviceAccountToken"]))
    });
    if projects_token {
        return Err(req.forbidden(
            Some(pod),
            "a mirror pod may not use ServiceAccountToken volume projections",
        ));
    }
    Ok(())
}

fn validate_ephemeral(
    pod: &Value,
    req: &Request,
    sa: Option<&ServiceAccount>,
) -> Result<(), AdmissionError> {
    let name = str_or_empty(pod, &["spec", "serviceAccountName"]);
    if name.is_empty() {
        return Err(req.forbidden(
            Some(pod),
            format!(
                "no service account specified for pod {}/{}",
                req.namespace,
                str_or_empty(pod, &["metadata", "name"])
            ),
        ));
    }
    let Some(sa) = sa else {
        return Err(missing_account(req, pod, name));
    };
    if !enforces_mountable_secrets(sa) {
        return Ok(());
    }
    let mountable = mountable_secrets(sa);
    for c in arr_at(pod, &["spec", "ephemeralContainers"]) {
        check_container_env(c, "ephemeral container", &mountable, &account_name(sa))
            .map_err(|e| req.forbidden(Some(pod), e))?;
    }
    Ok(())
}

/// Upstream's `shouldAutomount`: the pod's choice, else the account's,
/// else yes.
fn should_automount(sa: &ServiceAccount, pod: &Value) -> bool {
    bool_at(pod, &["spec", "automountServiceAccountToken"])
        .or(sa.automount_service_account_token)
        .unwrap_or(true)
}

/// Go's `strconv.ParseBool` of the annotation; anything else is false.
fn enforces_mountable_secrets(sa: &ServiceAccount) -> bool {
    sa.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ENFORCE_MOUNTABLE_SECRETS_ANNOTATION))
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "TRUE" | "true" | "True"))
}

fn account_name(sa: &ServiceAccount) -> String {
    sa.metadata.name.clone().unwrap_or_default()
}

fn mountable_secrets(sa: &ServiceAccount) -> Vec<String> {
    sa.secrets
        .iter()
        .flatten()
        .map(|r| r.name.clone().unwrap_or_default())
        .collect()
}

fn check_container_env(
    c: &Value,
    what: &str,
    mountable: &[String],
    sa_name: &str,
) -> Result<(), String> {
    let cname = str_or_empty(c, &["name"]);
    for env in arr_at(c, &["env"]) {
        if let Some(secret) = str_at(env, &["valueFrom", "secretKeyRef", "name"])
            && !mountable.iter().any(|m| m == secret)
        {
            return Err(format!(
                "{what} {cname} with envVar {} referencing secret.secretName=\"{secret}\" is not allowed because service account {sa_name} does not reference that secret",
                str_or_empty(env, &["name"])
            ));
        }
    }
    for from in arr_at(c, &["envFrom"]) {
        if let Some(secret) = str_at(from, &["secretRef", "name"])
            && !mountable.iter().any(|m| m == secret)
        {
            return Err(format!(
                "{what} {cname} with envFrom referencing secret.secretName=\"{secret}\" is not allowed because service account {sa_name} does not reference that secret"
            ));
        }
    }
    Ok(())
}

/// Upstream's `limitSecretReferences`.
fn limit_secret_references(sa: &ServiceAccount, pod: &Value) -> Result<(), String> {
    let mountable = mountable_secrets(sa);
    let sa_name = account_name(sa);
    for v in arr_at(pod, &["spec", "volumes"]) {
        if !has(v, &["secret"]) {
            continue;
        }
        let secret = str_or_empty(v, &["secret", "secretName"]);
        if !mountable.iter().any(|m| m == secret) {
            return Err(format!(
                "volume with secret.secretName=\"{secret}\" is not allowed because service account {sa_name} does not reference that secret"
            ));
        }
    }
    for c in arr_at(pod, &["spec", "initContainers"]) {
        check_container_env(c, "init container", &mountable, &sa_name)?;
    }
    for c in arr_at(pod, &["spec", "containers"]) {
        check_container_env(c, "container", &mountable, &sa_name)?;
    }
    let pulls: Vec<&str> = sa
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.as_str())
        .collect();
    for (i, r) in arr_at(pod, &["spec", "imagePullSecrets"])
        .iter()
        .enumerate()
    {
        let name = str_or_empty(r, &["name"]);
        if !pulls.contains(&name) {
            return Err(format!(
                "imagePullSecrets[{i}].name=\"{name}\" is not allowed because service account {sa_name} does not reference that imagePullSecret"
            ));
        }
    }
    Ok(())
}

/// The projected volume upstream mounts (`TokenVolumeSource`).
pub fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]
        }
    })
}

/// Upstream's `mountServiceAccountToken`: every init and regular container
/// without a mount at [`TOKEN_MOUNT_PATH`] gets one (read-only) of the
/// token volume, which is added unless a `kube-api-access-*` volume exists.
fn mount_token(pod: &mut Value, random_suffix: &str) {
    let existing = arr_at(pod, &["spec", "volumes"])
        .iter()
        .filter_map(|v| str_at(v, &["name"]))
        .find(|n| n.starts_with(TOKEN_VOLUME_PREFIX))
        .map(str::to_string);
    let has_volume = existing.is_some();
    let volume_name = existing.unwrap_or_else(|| format!("{TOKEN_VOLUME_PREFIX}{random_suffix}"));
    let mount = json!({"name": volume_name, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH});
    let mut needs_volume = false;
    for list in ["initContainers", "containers"] {
        let Some(containers) = pod
            .get_mut("spec")
            .and_then(|s| s.get_mut(list))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for c in containers.iter_mut().filter(|c| c.is_object()) {
            let mounted = arr_at(c, &["volumeMounts"])
                .iter()
                .any(|m| str_at(m, &["mountPath"]) == Some(TOKEN_MOUNT_PATH));
            if mounted {
                continue;
            }
            if let Some(obj) = c.as_object_mut() {
                let mounts = obj
                    .entry("volumeMounts")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !mounts.is_array() {
                    *mounts = Value::Array(Vec::new());
                }
                if let Some(a) = mounts.as_array_mut() {
                    a.push(mount.clone());
                    needs_volume = true;
                }
            }
        }
    }
    if needs_volume
        && !has_volume
        && let Some(spec) = obj_mut(pod, &["spec"])
    {
        let volumes = spec
            .entry("volumes")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !volumes.is_array() {
            *volumes = Value::Array(Vec::new());
        }
        if let Some(a) = volumes.as_array_mut() {
            a.push(token_volume(&volume_name));
        }
    }
}

#[cfg(test)]
mod tests;

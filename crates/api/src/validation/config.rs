//! ConfigMaps, Secrets and ServiceAccounts.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};

use super::error::{FieldError, Path};
use super::meta::{FIELD_IMMUTABLE, s, validate_object_meta};
use super::names::{config_map_key_errors, name_is_dns_subdomain};

/// Largest total size of a Secret's or ConfigMap's data.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;
const IMMUTABLE_SET: &str = "field is immutable when `immutable` is set";
const REDACTED: &str = "<secret contents redacted>";

fn key_errors(key: &str, path: &Path) -> Vec<FieldError> {
    config_map_key_errors(key)
        .into_iter()
        .map(|m| FieldError::invalid(&path.key(key), key, m))
        .collect()
}

/// A ConfigMap.
pub fn validate_config_map(cm: &ConfigMap, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &cm.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let data_path = Path::new("data");
    let binary = cm.binary_data.clone().unwrap_or_default();
    let mut total = 0;
    for (k, v) in cm.data.iter().flatten() {
        errs.extend(key_errors(k, &data_path));
        if binary.contains_key(k) {
            errs.push(FieldError::invalid(
                &data_path.key(k),
                k.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total += v.len();
    }
    for (k, v) in &binary {
        errs.extend(key_errors(k, &Path::new("binaryData")));
        total += v.0.len();
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long(&Path::default(), MAX_SECRET_SIZE));
    }
    errs
}

/// A ConfigMap update: nothing of an immutable ConfigMap's data changes.
pub fn validate_config_map_update(new: &ConfigMap, old: &ConfigMap) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            errs.push(FieldError::forbidden(
                &Path::new("immutable"),
                IMMUTABLE_SET,
            ));
        }
        let empty = BTreeMap::new();
        if new.data.as_ref().unwrap_or(&empty) != old.data.as_ref().unwrap_or(&empty) {
            errs.push(FieldError::forbidden(&Path::new("data"), IMMUTABLE_SET));
        }
        let empty_b = BTreeMap::new();
        if new.binary_data.as_ref().unwrap_or(&empty_b)
            != old.binary_data.as_ref().unwrap_or(&empty_b)
        {
            errs.push(FieldError::forbidden(
                &Path::new("binaryData"),
                IMMUTABLE_SET,
            ));
        }
    }
    errs
}

/// A Secret: keys, size, and the keys its type requires.
pub fn validate_secret(sec: &Secret, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &sec.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let data_path = Path::new("data");
    // stringData is merged into data by defaulting; count it if it is still
    // here (validation without defaulting).
    let mut data: BTreeMap<String, Vec<u8>> = sec
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    for (k, v) in sec.string_data.iter().flatten() {
        data.insert(k.clone(), v.clone().into_bytes());
    }
    let mut total = 0;
    for (k, v) in &data {
        errs.extend(key_errors(k, &data_path));
        total += v.len();
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long(&data_path, MAX_SECRET_SIZE));
    }
    let ty = s(&sec.type_);
    let required: &[&str] = match ty {
        "kubernetes.io/dockercfg" => &[".dockercfg"],
        "kubernetes.io/dockerconfigjson" => &[".dockerconfigjson"],
        "kubernetes.io/tls" => &["tls.crt", "tls.key"],
        _ => &[],
    };
    for key in required {
        if !data.contains_key(*key) {
            errs.push(FieldError::required(&data_path.key(key), ""));
        } else if key.starts_with(".docker") {
            errs.extend(json_object(&data, key, &data_path));
        }
    }
    let annotations = sec.metadata.annotations.as_ref();
    let sa_name = annotations
        .and_then(|a| a.get("kubernetes.io/service-account.name"))
        .map_or("", String::as_str);
    let basic_auth_empty = !data.contains_key("username") && !data.contains_key("password");
    let ssh_empty = data.get("ssh-privatekey").is_none_or(Vec::is_empty);
    match ty {
        "kubernetes.io/service-account-token" if sa_name.is_empty() => {
            errs.push(FieldError::required(
                &Path::new("metadata")
                    .child("annotations")
                    .key("kubernetes.io/service-account.name"),
                "",
            ));
        }
        "kubernetes.io/basic-auth" if basic_auth_empty => {
            errs.push(FieldError::required(&data_path.key("username"), ""));
            errs.push(FieldError::required(&data_path.key("password"), ""));
        }
        "kubernetes.io/ssh-auth" if ssh_empty => {
            errs.push(FieldError::required(&data_path.key("ssh-privatekey"), ""));
        }
        _ => {}
    }
    errs
}

fn json_object(data: &BTreeMap<String, Vec<u8>>, key: &str, path: &Path) -> Option<FieldError> {
    let bytes = data.get(key)?;
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes) {
        Ok(_) => None,
        Err(e) => Some(FieldError::invalid(&path.key(key), REDACTED, e.to_string())),
    }
}

/// A Secret update: the type is immutable, and so is everything of an
/// immutable Secret's data.
pub fn validate_secret_update(new: &Secret, old: &Secret) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let new_type = if s(&new.type_).is_empty() {
        s(&old.type_)
    } else {
        s(&new.type_)
    };
    if new_type != s(&old.type_) {
        errs.push(FieldError::invalid(
            &Path::new("type"),
            new_type,
            FIELD_IMMUTABLE,
        ));
    }
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            errs.push(FieldError::forbidden(
                &Path::new("immutable"),
                IMMUTABLE_SET,
            ));
        }
        let empty: BTreeMap<String, ByteString> = BTreeMap::new();
        if new.data.as_ref().unwrap_or(&empty) != old.data.as_ref().unwrap_or(&empty) {
            errs.push(FieldError::forbidden(&Path::new("data"), IMMUTABLE_SET));
        }
    }
    errs
}

/// A ServiceAccount.
pub fn validate_service_account(sa: &ServiceAccount, namespaced: bool) -> Vec<FieldError> {
    validate_object_meta(
        &sa.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    )
}

//! Pod volumes: unique DNS-label names, exactly one source each, and the
//! required fields of the common sources.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{KeyToPath, Volume};
use serde_json::Value;

use super::error::{FieldError, Path};
use super::fields::{dns_label, local_descending_path};
use super::meta::s;
use super::names::{config_map_key_errors, name_is_dns_subdomain};

/// Validates the volumes; returns the errors and the set of volume names
/// (for volume mounts to refer to).
pub(crate) fn validate_volumes(
    volumes: &[Volume],
    path: &Path,
) -> (Vec<FieldError>, BTreeSet<String>) {
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, v) in volumes.iter().enumerate() {
        let ip = path.index(i);
        errs.extend(validate_source(v, &ip));
        let np = ip.child("name");
        if v.name.is_empty() {
            errs.push(FieldError::required(&np, ""));
        } else {
            errs.extend(dns_label(&v.name, &np));
        }
        if !names.insert(v.name.clone()) {
            errs.push(FieldError::duplicate(&np, v.name.as_str()));
        }
    }
    (errs, names)
}

fn mode(m: Option<i32>, path: &Path) -> Option<FieldError> {
    m.filter(|m| !(0..=0o777).contains(m)).map(|m| {
        FieldError::invalid(
            path,
            m,
            "must be a number between 0 and 0777 (octal), both inclusive",
        )
    })
}

fn items(items: &[KeyToPath], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, kp) in items.iter().enumerate() {
        let ip = path.index(i);
        if kp.key.is_empty() {
            errs.push(FieldError::required(&ip.child("key"), ""));
        } else {
            for m in config_map_key_errors(&kp.key) {
                errs.push(FieldError::invalid(&ip.child("key"), kp.key.as_str(), m));
            }
        }
        if kp.path.is_empty() {
            errs.push(FieldError::required(&ip.child("path"), ""));
        } else {
            errs.extend(local_descending_path(&kp.path, &ip.child("path")));
        }
        errs.extend(mode(kp.mode, &ip.child("mode")));
    }
    errs
}

fn object_name(name: &str, path: &Path) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    name_is_dns_subdomain(name, false)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect()
}

fn validate_source(v: &Volume, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    // Count the sources generically: every set field but the name is one.
    let sources: Vec<String> = match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| k != "name")
            .collect(),
        _ => Vec::new(),
    };
    if sources.is_empty() {
        errs.push(FieldError::required(path, "must specify a volume type"));
        return errs;
    }
    for extra in sources.iter().skip(1) {
        errs.push(FieldError::forbidden(
            &path.child(extra),
            "may not specify more than 1 volume type",
        ));
    }
    if let Some(c) = &v.config_map {
        let p = path.child("configMap");
        errs.extend(object_name(&c.name, &p.child("name")));
        errs.extend(mode(c.default_mode, &p.child("defaultMode")));
        errs.extend(items(
            c.items.as_deref().unwrap_or_default(),
            &p.child("items"),
        ));
    }
    if let Some(sec) = &v.secret {
        let p = path.child("secret");
        errs.extend(object_name(s(&sec.secret_name), &p.child("secretName")));
        errs.extend(mode(sec.default_mode, &p.child("defaultMode")));
        errs.extend(items(
            sec.items.as_deref().unwrap_or_default(),
            &p.child("items"),
        ));
    }
    if let Some(h) = &v.host_path {
        let p = path.child("hostPath");
        if h.path.is_empty() {
            errs.push(FieldError::required(&p.child("path"), ""));
        }
        let t = s(&h.type_);
        let types = [
            "",
            "DirectoryOrCreate",
            "Directory",
            "FileOrCreate",
            "File",
            "Socket",
            "CharDevice",
            "BlockDevice",
        ];
        if !types.contains(&t) {
            errs.push(FieldError::not_supported(&p.child("type"), t, &types));
        }
    }
    if let Some(c) = &v.persistent_volume_claim
        && c.claim_name.is_empty()
    {
        errs.push(FieldError::required(
            &path.child("persistentVolumeClaim").child("claimName"),
            "",
        ));
    }
    if let Some(e) = &v.empty_dir {
        let medium = s(&e.medium);
        if !medium.is_empty() && medium != "Memory" && !medium.starts_with("HugePages") {
            errs.push(FieldError::not_supported(
                &path.child("emptyDir").child("medium"),
                medium,
                &["", "Memory", "HugePages"],
            ));
        }
    }
    if let Some(d) = &v.downward_api {
        let p = path.child("downwardAPI");
        errs.extend(mode(d.default_mode, &p.child("defaultMode")));
        for (i, f) in d.items.iter().flatten().enumerate() {
            let ip = p.child("items").index(i);
            if f.path.is_empty() {
                errs.push(FieldError::required(&ip.child("path"), ""));
            } else {
                errs.extend(local_descending_path(&f.path, &ip.child("path")));
            }
            errs.extend(mode(f.mode, &ip.child("mode")));
        }
    }
    if let Some(pr) = &v.projected {
        let p = path.child("projected");
        errs.extend(mode(pr.default_mode, &p.child("defaultMode")));
        for (i, src) in pr.sources.iter().flatten().enumerate() {
            let ip = p.child("sources").index(i);
            let n = [
                src.config_map.is_some(),
                src.secret.is_some(),
                src.downward_api.is_some(),
                src.service_account_token.is_some(),
                src.cluster_trust_bundle.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if n > 1 {
                errs.push(FieldError::forbidden(
                    &ip,
                    "may not specify more than 1 volume type per source",
                ));
            }
            if let Some(t) = &src.service_account_token {
                let tp = ip.child("serviceAccountToken");
                if t.path.is_empty() {
                    errs.push(FieldError::required(&tp.child("path"), ""));
                }
                if let Some(e) = t.expiration_seconds {
                    if e < 600 {
                        errs.push(FieldError::invalid(
                            &tp.child("expirationSeconds"),
                            e,
                            "may not specify a duration less than 10 minutes",
                        ));
                    } else if e > (1i64 << 32) {
                        errs.push(FieldError::invalid(
                            &tp.child("expirationSeconds"),
                            e,
                            "may not specify a duration larger than 2^32 seconds",
                        ));
                    }
                }
            }
        }
    }
    errs
}

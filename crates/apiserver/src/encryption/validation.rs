//! Upstream's `ValidateEncryptionConfiguration`, turning the decoded file
//! into an [`EncryptionConfig`]: every problem as a field error with its
//! path, upstream's messages, plus ironclad's own limits (duplicate key
//! names; `kms` and `secretbox` are not supported).

use base64::Engine;
use ironclad_api::validation::error::{FieldError, Path};
use serde_json::Value;

use super::config::{API_VERSION, EncryptionConfig, KIND, Key, Provider, ResourceConfig};
use super::error::EncryptionError;
use super::group_resource::GroupResource;
use super::transformers::resource_entries;
use super::wire::{FileConfig, FileKey, FileProvider};

const MORE_THAN_ONE_ELEMENT: &str = "more than one provider specified in a single element, should split into different list elements";
const NO_PROVIDER: &str = "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity";
const BASE64_ENCODING: &str = "secrets must be base64 encoded";
const EVENTS_GROUP: &str = "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file";
const EXTENSIONS_GROUP: &str =
    "'extensions' group has been removed and cannot be used for encryption";
const STAR_RESOURCE: &str =
    "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources";
const OVERLAP: &str = "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked";
const NON_REST_API_RESOURCE: &str = "resources which do not have REST API/s cannot be encrypted";
const RESOURCE_NAME: &str = "resource name should not contain capital letters";
const RESOURCE_ACROSS_GROUP: &str = "encrypting the same resource across groups is not supported";
const DUPLICATE_RESOURCE: &str = "the same resource cannot be specified multiple times";
const NOT_SUPPORTED: &str =
    "not supported by ironclad (supported providers: aescbc, aesgcm, identity)";
/// AES key lengths in bytes (AES-128, -192, -256).
const AES_KEY_SIZES: [usize; 3] = [16, 24, 32];

fn at_least_one(what: &str) -> String {
    format!("at least one {what} is required")
}

fn mandatory(field: &str, of: &str) -> String {
    format!("{field} is a mandatory field for a {of}")
}

/// Validates the decoded file and builds the configuration.
pub(crate) fn validate(file: FileConfig) -> Result<EncryptionConfig, EncryptionError> {
    let mut errs = type_meta_errors(&file);
    if !errs.is_empty() {
        return Err(EncryptionError::Invalid(errs));
    }
    let root = Path::new("resources");
    if file.resources.is_empty() {
        let msg = at_least_one(root.as_str());
        return Err(EncryptionError::Invalid(vec![FieldError::required(
            &root, msg,
        )]));
    }
    let mut resources = Vec::with_capacity(file.resources.len());
    for (i, entry) in file.resources.iter().enumerate() {
        let r = root.index(i).child("resources");
        let p = root.index(i).child("providers");
        if entry.resources.is_empty() {
            errs.push(FieldError::required(&r, at_least_one(r.as_str())));
        }
        errs.extend(resource_overlap_errors(&entry.resources, &r));
        errs.extend(resource_name_errors(&entry.resources, &r));
        if entry.providers.is_empty() {
            errs.push(FieldError::required(&p, at_least_one(p.as_str())));
        }
        let mut providers = Vec::with_capacity(entry.providers.len());
        for (j, provider) in entry.providers.iter().enumerate() {
            if let Some(p) = provider_config(provider, &p.index(j), &mut errs) {
                providers.push(p);
            }
        }
        resources.push(ResourceConfig {
            resources: entry.resources.clone(),
            providers,
        });
    }
    if !errs.is_empty() {
        return Err(EncryptionError::Invalid(errs));
    }
    let config = EncryptionConfig { resources };
    resource_entries(&config)?;
    Ok(config)
}

fn type_meta_errors(file: &FileConfig) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if file.kind.is_empty() {
        errs.push(FieldError::required(&Path::new("kind"), ""));
    } else if file.kind != KIND {
        errs.push(FieldError::not_supported(
            &Path::new("kind"),
            file.kind.as_str(),
            &[KIND],
        ));
    }
    if file.api_version.is_empty() {
        errs.push(FieldError::required(&Path::new("apiVersion"), ""));
    } else if file.api_version != API_VERSION {
        errs.push(FieldError::not_supported(
            &Path::new("apiVersion"),
            file.api_version.as_str(),
            &[API_VERSION],
        ));
    }
    errs
}

/// One provider entry; `None` (with errors pushed) when it is unusable.
fn provider_config(
    provider: &FileProvider,
    path: &Path,
    errs: &mut Vec<FieldError>,
) -> Option<Provider> {
    let set = provider.set_fields();
    match set.as_slice() {
        [] => {
            errs.push(FieldError::invalid(
                path,
                Value::Object(Default::default()),
                NO_PROVIDER,
            ));
            return None;
        }
        [_] => {}
        many => {
            let names: Vec<Value> = many.iter().map(|s| Value::from(*s)).collect();
            errs.push(FieldError::invalid(path, names, MORE_THAN_ONE_ELEMENT));
            return None;
        }
    }
    if provider.kms.is_some() {
        errs.push(FieldError::forbidden(&path.child("kms"), NOT_SUPPORTED));
        return None;
    }
    if provider.secretbox.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("secretbox"),
            NOT_SUPPORTED,
        ));
        return None;
    }
    if let Some(aes) = &provider.aesgcm {
        let keys = keys(&aes.keys, &path.child("aesgcm").child("keys"), errs)?;
        return Some(Provider::AesGcm(keys));
    }
    if let Some(aes) = &provider.aescbc {
        let keys = keys(&aes.keys, &path.child("aescbc").child("keys"), errs)?;
        return Some(Provider::AesCbc(keys));
    }
    Some(Provider::Identity)
}

fn keys(keys: &[FileKey], path: &Path, errs: &mut Vec<FieldError>) -> Option<Vec<Key>> {
    if keys.is_empty() {
        errs.push(FieldError::required(path, at_least_one("keys")));
        return None;
    }
    let before = errs.len();
    let mut out = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let kp = path.index(i);
        if key.name.is_empty() {
            errs.push(FieldError::required(
                &kp.child("name"),
                mandatory("name", "key"),
            ));
        } else if keys[..i].iter().any(|k| k.name == key.name) {
            errs.push(FieldError::duplicate(&kp.child("name"), key.name.as_str()));
        }
        if let Some(secret) = secret(&key.secret, &kp.child("secret"), errs) {
            out.push(Key::new(&key.name, secret));
        }
    }
    (errs.len() == before).then_some(out)
}

/// Decodes and checks one key's secret.
fn secret(text: &str, path: &Path, errs: &mut Vec<FieldError>) -> Option<Vec<u8>> {
    if text.is_empty() {
        errs.push(FieldError::required(path, mandatory("secret", "key")));
        return None;
    }
    // Go's base64 decoder skips line breaks.
    let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let Ok(secret) = base64::engine::general_purpose::STANDARD.decode(compact) else {
        errs.push(FieldError::invalid(path, "REDACTED", BASE64_ENCODING));
        return None;
    };
    if !AES_KEY_SIZES.contains(&secret.len()) {
        errs.push(FieldError::invalid(
            path,
            "REDACTED",
            format!(
                "secret is not of the expected length, got {}, expected one of [16 24 32]",
                secret.len()
            ),
        ));
        return None;
    }
    Some(secret)
}

/// Upstream's `validateResourceOverlap`: the same resource twice, or a
/// wildcard next to what it covers, in one list.
fn resource_overlap_errors(resources: &[String], path: &Path) -> Vec<FieldError> {
    if resources.len() < 2 {
        return Vec::new();
    }
    let parsed: Vec<GroupResource> = resources.iter().map(|r| GroupResource::parse(r)).collect();
    let any = GroupResource::any();
    let (mut overlap, mut duplicate) = (false, false);
    for (i, r1) in parsed.iter().enumerate() {
        for (j, r2) in parsed.iter().enumerate() {
            if i == j {
                continue;
            }
            if r1 == r2 && !duplicate {
                duplicate = true;
                continue;
            }
            if overlap {
                continue;
            }
            if *r1 == any {
                overlap = true;
                continue;
            }
            if r1.group != r2.group {
                continue;
            }
            if r1.resource == "*" || r2.resource == "*" {
                overlap = true;
            }
        }
    }
    let list = || Value::from(resources.to_vec());
    let mut errs = Vec::new();
    if duplicate {
        errs.push(FieldError::invalid(path, list(), DUPLICATE_RESOURCE));
    }
    if overlap {
        errs.push(FieldError::invalid(path, list(), OVERLAP));
    }
    errs
}

/// Upstream's `validateResourceNames`.
fn resource_name_errors(resources: &[String], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (j, res) in resources.iter().enumerate() {
        let detail = if res.to_lowercase() != *res {
            RESOURCE_NAME
        } else if res == "*" {
            STAR_RESOURCE
        } else if matches!(
            res.as_str(),
            "apiserveripinfo" | "serviceipallocations" | "servicenodeportallocations"
        ) {
            NON_REST_API_RESOURCE
        } else {
            let gr = GroupResource::parse(res);
            if gr.group == "events.k8s.io" {
                EVENTS_GROUP
            } else if gr.group == "extensions" {
                EXTENSIONS_GROUP
            } else if gr.group == "*" && gr.resource != "*" {
                RESOURCE_ACROSS_GROUP
            } else {
                continue;
            }
        };
        errs.push(FieldError::invalid(&path.index(j), res.as_str(), detail));
    }
    errs
}

//! The transformers of every configured resource, and how a resource finds
//! its own: its exact name, else its group's wildcard (`*.apps`, `*.` for
//! core), else `*.*`. A resource named by several entries gets the
//! providers of all of them, in order (upstream appends them); a resource
//! after a wildcard of an earlier entry that covers it is an error, since
//! that entry would never apply.

use std::collections::HashMap;

use super::config::{EncryptionConfig, Provider};
use super::error::EncryptionError;
use super::group_resource::GroupResource;
use super::transformer::Transformer;

/// Which entries (by index) store each named resource, in first-seen
/// order; fails when an earlier wildcard masks a later resource.
pub(crate) fn resource_entries(
    config: &EncryptionConfig,
) -> Result<Vec<(GroupResource, Vec<usize>)>, EncryptionError> {
    let mut out: Vec<(GroupResource, Vec<usize>)> = Vec::new();
    for (i, entry) in config.resources.iter().enumerate() {
        for text in &entry.resources {
            let gr = GroupResource::parse(text);
            for rule in [gr.any_in_group(), GroupResource::any()] {
                if out.iter().any(|(seen, _)| *seen == rule) {
                    return Err(EncryptionError::Masked {
                        resource: gr.yaml_string(),
                        rule: rule.yaml_string(),
                    });
                }
            }
            match out.iter_mut().find(|(seen, _)| *seen == gr) {
                Some((_, entries)) => entries.push(i),
                None => out.push((gr, vec![i])),
            }
        }
    }
    Ok(out)
}

/// The transformers of a configuration, by resource.
#[derive(Debug, Default)]
pub struct Transformers {
    by_resource: HashMap<GroupResource, Transformer>,
}

impl Transformers {
    /// The transformers of `config`.
    pub fn new(config: &EncryptionConfig) -> Result<Transformers, EncryptionError> {
        let mut by_resource = HashMap::new();
        for (gr, entries) in resource_entries(config)? {
            let providers: Vec<Provider> = entries
                .iter()
                .flat_map(|&i| config.resources[i].providers.iter().cloned())
                .collect();
            by_resource.insert(gr, Transformer::new(&providers)?);
        }
        Ok(Transformers { by_resource })
    }

    /// No transformers: everything is stored as plaintext.
    pub fn none() -> Transformers {
        Transformers::default()
    }

    /// Whether no resource is configured.
    pub fn is_empty(&self) -> bool {
        self.by_resource.is_empty()
    }

    /// The transformer of a resource (`group` "" for core), or `None` when
    /// the configuration does not cover it: then values are stored as
    /// plaintext, and a value with an encryption prefix
    /// ([`super::is_encrypted`]) must not be served as plaintext.
    pub fn for_resource(&self, group: &str, resource: &str) -> Option<&Transformer> {
        let exact = GroupResource::new(group, resource);
        self.by_resource
            .get(&exact)
            .or_else(|| self.by_resource.get(&exact.any_in_group()))
            .or_else(|| self.by_resource.get(&GroupResource::any()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::config::{Key, ResourceConfig};

    fn entry(resources: &[&str], key: &str) -> ResourceConfig {
        ResourceConfig {
            resources: resources.iter().map(|s| s.to_string()).collect(),
            providers: vec![Provider::AesCbc(vec![Key::new(key, vec![1; 32])])],
        }
    }

    fn key_of(ts: &Transformers, group: &str, resource: &str) -> Option<String> {
        ts.for_resource(group, resource).map(|t| {
            t.write_key()
                .map(|(_, k)| k.to_string())
                .unwrap_or_default()
        })
    }

    #[test]
    fn exact_then_group_wildcard_then_everything() {
        let config = EncryptionConfig {
            resources: vec![
                ResourceConfig {
                    resources: vec!["events".into()],
                    providers: vec![Provider::Identity],
                },
                entry(
                    &["secrets", "configmaps", "pandas.awesome.bears.example"],
                    "k1",
                ),
                entry(&["deployments.apps"], "k-deploy"),
                entry(&["*.apps"], "k2"),
                entry(&["*."], "k-core"),
                entry(&["*.*"], "k3"),
            ],
        };
        let ts = Transformers::new(&config).unwrap();
        assert_eq!(key_of(&ts, "", "events").as_deref(), Some(""));
        assert_eq!(key_of(&ts, "", "secrets").as_deref(), Some("k1"));
        assert_eq!(key_of(&ts, "", "configmaps").as_deref(), Some("k1"));
        assert_eq!(
            key_of(&ts, "awesome.bears.example", "pandas").as_deref(),
            Some("k1")
        );
        assert_eq!(
            key_of(&ts, "apps", "deployments").as_deref(),
            Some("k-deploy")
        );
        assert_eq!(key_of(&ts, "apps", "statefulsets").as_deref(), Some("k2"));
        assert_eq!(key_of(&ts, "", "pods").as_deref(), Some("k-core"));
        assert_eq!(key_of(&ts, "batch", "jobs").as_deref(), Some("k3"));
        assert!(ts.for_resource("", "events").unwrap().writes_plaintext());
    }

    #[test]
    fn uncovered_resources_have_no_transformer() {
        let ts = Transformers::new(&EncryptionConfig {
            resources: vec![entry(&["secrets"], "k")],
        })
        .unwrap();
        assert!(ts.for_resource("", "configmaps").is_none());
        assert!(ts.for_resource("apps", "secrets").is_none());
        assert!(!ts.is_empty());
        assert!(Transformers::none().is_empty());
        assert!(Transformers::none().for_resource("", "secrets").is_none());
    }

    #[test]
    fn a_resource_in_two_entries_reads_with_both() {
        let first = entry(&["secrets"], "a");
        let second = entry(&["secrets"], "b");
        let ts = Transformers::new(&EncryptionConfig {
            resources: vec![first.clone(), second.clone()],
        })
        .unwrap();
        let only_b = Transformers::new(&EncryptionConfig {
            resources: vec![second],
        })
        .unwrap();
        let stored = only_b
            .for_resource("", "secrets")
            .unwrap()
            .encrypt(b"v", b"k")
            .unwrap();
        let t = ts.for_resource("", "secrets").unwrap();
        assert_eq!(t.write_key(), Some(("aescbc", "a")));
        assert!(t.decrypt(&stored, b"k").unwrap().stale);
    }

    #[test]
    fn masked_resources_are_errors() {
        for (entries, want) in [
            (
                vec![entry(&["*."], "a"), entry(&["secrets"], "b")],
                r#"resource "secrets" is masked by earlier rule "*.""#,
            ),
            (
                vec![entry(&["*.*"], "a"), entry(&["deployments.apps"], "b")],
                r#"resource "deployments.apps" is masked by earlier rule "*.*""#,
            ),
            (
                vec![entry(&["*.apps"], "a"), entry(&["*.apps"], "b")],
                r#"resource "*.apps" is masked by earlier rule "*.apps""#,
            ),
        ] {
            let err = Transformers::new(&EncryptionConfig { resources: entries }).unwrap_err();
            assert_eq!(err.to_string(), want);
        }
    }
}

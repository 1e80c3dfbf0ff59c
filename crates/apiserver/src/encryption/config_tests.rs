//! Reading and validating configuration files.

use super::*;

/// 32, 16 and 24-byte keys, base64.
const K32: &str = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU=";
const K16: &str = "c2VjcmV0IGlzIHNlY3VyZQ==";
const K24: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0";

fn doc(body: &str) -> String {
    format!("kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\n{body}")
}

#[test]
fn reads_upstreams_example() {
    let text = doc(&format!(
        r#"
resources:
- resources:
  - events
  providers:
  - identity: {{}}  # do not encrypt events even though *.* is specified below
- resources:
  - secrets
  - configmaps
  - pandas.awesome.bears.example
  providers:
  - aescbc:
      keys:
      - name: key1
        secret: {K16}
- resources:
  - '*.apps'
  providers:
  - aesgcm:
      keys:
      - name: key2
        secret: {K24}
      - name: key2b
        secret: {K32}
- resources:
  - '*.*'
  providers:
  - aescbc:
      keys:
      - name: key3
        secret: {K32}
  - identity: {{}}
"#
    ));
    let config = EncryptionConfig::from_yaml(&text).unwrap();
    assert_eq!(config.resources.len(), 4);
    assert_eq!(config.resources[0].providers, vec![Provider::Identity]);
    let Provider::AesCbc(keys) = &config.resources[1].providers[0] else {
        panic!("aescbc expected");
    };
    assert_eq!(keys[0].name, "key1");
    assert_eq!(keys[0].secret, b"secret is secure");
    assert!(!format!("{keys:?}").contains("secure"));
    let Provider::AesGcm(keys) = &config.resources[2].providers[0] else {
        panic!("aesgcm expected");
    };
    assert_eq!((keys[0].secret.len(), keys[1].secret.len()), (24, 32));
    let ts = config.transformers().unwrap();
    let t = ts.for_resource("apps", "deployments").unwrap();
    assert_eq!(t.write_key(), Some(("aesgcm", "key2")));
    assert!(ts.for_resource("", "events").unwrap().writes_plaintext());
    assert_eq!(
        ts.for_resource("batch", "jobs").unwrap().write_key(),
        Some(("aescbc", "key3"))
    );
}

#[test]
fn reads_json_and_files() {
    let json = format!(
        r#"{{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1",
	"resources":[{{"resources":["secrets"],"providers":[{{"aesgcm":{{"keys":[{{"name":"k","secret":"{K32}"}}]}}}},{{"identity":{{}}}}]}}]}}"#
    );
    let config = EncryptionConfig::from_yaml(&json).unwrap();
    assert_eq!(config.resources[0].providers.len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enc.yaml");
    std::fs::write(&path, &json).unwrap();
    assert_eq!(EncryptionConfig::from_file(&path).unwrap(), config);
    let missing = EncryptionConfig::from_file(&dir.path().join("nope")).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("error opening encryption provider configuration file"),
        "{missing}"
    );
    std::fs::write(&path, doc("resources: []")).unwrap();
    let bad = EncryptionConfig::from_file(&path).unwrap_err().to_string();
    assert!(bad.contains("enc.yaml"), "{bad}");
    assert!(bad.ends_with("resources: Required value: at least one resources is required"));
}

#[test]
fn default_for_key_encrypts_secrets_and_reads_plaintext() {
    let config = EncryptionConfig::default_for_key(&[7u8; 32]);
    let ts = config.transformers().unwrap();
    let t = ts.for_resource("", "secrets").unwrap();
    assert_eq!(t.write_key(), Some(("aescbc", DEFAULT_KEY_NAME)));
    let stored = t.encrypt(b"{}", b"/registry/secrets/a/b").unwrap();
    assert!(stored.starts_with(b"k8s:enc:aescbc:v1:ironclad-1:"));
    assert_eq!(
        t.decrypt(b"{\"old\":1}", b"k").unwrap().plain,
        b"{\"old\":1}"
    );
    assert!(t.decrypt(b"{\"old\":1}", b"k").unwrap().stale);
    assert!(ts.for_resource("", "configmaps").is_none());
}

/// Each case: the file's body after the type header, and the full error.
#[test]
fn invalid_configurations_name_the_field() {
    let aescbc_key = |name: &str, secret: &str| {
        format!(
            "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: {name}\n        secret: {secret}\n"
        )
    };
    let cases: Vec<(String, String)> = vec![
        (
            "resources: []".into(),
            "resources: Required value: at least one resources is required".into(),
        ),
        (
            "resources:\n- providers: [{identity: {}}]".into(),
            "resources[0].resources: Required value: at least one resources[0].resources is required".into(),
        ),
        (
            "resources:\n- resources: [secrets]".into(),
            "resources[0].providers: Required value: at least one resources[0].providers is required".into(),
        ),
        (
            aescbc_key("k", "cGFzc3dvcmQK"),
            r#"resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 9, expected one of [16 24 32]"#.into(),
        ),
        (
            aescbc_key("k", "P@ssword"),
            r#"resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secrets must be base64 encoded"#.into(),
        ),
        (
            aescbc_key("''", K32),
            "resources[0].providers[0].aescbc.keys[0].name: Required value: name is a mandatory field for a key".into(),
        ),
        (
            aescbc_key("k", "''"),
            "resources[0].providers[0].aescbc.keys[0].secret: Required value: secret is a mandatory field for a key".into(),
        ),
        (
            "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: []}".into(),
            "resources[0].providers[0].aesgcm.keys: Required value: at least one keys is required".into(),
        ),
        (
            format!("resources:\n- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n      - {{name: a, secret: {K32}}}\n      - {{name: a, secret: {K16}}}"),
            r#"resources[0].providers[0].aesgcm.keys[1].name: Duplicate value: "a""#.into(),
        ),
        (
            "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n  - kms: {name: p, endpoint: 'unix:///tmp/kms.sock'}".into(),
            "resources[0].providers[1].kms: Forbidden: not supported by ironclad (supported providers: aescbc, aesgcm, identity)".into(),
        ),
        (
            format!("resources:\n- resources: [secrets]\n  providers:\n  - secretbox: {{keys: [{{name: a, secret: {K32}}}]}}"),
            "resources[0].providers[0].secretbox: Forbidden: not supported by ironclad (supported providers: aescbc, aesgcm, identity)".into(),
        ),
        (
            format!("resources:\n- resources: [secrets]\n  providers:\n  - identity: {{}}\n    aescbc: {{keys: [{{name: a, secret: {K32}}}]}}"),
            r#"resources[0].providers[0]: Invalid value: []string{"aescbc", "identity"}: more than one provider specified in a single element, should split into different list elements"#.into(),
        ),
        (
            "resources:\n- resources: [secrets]\n  providers:\n  - {}".into(),
            "resources[0].providers[0]: Invalid value: {}: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity".into(),
        ),
        (
            "resources:\n- resources: [Secrets]\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources[0]: Invalid value: "Secrets": resource name should not contain capital letters"#.into(),
        ),
        (
            "resources:\n- resources: ['*']\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources[0]: Invalid value: "*": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"#.into(),
        ),
        (
            "resources:\n- resources: [events.events.k8s.io]\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources[0]: Invalid value: "events.events.k8s.io": '*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"#.into(),
        ),
        (
            "resources:\n- resources: [serviceipallocations]\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources[0]: Invalid value: "serviceipallocations": resources which do not have REST API/s cannot be encrypted"#.into(),
        ),
        (
            "resources:\n- resources: ['secrets.*']\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources[0]: Invalid value: "secrets.*": encrypting the same resource across groups is not supported"#.into(),
        ),
        (
            "resources:\n- resources: [deployments.extensions]\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources[0]: Invalid value: "deployments.extensions": 'extensions' group has been removed and cannot be used for encryption"#.into(),
        ),
        (
            "resources:\n- resources: [secrets, '*.']\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources: Invalid value: []string{"secrets", "*."}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"#.into(),
        ),
        (
            "resources:\n- resources: [secrets, secrets]\n  providers: [{identity: {}}]".into(),
            r#"resources[0].resources: Invalid value: []string{"secrets", "secrets"}: the same resource cannot be specified multiple times"#.into(),
        ),
        (
            "resources:\n- resources: ['*.*']\n  providers: [{identity: {}}]\n- resources: [secrets]\n  providers: [{identity: {}}]".into(),
            r#"resource "secrets" is masked by earlier rule "*.*""#.into(),
        ),
        (
            "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: []}}, {}]".into(),
            "[resources[0].providers[0].aescbc.keys: Required value: at least one keys is required, resources[0].providers[1]: Invalid value: {}: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity]".into(),
        ),
    ];
    for (body, want) in cases {
        let err = EncryptionConfig::from_yaml(&doc(&body)).unwrap_err();
        assert_eq!(err.to_string(), want, "for:\n{body}");
    }
}

#[test]
fn type_meta_and_syntax_errors() {
    for (text, want) in [
        (
            "apiVersion: apiserver.config.k8s.io/v1\nresources: []".to_string(),
            "kind: Required value".to_string(),
        ),
        (
            "kind: EncryptionConfig\napiVersion: v1\nresources: []".to_string(),
            r#"[kind: Unsupported value: "EncryptionConfig": supported values: "EncryptionConfiguration", apiVersion: Unsupported value: "v1": supported values: "apiserver.config.k8s.io/v1"]"#.to_string(),
        ),
        (
            "kind: EncryptionConfiguration\nresources: []".to_string(),
            "apiVersion: Required value".to_string(),
        ),
        (
            "   \n".to_string(),
            "error while parsing encryption provider configuration: the configuration is empty"
                .to_string(),
        ),
    ] {
        let err = EncryptionConfig::from_yaml(&text).unwrap_err();
        assert_eq!(err.to_string(), want, "for:\n{text}");
    }
    // Unknown fields are errors that name where they are (strict decoding).
    let typo = doc(
        "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: x\n        pandas: are the best\n",
    );
    let err = EncryptionConfig::from_yaml(&typo).unwrap_err().to_string();
    assert!(
        err.contains("resources[0].providers[0].aescbc.keys[0]"),
        "{err}"
    );
    assert!(err.contains("unknown field `pandas`"), "{err}");
    let err = EncryptionConfig::from_yaml(&doc("resources: {a: 1}"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("error while parsing encryption provider configuration: resources"),
        "{err}"
    );
    let err = EncryptionConfig::from_yaml("{\"kind\": ")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("error while parsing encryption provider configuration"),
        "{err}"
    );
    // Null lists read as empty, as Go reads them.
    let err = EncryptionConfig::from_yaml(&doc("resources: ~")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resources: Required value: at least one resources is required"
    );
}

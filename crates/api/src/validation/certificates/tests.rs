use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use serde_json::{Value, json};

use crate::registry::lookup;
use crate::validation::{validate_create, validate_update};

fn request_pem() -> String {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "alice");
    params.distinguished_name = dn;
    let key = KeyPair::generate().unwrap();
    params.serialize_request(&key).unwrap().pem().unwrap()
}

fn cert_pem() -> String {
    let key = KeyPair::generate().unwrap();
    CertificateParams::new(vec!["a.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem()
}

fn b64(s: &str) -> String {
    STANDARD.encode(s.as_bytes())
}

fn csr() -> Value {
    json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "my-csr"},
        "spec": {
            "request": b64(&request_pem()),
            "signerName": "example.com/my-signer",
            "usages": ["digital signature", "client auth"],
        },
    })
}

fn errors(obj: &Value) -> Vec<String> {
    let info = lookup("certificates.k8s.io", "v1", "certificatesigningrequests").unwrap();
    validate_create(info, obj)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn update_errors(new: &Value, old: &Value) -> Vec<String> {
    let info = lookup("certificates.k8s.io", "v1", "certificatesigningrequests").unwrap();
    validate_update(info, new, old)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_valid_request_passes() {
    assert_eq!(errors(&csr()), Vec::<String>::new());
    let mut c = csr();
    c["spec"]["expirationSeconds"] = json!(600);
    c["metadata"]["name"] = json!("Any:Name.Goes");
    assert_eq!(errors(&c), Vec::<String>::new());
}

#[test]
fn the_request_must_be_a_signed_pem_certificate_request() {
    let mut c = csr();
    c["spec"]["request"] = json!(b64("-- not pem --"));
    let e = errors(&c);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("spec.request: Invalid value: []byte{0x2d, 0x2d, 0x20,"),
        "{e:?}"
    );
    assert!(e[0].ends_with("}: PEM block type must be CERTIFICATE REQUEST"));
    c["spec"]["request"] = json!(b64(&cert_pem()));
    assert!(errors(&c)[0].ends_with("PEM block type must be CERTIFICATE REQUEST"));
    c["spec"].as_object_mut().unwrap().remove("request");
    assert_eq!(
        errors(&c),
        ["spec.request: Invalid value: []byte(nil): PEM block type must be CERTIFICATE REQUEST"]
    );
}

#[test]
fn usages_signer_and_expiration() {
    let mut c = csr();
    c["spec"]["usages"] = json!([]);
    c["spec"]["signerName"] = json!("");
    c["spec"]["expirationSeconds"] = json!(599);
    assert_eq!(
        errors(&c),
        [
            "spec.usages: Required value",
            "spec.signerName: Required value",
            "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)",
        ]
    );
    let mut c = csr();
    c["spec"]["usages"] = json!(["client auth", "bogus", "client auth"]);
    let e = errors(&c);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with(
        r#"spec.usages[1]: Unsupported value: "bogus": supported values: "any", "cert sign","#
    ));
    assert_eq!(e[1], r#"spec.usages[2]: Duplicate value: "client auth""#);
}

#[test]
fn signer_names() {
    let cases: &[(&str, &[&str])] = &[
        ("example.com/signer", &[]),
        ("a.b.c/x.y-z", &[]),
        (
            "no-slash",
            &[
                "spec.signerName: Invalid value: \"no-slash\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
            ],
        ),
        (
            "a.com/b/c",
            &[
                "spec.signerName: Invalid value: \"a.com/b/c\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
            ],
        ),
        (
            "example/signer",
            &[
                "spec.signerName: Invalid value: \"example\": should be a domain with at least two segments separated by dots",
            ],
        ),
        (
            "kubernetes.io/legacy-unknown",
            &[
                "spec.signerName: Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName is not allowed via this API version",
            ],
        ),
    ];
    for (name, want) in cases {
        let mut c = csr();
        c["spec"]["signerName"] = json!(name);
        assert_eq!(errors(&c), *want, "{name}");
    }
    let mut c = csr();
    c["spec"]["signerName"] = json!("Example.com/UPPER");
    let e = errors(&c);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with(
        "spec.signerName: Invalid value: \"Example.com\": validating label \"Example\": a lowercase RFC 1123 label"
    ));
    assert!(e[1].starts_with(
        "spec.signerName: Invalid value: \"UPPER\": validating label \"UPPER\": a lowercase RFC 1123 subdomain"
    ));
}

#[test]
fn conditions() {
    let mut c = csr();
    c["status"] = json!({"conditions": [
        {"type": "Approved", "status": "True"},
        {"type": "Denied", "status": "True"},
        {"type": "Failed", "status": "False"},
        {"type": "Custom", "status": "Maybe"},
        {"type": "Custom", "status": "Unknown"},
        {"type": "", "status": ""},
    ]});
    assert_eq!(
        errors(&c),
        [
            r#"status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive"#,
            r#"status.conditions[2].status: Unsupported value: "False": supported values: "True""#,
            r#"status.conditions[3].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown""#,
            r#"status.conditions[4].type: Duplicate value: "Custom""#,
            "status.conditions[5].type: Required value",
            "status.conditions[5].status: Required value",
        ]
    );
}

#[test]
fn the_certificate_must_be_pem_certificates() {
    let mut c = csr();
    c["status"] = json!({"certificate": b64(&cert_pem())});
    assert_eq!(errors(&c), Vec::<String>::new());
    c["status"]["certificate"] = json!(b64(&format!("{}{}", cert_pem(), cert_pem())));
    assert_eq!(errors(&c), Vec::<String>::new());
    for (data, detail) in [
        (
            "nothing".to_string(),
            "must contain at least one CERTIFICATE PEM block",
        ),
        (
            request_pem(),
            "only CERTIFICATE PEM blocks are allowed, found \"CERTIFICATE REQUEST\"",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nA: b\n\naGk=\n-----END CERTIFICATE-----\n".to_string(),
            "no PEM block headers are permitted",
        ),
    ] {
        c["status"]["certificate"] = json!(b64(&data));
        assert_eq!(
            errors(&c),
            [format!(
                "status.certificate: Invalid value: \"<certificate data>\": {detail}"
            )]
        );
    }
    c["status"]["certificate"] = json!(b64(
        "-----BEGIN CERTIFICATE-----\naGk=\n-----END CERTIFICATE-----\n"
    ));
    assert!(errors(&c)[0].contains("x509: malformed certificate"));
}

#[test]
fn updates_keep_spec_conditions_and_certificate() {
    let mut old = csr();
    old["status"] = json!({
        "certificate": b64(&cert_pem()),
        "conditions": [{"type": "Approved", "status": "True"}, {"type": "Failed", "status": "True"}],
    });
    assert_eq!(update_errors(&old, &old), Vec::<String>::new());
    let mut new = old.clone();
    new["spec"]["usages"] = json!(["client auth"]);
    new["status"]["conditions"] = json!([{"type": "Approved", "status": "True"}]);
    new["status"]["certificate"] = json!(b64(&cert_pem()));
    assert_eq!(
        update_errors(&new, &old),
        [
            "spec: Forbidden: field is immutable",
            r#"status.conditions: Forbidden: updates may not remove a condition of type "Failed""#,
            "status.certificate: Forbidden: updates may not modify existing certificate content",
        ]
    );
    // A first certificate, and new conditions, are fine.
    let mut fresh = csr();
    let mut signed = fresh.clone();
    signed["status"] = json!({"certificate": b64(&cert_pem()), "conditions": [{"type": "Approved", "status": "True"}]});
    assert_eq!(update_errors(&signed, &fresh), Vec::<String>::new());
    let base = fresh.clone();
    fresh["metadata"]["labels"] = json!({"a": "b"});
    assert_eq!(update_errors(&fresh, &base), Vec::<String>::new());
}

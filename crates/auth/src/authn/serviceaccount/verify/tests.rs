use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::authn::serviceaccount::testkeys::{self, TestKey};
use crate::authn::serviceaccount::{
    BoundKind, BoundObject, EXPIRATION_EXTENSION_SECONDS, ServiceAccountLookup, TokenSigner,
    TokenSpec, WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS, validate_live,
};
use crate::authn::timefmt;

const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

fn at(s: &str) -> SystemTime {
    timefmt::parse(s).unwrap()
}

fn now() -> SystemTime {
    at("2025-06-01T00:00:00Z")
}

fn signer(key: &TestKey) -> TokenSigner {
    TokenSigner::new(&key.private_pem, ISSUER).unwrap()
}

fn verifier(keys: &[&TestKey]) -> TokenVerifier {
    let pems: Vec<&str> = keys.iter().map(|k| k.public_pem.as_str()).collect();
    TokenVerifier::new(
        &pems,
        vec![ISSUER.to_string()],
        vec![API_AUDIENCE.to_string()],
    )
    .unwrap()
}

fn spec() -> TokenSpec {
    TokenSpec {
        namespace: "default".into(),
        service_account_name: "builder".into(),
        service_account_uid: "sa-uid".into(),
        audiences: vec![API_AUDIENCE.into()],
        expiration_seconds: 3600,
        bound: Some(BoundObject {
            kind: BoundKind::Pod,
            name: "web-0".into(),
            uid: "pod-uid".into(),
        }),
        node: Some(("node-1".into(), "node-uid".into())),
    }
}

fn parts(token: &str) -> (serde_json::Value, serde_json::Value, String) {
    let mut it = token.split('.');
    let header = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    let payload = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&header).unwrap(),
        serde_json::from_slice(&payload).unwrap(),
        it.next().unwrap().to_string(),
    )
}

fn b64_json(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[test]
fn round_trip_with_upstream_claims() {
    let key = testkeys::rsa();
    let signer = signer(key);
    let (token, exp) = signer.sign(&spec(), now()).unwrap();
    assert_eq!(exp, now() + Duration::from_secs(3600));

    let (header, payload, _) = parts(&token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], signer.key_id());
    assert!(header.get("typ").is_none());
    let iat = timefmt::unix_seconds(now());
    assert_eq!(payload["iss"], ISSUER);
    assert_eq!(payload["sub"], "system:serviceaccount:default:builder");
    assert_eq!(payload["aud"], serde_json::json!([API_AUDIENCE]));
    assert_eq!(payload["iat"], iat);
    assert_eq!(payload["nbf"], iat);
    assert_eq!(payload["exp"], iat + 3600);
    assert_eq!(payload["jti"].as_str().unwrap().len(), 36);
    assert_eq!(
        payload["kubernetes.io"],
        serde_json::json!({
            "namespace": "default",
            "serviceaccount": {"name": "builder", "uid": "sa-uid"},
            "pod": {"name": "web-0", "uid": "pod-uid"},
            "node": {"name": "node-1", "uid": "node-uid"},
        })
    );

    let verified = verifier(&[key]).verify(&token, now()).unwrap();
    assert_eq!(verified.namespace, "default");
    assert_eq!(verified.name, "builder");
    assert_eq!(verified.uid, "sa-uid");
    assert_eq!(verified.pod, Some(("web-0".into(), "pod-uid".into())));
    assert_eq!(verified.node, Some(("node-1".into(), "node-uid".into())));
    assert_eq!(verified.secret, None);
    assert!(!verified.legacy);
    assert_eq!(verified.expires, Some(exp));
    assert_eq!(verified.warn_after, None);
    assert_eq!(verified.audiences, vec![API_AUDIENCE]);
    let jti = payload["jti"].as_str().unwrap();
    assert_eq!(verified.credential_id, format!("JTI={jti}"));

    let user = verified.user_info();
    assert_eq!(user.name, "system:serviceaccount:default:builder");
    assert_eq!(user.uid, "sa-uid");
    assert_eq!(
        user.groups,
        vec![
            "system:serviceaccounts",
            "system:serviceaccounts:default",
            "system:authenticated"
        ]
    );
    assert_eq!(user.service_account(), Some(("default", "builder")));
    let extra = |k: &str| user.extra.get(k).cloned().unwrap_or_default();
    assert_eq!(extra(extra::POD_NAME), vec!["web-0"]);
    assert_eq!(extra(extra::POD_UID), vec!["pod-uid"]);
    assert_eq!(extra(extra::NODE_NAME), vec!["node-1"]);
    assert_eq!(extra(extra::NODE_UID), vec!["node-uid"]);
    assert_eq!(extra(extra::CREDENTIAL_ID), vec![format!("JTI={jti}")]);
}

#[test]
fn every_token_has_its_own_jti() {
    let signer = signer(testkeys::rsa());
    let (a, _) = signer.sign(&spec(), now()).unwrap();
    let (b, _) = signer.sign(&spec(), now()).unwrap();
    assert_ne!(parts(&a).1["jti"], parts(&b).1["jti"]);
}

#[test]
fn unbound_secret_bound_and_node_bound() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let mut plain = spec();
    plain.bound = None;
    plain.node = None;
    let (token, _) = signer(key).sign(&plain, now()).unwrap();
    let verified = v.verify(&token, now()).unwrap();
    assert_eq!(
        (verified.pod, verified.secret, verified.node),
        (None, None, None)
    );
    let user = v.verify(&token, now()).unwrap().user_info();
    assert_eq!(
        user.extra.keys().collect::<Vec<_>>(),
        vec![extra::CREDENTIAL_ID]
    );

    let mut secret = plain.clone();
    secret.bound = Some(BoundObject {
        kind: BoundKind::Secret,
        name: "s".into(),
        uid: "s-uid".into(),
    });
    let (token, _) = signer(key).sign(&secret, now()).unwrap();
    let verified = v.verify(&token, now()).unwrap();
    assert_eq!(verified.secret, Some(("s".into(), "s-uid".into())));
    assert!(!verified.user_info().extra.contains_key(extra::POD_NAME));

    let mut node = plain.clone();
    node.bound = Some(BoundObject {
        kind: BoundKind::Node,
        name: "n".into(),
        uid: "n-uid".into(),
    });
    let (token, _) = signer(key).sign(&node, now()).unwrap();
    let verified = v.verify(&token, now()).unwrap();
    assert_eq!(verified.node, Some(("n".into(), "n-uid".into())));
    assert_eq!(verified.user_info().extra[extra::NODE_NAME], vec!["n"]);
}

#[test]
fn spec_checks() {
    let signer = signer(testkeys::rsa());
    let mut short = spec();
    short.expiration_seconds = 599;
    let err = signer.sign(&short, now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"
    );
    let mut long = spec();
    long.expiration_seconds = (1 << 32) + 1;
    assert_eq!(
        signer.sign(&long, now()).unwrap_err().to_string(),
        "spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds"
    );
    long.expiration_seconds = 1 << 32;
    assert!(signer.sign(&long, now()).is_ok());
    let mut node_without_pod = spec();
    node_without_pod.bound = None;
    assert!(matches!(
        signer.sign(&node_without_pod, now()),
        Err(TokenError::InvalidSpec(_))
    ));
    let mut nameless = spec();
    nameless.service_account_uid = String::new();
    assert!(matches!(
        signer.sign(&nameless, now()),
        Err(TokenError::InvalidSpec(_))
    ));
}

#[test]
fn lifetime_cap_and_extension() {
    let key = testkeys::rsa();
    let capped = signer(key).with_max_expiration_seconds(86_400);
    assert_eq!(capped.capped_expiration_seconds(100_000), 86_400);
    assert_eq!(capped.capped_expiration_seconds(3600), 3600);
    let mut long = spec();
    long.expiration_seconds = 1_000_000;
    let (token, exp) = capped.sign(&long, now()).unwrap();
    assert_eq!(exp, now() + Duration::from_secs(86_400));
    assert_eq!(
        parts(&token).1["exp"],
        timefmt::unix_seconds(now()) + 86_400
    );
    assert_eq!(signer(key).capped_expiration_seconds(1_000_000), 1_000_000);

    let extending = signer(key).with_extended_expiration(vec![API_AUDIENCE.to_string()]);
    let mut kubelet = spec();
    kubelet.expiration_seconds = WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS;
    let (token, exp) = extending.sign(&kubelet, now()).unwrap();
    let iat = timefmt::unix_seconds(now());
    assert_eq!(exp, now() + Duration::from_secs(3607));
    let (_, payload, _) = parts(&token);
    assert_eq!(payload["exp"], iat + EXPIRATION_EXTENSION_SECONDS);
    assert_eq!(payload["kubernetes.io"]["warnafter"], iat + 3607);
    let verified = verifier(&[key])
        .verify(&token, now() + Duration::from_secs(86_400 * 30))
        .unwrap();
    assert_eq!(verified.warn_after, Some(now() + Duration::from_secs(3607)));

    // Not for other audiences, other lifetimes or unbound tokens.
    let mut other_audience = kubelet.clone();
    other_audience.audiences = vec!["vault".into()];
    let mut other_lifetime = kubelet.clone();
    other_lifetime.expiration_seconds = 3600;
    let mut unbound = kubelet.clone();
    unbound.bound = None;
    unbound.node = None;
    for spec in [other_audience, other_lifetime, unbound] {
        let (token, _) = extending.sign(&spec, now()).unwrap();
        let (_, payload, _) = parts(&token);
        assert!(payload["exp"].as_i64().unwrap() <= iat + 3607);
        assert!(payload["kubernetes.io"].get("warnafter").is_none());
    }
}

#[test]
fn expired_and_not_yet_valid_with_leeway() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let (token, _) = signer(key).sign(&spec(), now()).unwrap();
    let exp = now() + Duration::from_secs(3600);
    assert!(v.verify(&token, exp + Duration::from_secs(60)).is_ok());
    let err = v.verify(&token, exp + Duration::from_secs(61)).unwrap_err();
    assert_eq!(err, TokenError::Expired);
    assert_eq!(err.to_string(), "service account token has expired");

    // Signed in the past: long expired.
    let (old, _) = signer(key)
        .sign(&spec(), at("2024-01-01T00:00:00Z"))
        .unwrap();
    assert_eq!(v.verify(&old, now()), Err(TokenError::Expired));

    // Signed in the future: within the leeway fine, beyond it not.
    let (soon, _) = signer(key)
        .sign(&spec(), now() + Duration::from_secs(30))
        .unwrap();
    assert!(v.verify(&soon, now()).is_ok());
    let (later, _) = signer(key)
        .sign(&spec(), now() + Duration::from_secs(3000))
        .unwrap();
    let err = v.verify(&later, now()).unwrap_err();
    assert_eq!(err, TokenError::NotValidYet);
    assert_eq!(err.to_string(), "service account token is not valid yet");
}

#[test]
fn absurd_dates_do_not_overflow() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let (token, _) = signer(key).sign(&spec(), now()).unwrap();
    let (header, payload, _) = parts(&token);
    for (claim, value, expected) in [
        ("nbf", i64::MAX, Err(TokenError::NotValidYet)),
        ("iat", i64::MAX, Err(TokenError::IssuedInTheFuture)),
        ("exp", i64::MIN, Err(TokenError::Expired)),
        ("exp", i64::MAX, Ok(())),
        ("nbf", i64::MIN, Ok(())),
    ] {
        let mut p = payload.clone();
        p[claim] = value.into();
        let result = v.verify(&sign_raw(key, &header, &p), now()).map(|_| ());
        assert_eq!(result, expected, "{claim}={value}");
    }
    let mut p = payload.clone();
    p["exp"] = serde_json::json!(1e300);
    assert!(v.verify(&sign_raw(key, &header, &p), now()).is_ok());
}

#[test]
fn issued_in_the_future() {
    let key = testkeys::rsa();
    let (token, _) = signer(key).sign(&spec(), now()).unwrap();
    // Re-sign with iat far ahead but nbf now: forge with the real key.
    let (header, mut payload, _) = parts(&token);
    payload["iat"] = serde_json::json!(timefmt::unix_seconds(now()) + 600);
    let forged = sign_raw(key, &header, &payload);
    assert_eq!(
        verifier(&[key]).verify(&forged, now()),
        Err(TokenError::IssuedInTheFuture)
    );
}

/// Signs arbitrary header and payload JSON with `key` (RS256).
fn sign_raw(key: &TestKey, header: &serde_json::Value, payload: &serde_json::Value) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(payload));
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&key.private_der).unwrap();
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[test]
fn tampering_is_caught() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let (token, _) = signer(key).sign(&spec(), now()).unwrap();
    let (header, mut payload, signature) = parts(&token);

    payload["kubernetes.io"]["namespace"] = "kube-system".into();
    let tampered = format!("{}.{}.{signature}", b64_json(&header), b64_json(&payload));
    assert_eq!(
        v.verify(&tampered, now()),
        Err(TokenError::InvalidSignature)
    );
    assert_eq!(
        TokenError::InvalidSignature.to_string(),
        "go-jose/go-jose: error in cryptographic primitive"
    );

    let mut bytes = URL_SAFE_NO_PAD.decode(&signature).unwrap();
    bytes[10] ^= 1;
    let (h, p) = token.rsplit_once('.').unwrap().0.split_once('.').unwrap();
    let flipped = format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(&bytes));
    assert_eq!(v.verify(&flipped, now()), Err(TokenError::InvalidSignature));

    let truncated = format!("{h}.{p}.");
    assert!(v.verify(&truncated, now()).is_err());
}

#[test]
fn wrong_key_and_key_rotation() {
    let (key, other) = (testkeys::rsa(), testkeys::rsa_other());
    let (token, _) = signer(other).sign(&spec(), now()).unwrap();
    // Its key id is unknown here.
    let err = verifier(&[key]).verify(&token, now()).unwrap_err();
    assert_eq!(err, TokenError::NoKeys);
    assert_eq!(err.to_string(), "invalid signature, no keys found");
    // Without a key id every key is tried, and none verifies.
    let (mut header, payload, _) = parts(&token);
    header.as_object_mut().unwrap().remove("kid");
    let kidless = sign_raw(other, &header, &payload);
    assert_eq!(
        verifier(&[key]).verify(&kidless, now()),
        Err(TokenError::InvalidSignature)
    );
    // A key id naming the wrong key fails too.
    header["kid"] = signer(key).key_id().into();
    let lying = sign_raw(other, &header, &payload);
    assert_eq!(
        verifier(&[key, other]).verify(&lying, now()),
        Err(TokenError::InvalidSignature)
    );
    // With both keys trusted (rotation), both tokens verify.
    let both = verifier(&[key, other]);
    assert!(both.verify(&token, now()).is_ok());
    assert!(both.verify(&kidless, now()).is_ok());
    let (mine, _) = signer(key).sign(&spec(), now()).unwrap();
    assert!(both.verify(&mine, now()).is_ok());
    assert_eq!(both.key_ids().len(), 2);
}

#[test]
fn ecdsa_keys() {
    let key = testkeys::ec_p256();
    let (token, _) = signer(key).sign(&spec(), now()).unwrap();
    assert_eq!(parts(&token).0["alg"], "ES256");
    let verified = verifier(&[key]).verify(&token, now()).unwrap();
    assert_eq!(verified.name, "builder");
    // An RSA verifier does not know it.
    assert!(verifier(&[testkeys::rsa()]).verify(&token, now()).is_err());
}

#[test]
fn issuers() {
    let key = testkeys::rsa();
    let other_issuer = TokenSigner::new(&key.private_pem, "https://elsewhere").unwrap();
    let (token, _) = other_issuer.sign(&spec(), now()).unwrap();
    let err = verifier(&[key]).verify(&token, now()).unwrap_err();
    assert!(err.is_not_service_account_token());
    // Several issuers are accepted (issuer migration).
    let both = TokenVerifier::new(
        &[&key.public_pem],
        vec![ISSUER.into(), "https://elsewhere".into()],
        vec![API_AUDIENCE.into()],
    )
    .unwrap();
    assert!(both.verify(&token, now()).is_ok());
}

#[test]
fn audiences() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let mut vault = spec();
    vault.audiences = vec!["vault".into(), "other".into()];
    let (token, _) = signer(key).sign(&vault, now()).unwrap();
    let err = v.verify(&token, now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token audiences [\"vault\" \"other\"] is invalid for the target audiences [\"https://kubernetes.default.svc.cluster.local\"]"
    );
    // A TokenReview for vault accepts it, for the audiences in common.
    let verified = v
        .verify_for_audiences(&token, now(), &["vault".into(), "x".into()])
        .unwrap();
    assert_eq!(verified.audiences, vec!["vault"]);
    // A verifier with no API audiences takes any token.
    let open = TokenVerifier::new(&[&key.public_pem], vec![ISSUER.into()], vec![]).unwrap();
    assert!(open.verify(&token, now()).is_ok());
    // A token with no audience is for the API server.
    let mut none = spec();
    none.audiences = vec![];
    let (token, _) = signer(key).sign(&none, now()).unwrap();
    assert_eq!(
        v.verify(&token, now()).unwrap().audiences,
        vec![API_AUDIENCE]
    );
}

#[test]
fn garbage_is_not_a_service_account_token() {
    let v = verifier(&[testkeys::rsa()]);
    for garbage in [
        "",
        ".",
        "..",
        "a.b.c",
        "abcdef.0123456789abcdef",
        "{\"iss\":\"x\"}",
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.sig",
        "not a token at all",
        "a.b.c.d",
        "\u{0}\u{1}.\u{ff}.",
    ] {
        let err = v.verify(garbage, now()).unwrap_err();
        assert!(err.is_not_service_account_token(), "{garbage:?}: {err}");
    }
}

#[test]
fn alg_none_and_hmac_forgeries_are_refused() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let (token, _) = signer(key).sign(&spec(), now()).unwrap();
    let (mut header, payload, _) = parts(&token);

    header["alg"] = "none".into();
    let none = format!("{}.{}.", b64_json(&header), b64_json(&payload));
    assert!(v.verify(&none, now()).is_err());

    // HS256 keyed with the public key, the classic confusion attack.
    header["alg"] = "HS256".into();
    let message = format!("{}.{}", b64_json(&header), b64_json(&payload));
    for secret in [key.public_pem.as_bytes(), key.private_der.as_slice()] {
        let mac = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret),
            message.as_bytes(),
        );
        let forged = format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
        assert_eq!(v.verify(&forged, now()), Err(TokenError::InvalidSignature));
    }

    // RS256 signature relabelled as RS512.
    let (_, _, signature) = parts(&token);
    header["alg"] = "RS512".into();
    let relabelled = format!("{}.{}.{signature}", b64_json(&header), b64_json(&payload));
    assert_eq!(
        v.verify(&relabelled, now()),
        Err(TokenError::InvalidSignature)
    );
}

#[test]
fn signed_garbage_claims() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let header = serde_json::json!({"alg": "RS256"});
    let wrong_type = serde_json::json!({"iss": ISSUER, "exp": "tomorrow"});
    assert!(matches!(
        v.verify(&sign_raw(key, &header, &wrong_type), now()),
        Err(TokenError::InvalidClaims(_))
    ));
    // The unverified issuer is read from an object only.
    let array = serde_json::json!([ISSUER]);
    assert!(
        v.verify(&sign_raw(key, &header, &array), now())
            .unwrap_err()
            .is_not_service_account_token()
    );
    let no_private = serde_json::json!({"iss": ISSUER, "aud": [API_AUDIENCE]});
    let err = v
        .verify(&sign_raw(key, &header, &no_private), now())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "service account token claims could not be validated: kubernetes.io claim is missing"
    );
}

#[test]
fn legacy_tokens() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let token = signer(key)
        .sign_legacy("default", "builder", "sa-uid", "builder-token-abcde")
        .unwrap();
    let (_, payload, _) = parts(&token);
    assert_eq!(payload["iss"], "kubernetes/serviceaccount");
    assert!(payload.get("exp").is_none());
    let verified = v.verify(&token, at("2999-01-01T00:00:00Z")).unwrap();
    assert!(verified.legacy);
    assert_eq!(verified.name, "builder");
    assert_eq!(
        verified.secret,
        Some(("builder-token-abcde".into(), String::new()))
    );
    assert_eq!(verified.expires, None);
    assert_eq!(verified.credential_id, "");
    assert_eq!(verified.audiences, vec![API_AUDIENCE]);
    let user = verified.user_info();
    assert_eq!(user.name, "system:serviceaccount:default:builder");
    assert!(user.extra.is_empty());

    // The subject must name the same account.
    let header = serde_json::json!({"alg": "RS256"});
    let mut mismatched = payload.clone();
    mismatched["sub"] = "system:serviceaccount:default:admin".into();
    assert_eq!(
        v.verify(&sign_raw(key, &header, &mismatched), now())
            .unwrap_err()
            .to_string(),
        "sub claim is invalid"
    );
    let mut missing = payload.clone();
    missing
        .as_object_mut()
        .unwrap()
        .remove("kubernetes.io/serviceaccount/secret.name");
    assert_eq!(
        v.verify(&sign_raw(key, &header, &missing), now())
            .unwrap_err()
            .to_string(),
        "secretName claim is missing"
    );
}

/// The live objects of the tests.
#[derive(Default)]
struct Store {
    service_accounts: HashMap<(String, String), String>,
    pods: HashMap<(String, String), String>,
    secrets: HashMap<(String, String), (String, Vec<u8>)>,
    nodes: HashMap<String, String>,
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_string(), name.to_string())
}

#[async_trait::async_trait]
impl ServiceAccountLookup for Store {
    async fn service_account_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.service_accounts.get(&key(namespace, name)).cloned()
    }
    async fn pod_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.pods.get(&key(namespace, name)).cloned()
    }
    async fn secret_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.secrets.get(&key(namespace, name)).map(|s| s.0.clone())
    }
    async fn node_uid(&self, name: &str) -> Option<String> {
        self.nodes.get(name).cloned()
    }
    async fn secret_token(&self, namespace: &str, name: &str) -> Option<Vec<u8>> {
        self.secrets.get(&key(namespace, name)).map(|s| s.1.clone())
    }
}

fn store() -> Store {
    let mut store = Store::default();
    store
        .service_accounts
        .insert(key("default", "builder"), "sa-uid".into());
    store.pods.insert(key("default", "web-0"), "pod-uid".into());
    store.nodes.insert("node-1".into(), "node-uid".into());
    store
}

#[tokio::test]
async fn live_checks_of_a_pod_bound_token() {
    let key = testkeys::rsa();
    let (token, _) = signer(key).sign(&spec(), now()).unwrap();
    let verified = verifier(&[key]).verify(&token, now()).unwrap();
    assert_eq!(validate_live(&verified, &store()).await, Ok(()));

    let mut deleted_pod = store();
    deleted_pod.pods.clear();
    let err = validate_live(&verified, &deleted_pod).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "service account token has been invalidated"
    );

    let mut recreated_pod = store();
    recreated_pod
        .pods
        .insert(self::key("default", "web-0"), "new-pod-uid".into());
    assert_eq!(
        validate_live(&verified, &recreated_pod)
            .await
            .unwrap_err()
            .to_string(),
        "pod UID (new-pod-uid) does not match service account pod ref claim (pod-uid)"
    );

    let mut no_account = store();
    no_account.service_accounts.clear();
    assert_eq!(
        validate_live(&verified, &no_account)
            .await
            .unwrap_err()
            .to_string(),
        "serviceaccounts \"builder\" not found"
    );

    let mut recreated_account = store();
    recreated_account
        .service_accounts
        .insert(self::key("default", "builder"), "other".into());
    assert_eq!(
        validate_live(&verified, &recreated_account)
            .await
            .unwrap_err()
            .to_string(),
        "service account UID (other) does not match claim (sa-uid)"
    );

    // The pod's node is informative: its absence does not matter.
    let mut no_node = store();
    no_node.nodes.clear();
    assert_eq!(validate_live(&verified, &no_node).await, Ok(()));
}

#[tokio::test]
async fn live_checks_of_secret_and_node_bound_tokens() {
    let key = testkeys::rsa();
    let v = verifier(&[key]);
    let mut secret_spec = spec();
    secret_spec.node = None;
    secret_spec.bound = Some(BoundObject {
        kind: BoundKind::Secret,
        name: "s".into(),
        uid: "s-uid".into(),
    });
    let (token, _) = signer(key).sign(&secret_spec, now()).unwrap();
    let verified = v.verify(&token, now()).unwrap();
    let mut live = store();
    assert_eq!(
        validate_live(&verified, &live).await,
        Err(TokenError::Invalidated)
    );
    live.secrets
        .insert(self::key("default", "s"), ("other".into(), vec![]));
    assert!(matches!(
        validate_live(&verified, &live).await,
        Err(TokenError::SecretUidMismatch { .. })
    ));
    live.secrets
        .insert(self::key("default", "s"), ("s-uid".into(), vec![]));
    assert_eq!(validate_live(&verified, &live).await, Ok(()));

    let mut node_spec = spec();
    node_spec.node = None;
    node_spec.bound = Some(BoundObject {
        kind: BoundKind::Node,
        name: "node-1".into(),
        uid: "node-uid".into(),
    });
    let (token, _) = signer(key).sign(&node_spec, now()).unwrap();
    let verified = v.verify(&token, now()).unwrap();
    assert_eq!(validate_live(&verified, &store()).await, Ok(()));
    let mut gone = store();
    gone.nodes.clear();
    assert_eq!(
        validate_live(&verified, &gone).await,
        Err(TokenError::Invalidated)
    );
    let mut recreated = store();
    recreated.nodes.insert("node-1".into(), "new".into());
    assert_eq!(
        validate_live(&verified, &recreated)
            .await
            .unwrap_err()
            .to_string(),
        "node UID (new) does not match service account node ref claim (node-uid)"
    );
}

/// A lookup with only the three required methods.
struct Minimal(Store);

#[async_trait::async_trait]
impl ServiceAccountLookup for Minimal {
    async fn service_account_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.0.service_account_uid(namespace, name).await
    }
    async fn pod_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.0.pod_uid(namespace, name).await
    }
    async fn secret_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.0.secret_uid(namespace, name).await
    }
}

#[tokio::test]
async fn live_checks_of_legacy_tokens() {
    let key = testkeys::rsa();
    let token = signer(key)
        .sign_legacy("default", "builder", "sa-uid", "builder-token")
        .unwrap();
    let verified = verifier(&[key]).verify(&token, now()).unwrap();

    let mut live = store();
    assert_eq!(
        validate_live(&verified, &live)
            .await
            .unwrap_err()
            .to_string(),
        "token has been invalidated"
    );
    live.secrets.insert(
        self::key("default", "builder-token"),
        ("secret-uid".into(), b"some other token".to_vec()),
    );
    assert_eq!(
        validate_live(&verified, &live)
            .await
            .unwrap_err()
            .to_string(),
        "token does not match secret"
    );
    live.secrets.insert(
        self::key("default", "builder-token"),
        ("secret-uid".into(), token.clone().into_bytes()),
    );
    assert_eq!(validate_live(&verified, &live).await, Ok(()));

    live.service_accounts
        .insert(self::key("default", "builder"), "recreated".into());
    assert_eq!(
        validate_live(&verified, &live)
            .await
            .unwrap_err()
            .to_string(),
        "ServiceAccount UID (recreated) does not match claim (sa-uid)"
    );

    // Without `secret_token` a legacy token cannot be checked: refused.
    let mut minimal = store();
    minimal.secrets.insert(
        self::key("default", "builder-token"),
        ("secret-uid".into(), token.into_bytes()),
    );
    assert_eq!(
        validate_live(&verified, &Minimal(minimal)).await,
        Err(TokenError::LegacyTokenMismatch)
    );
}

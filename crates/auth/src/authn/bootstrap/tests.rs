use super::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

const ID: &str = "abcdef";
const SECRET: &str = "0123456789abcdef";
const TOKEN: &str = "abcdef.0123456789abcdef";

fn at(s: &str) -> SystemTime {
    timefmt::parse(s).unwrap()
}

fn now() -> SystemTime {
    at("2025-06-01T00:00:00Z")
}

fn good() -> Secret {
    bootstrap_secret(
        ID,
        SECRET,
        "the join token",
        &[KUBEADM_DEFAULT_NODE_TOKEN_GROUP],
        Some(at("2025-06-02T00:00:00Z")),
    )
}

fn set(secret: &mut Secret, key: &str, value: &str) {
    secret
        .data
        .get_or_insert_with(Default::default)
        .insert(key.to_string(), ByteString(value.as_bytes().to_vec()));
}

#[test]
fn parse_token_shapes() {
    assert_eq!(parse_token(TOKEN), Some((ID, SECRET)));
    for bad in [
        "",
        "abcdef",
        "abcdef.",
        ".0123456789abcdef",
        "abcde.0123456789abcdef",
        "abcdefg.0123456789abcdef",
        "abcdef.0123456789abcde",
        "abcdef.0123456789abcdef0",
        "ABCDEF.0123456789abcdef",
        "abcdef.0123456789ABCDEF",
        "abcdef:0123456789abcdef",
        "abcdef.0123456789abcdef\n",
        " abcdef.0123456789abcdef",
        "abcdef.0123.56789abcdef",
        "abcdéf.0123456789abcdef",
    ] {
        assert_eq!(parse_token(bad), None, "{bad:?}");
    }
}

#[test]
fn generated_tokens_parse() {
    let a = generate_token();
    let b = generate_token();
    assert!(parse_token(&a).is_some(), "{a}");
    assert_ne!(a, b);
}

#[test]
fn the_secret_kubeadm_writes() {
    let secret = good();
    assert_eq!(
        secret.metadata.name.as_deref(),
        Some("bootstrap-token-abcdef")
    );
    assert_eq!(secret.metadata.namespace.as_deref(), Some("kube-system"));
    assert_eq!(secret.type_.as_deref(), Some(SECRET_TYPE));
    let data = secret.data.as_ref().unwrap();
    let get = |k: &str| String::from_utf8(data[k].0.clone()).unwrap();
    assert_eq!(get(TOKEN_ID_KEY), ID);
    assert_eq!(get(TOKEN_SECRET_KEY), SECRET);
    assert_eq!(get(DESCRIPTION_KEY), "the join token");
    assert_eq!(get(EXPIRATION_KEY), "2025-06-02T00:00:00Z");
    assert_eq!(get(USAGE_AUTHENTICATION_KEY), "true");
    assert_eq!(get(USAGE_SIGNING_KEY), "true");
    assert_eq!(get(EXTRA_GROUPS_KEY), KUBEADM_DEFAULT_NODE_TOKEN_GROUP);

    let minimal = bootstrap_secret(ID, SECRET, "", &[], None);
    let data = minimal.data.unwrap();
    assert!(!data.contains_key(DESCRIPTION_KEY));
    assert!(!data.contains_key(EXPIRATION_KEY));
    assert!(!data.contains_key(EXTRA_GROUPS_KEY));
}

#[test]
fn authenticates_the_join_token() {
    let user = authenticate(TOKEN, Some(&good()), now()).unwrap().unwrap();
    assert_eq!(user.name, "system:bootstrap:abcdef");
    assert_eq!(
        user.groups,
        vec![
            BOOTSTRAPPERS,
            KUBEADM_DEFAULT_NODE_TOKEN_GROUP,
            AUTHENTICATED
        ]
    );
    assert_eq!(user.uid, "");
    // No expiration: never expires.
    let forever = bootstrap_secret(ID, SECRET, "", &[], None);
    let user = authenticate(TOKEN, Some(&forever), at("2999-01-01T00:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(user.groups, vec![BOOTSTRAPPERS, AUTHENTICATED]);
}

#[test]
fn extra_groups_are_sorted_and_deduplicated() {
    let secret = bootstrap_secret(
        ID,
        SECRET,
        "",
        &[
            "system:bootstrappers:z",
            "system:bootstrappers:a",
            "system:bootstrappers:z",
        ],
        None,
    );
    let user = authenticate(TOKEN, Some(&secret), now()).unwrap().unwrap();
    assert_eq!(
        user.groups,
        vec![
            BOOTSTRAPPERS,
            "system:bootstrappers:a",
            "system:bootstrappers:z",
            AUTHENTICATED
        ]
    );
}

#[test]
fn not_mine() {
    assert_eq!(
        authenticate("some-other-token", Some(&good()), now()),
        Ok(None)
    );
    assert_eq!(authenticate(TOKEN, None, now()), Ok(None));
}

#[test]
fn wrong_secret_refused() {
    let err = authenticate("abcdef.ffffffffffffffff", Some(&good()), now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token has invalid value for key token-secret."
    );
    // Another token id's Secret is not this token's.
    let other = bootstrap_secret("zzzzzz", SECRET, "", &[], None);
    assert!(matches!(
        authenticate(TOKEN, Some(&other), now()),
        Err(BootstrapError::WrongSecret { .. })
    ));
    let mut elsewhere = good();
    elsewhere.metadata.namespace = Some("default".into());
    assert!(matches!(
        authenticate(TOKEN, Some(&elsewhere), now()),
        Err(BootstrapError::WrongSecret { .. })
    ));
}

#[test]
fn id_mismatch_refused() {
    let mut secret = good();
    set(&mut secret, TOKEN_ID_KEY, "zzzzzz");
    assert!(matches!(
        authenticate(TOKEN, Some(&secret), now()),
        Err(BootstrapError::InvalidId(_))
    ));
}

#[test]
fn type_and_data_checked() {
    let mut opaque = good();
    opaque.type_ = Some("Opaque".into());
    assert_eq!(
        authenticate(TOKEN, Some(&opaque), now())
            .unwrap_err()
            .to_string(),
        "Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token has invalid type, expected bootstrap.kubernetes.io/token."
    );
    let mut empty = good();
    empty.data = None;
    assert!(matches!(
        authenticate(TOKEN, Some(&empty), now()),
        Err(BootstrapError::InvalidType(_))
    ));
}

#[test]
fn string_data_is_read_too() {
    let mut secret = good();
    let data = secret.data.take().unwrap();
    secret.string_data = Some(
        data.into_iter()
            .map(|(k, v)| (k, String::from_utf8(v.0).unwrap()))
            .collect(),
    );
    assert!(authenticate(TOKEN, Some(&secret), now()).unwrap().is_some());
}

#[test]
fn expiration() {
    let secret = good();
    // Valid until the instant it expires, not at it.
    assert!(
        authenticate(TOKEN, Some(&secret), at("2025-06-01T23:59:59Z"))
            .unwrap()
            .is_some()
    );
    let err = authenticate(TOKEN, Some(&secret), at("2025-06-02T00:00:00Z")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Expired bootstrap token in kube-system/bootstrap-token-abcdef Secret: 2025-06-02T00:00:00Z"
    );
    let mut garbled = good();
    set(&mut garbled, EXPIRATION_KEY, "tomorrow");
    assert!(matches!(
        authenticate(TOKEN, Some(&garbled), now()),
        Err(BootstrapError::UnparseableExpiration { .. })
    ));
    let mut offset = good();
    set(&mut offset, EXPIRATION_KEY, "2025-06-01T02:00:00+03:00");
    assert!(matches!(
        authenticate(TOKEN, Some(&offset), now()),
        Err(BootstrapError::Expired { .. })
    ));
}

#[test]
fn deleted_secret_refused() {
    let mut secret = good();
    secret.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH));
    assert!(matches!(
        authenticate(TOKEN, Some(&secret), now()),
        Err(BootstrapError::Deleted(_))
    ));
}

#[test]
fn usage_must_allow_authentication() {
    let mut secret = good();
    set(&mut secret, USAGE_AUTHENTICATION_KEY, "false");
    assert_eq!(
        authenticate(TOKEN, Some(&secret), now())
            .unwrap_err()
            .to_string(),
        "Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token not marked usage-bootstrap-authentication=true."
    );
    secret
        .data
        .as_mut()
        .unwrap()
        .remove(USAGE_AUTHENTICATION_KEY);
    assert!(matches!(
        authenticate(TOKEN, Some(&secret), now()),
        Err(BootstrapError::NotForAuthentication(_))
    ));
}

#[test]
fn extra_groups_must_be_bootstrapper_groups() {
    for bad in [
        "system:masters",
        "system:bootstrappers:",
        "system:bootstrappers:ok,system:masters",
        "system:bootstrappers:Upper",
        "system:bootstrappers:ends-",
        "system:bootstrappers:a,",
    ] {
        let mut secret = good();
        set(&mut secret, EXTRA_GROUPS_KEY, bad);
        let err = authenticate(TOKEN, Some(&secret), now()).unwrap_err();
        assert!(
            matches!(err, BootstrapError::InvalidExtraGroups { .. }),
            "{bad}: {err}"
        );
    }
    let mut secret = good();
    set(&mut secret, EXTRA_GROUPS_KEY, "system:masters");
    assert_eq!(
        authenticate(TOKEN, Some(&secret), now())
            .unwrap_err()
            .to_string(),
        "Bootstrap secret kube-system/bootstrap-token-abcdef matching bearer token has invalid value for key auth-extra-groups: bootstrap group \"system:masters\" is invalid (must match ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$)."
    );
}

#[test]
fn group_name_rule() {
    assert!(validate_group_name("system:bootstrappers:kubeadm:default-node-token").is_ok());
    assert!(validate_group_name("system:bootstrappers:a").is_ok());
    let longest = format!("system:bootstrappers:{}", "a".repeat(256));
    assert!(validate_group_name(&longest).is_ok());
    let too_long = format!("system:bootstrappers:{}", "a".repeat(257));
    assert!(validate_group_name(&too_long).is_err());
    assert!(validate_group_name("system:bootstrappers").is_err());
    assert!(validate_group_name("").is_err());
}

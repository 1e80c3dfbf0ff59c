//! The claims of service-account tokens as upstream writes and reads them:
//! the registered claims, the private `kubernetes.io` claim of bound
//! tokens, and the flat `kubernetes.io/serviceaccount/...` claims of
//! legacy (Secret-based) tokens.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

/// What to put in a token (upstream's `TokenRequest` after the API layer
/// has defaulted and validated it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenSpec {
    /// The service account's namespace.
    pub namespace: String,
    /// The service account's name.
    pub service_account_name: String,
    /// The service account's uid.
    pub service_account_uid: String,
    /// The audiences (`aud`); the API layer defaults an empty list to the
    /// API server's audiences.
    pub audiences: Vec<String>,
    /// The requested lifetime, at least
    /// [`MIN_EXPIRATION_SECONDS`](super::MIN_EXPIRATION_SECONDS).
    pub expiration_seconds: i64,
    /// The object the token is bound to, if any.
    pub bound: Option<BoundObject>,
    /// The node (name, uid) a bound pod runs on; only for pod-bound
    /// tokens.
    pub node: Option<(String, String)>,
}

/// The object a token is bound to: the token dies with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundObject {
    /// Its kind.
    pub kind: BoundKind,
    /// Its name (in the service account's namespace for pods and secrets).
    pub name: String,
    /// Its uid.
    pub uid: String,
}

/// The kinds a token can be bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundKind {
    /// A Pod.
    Pod,
    /// A Secret.
    Secret,
    /// A Node.
    Node,
}

/// A reference to an object in the private claim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Ref {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[serde(deserialize_with = "string_or_null")]
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[serde(deserialize_with = "string_or_null")]
    pub(super) uid: String,
}

impl Ref {
    pub(super) fn pair(&self) -> (String, String) {
        (self.name.clone(), self.uid.clone())
    }
}

/// The private claim `kubernetes.io` of bound tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Kubernetes {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[serde(deserialize_with = "string_or_null")]
    pub(super) namespace: String,
    #[serde(default, deserialize_with = "ref_or_null")]
    pub(super) serviceaccount: Ref,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pod: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) secret: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) node: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "numeric_date")]
    pub(super) warnafter: Option<i64>,
}

/// Every claim either kind of token may carry; unknown claims are
/// ignored, as Go's JSON decoder ignores them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "audience")]
    pub(super) aud: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "numeric_date")]
    pub(super) exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "numeric_date")]
    pub(super) iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "numeric_date")]
    pub(super) nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) jti: Option<String>,
    #[serde(
        rename = "kubernetes.io",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) kubernetes: Option<Kubernetes>,
    #[serde(
        rename = "kubernetes.io/serviceaccount/namespace",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) legacy_namespace: Option<String>,
    #[serde(
        rename = "kubernetes.io/serviceaccount/secret.name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) legacy_secret_name: Option<String>,
    #[serde(
        rename = "kubernetes.io/serviceaccount/service-account.name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) legacy_service_account_name: Option<String>,
    #[serde(
        rename = "kubernetes.io/serviceaccount/service-account.uid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) legacy_service_account_uid: Option<String>,
}

fn string_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn ref_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Ref, D::Error> {
    Ok(Option::<Ref>::deserialize(d)?.unwrap_or_default())
}

/// go-jose's `Audience`: a string or an array of strings.
fn audience<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v),
    })
}

/// go-jose's `NumericDate`: any JSON number, in seconds, truncated.
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    let f = n
        .as_f64()
        .ok_or_else(|| de::Error::custom(format!("invalid numeric date {n}")))?;
    if !f.is_finite() {
        return Err(de::Error::custom(format!("invalid numeric date {n}")));
    }
    // `as` saturates at the ends of i64, where Go's conversion is
    // undefined; either way such a date is nonsense.
    Ok(Some(f.trunc() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_go_jose_reads() {
        let claims: Claims = serde_json::from_str(
            r#"{"iss":"i","aud":"one","exp":1.9e9,"nbf":100,"iat":1e2,"extra":{"x":1},
                "kubernetes.io":{"namespace":"ns","serviceaccount":{"name":"sa","uid":"u"},
                "pod":{"name":"p","uid":null},"warnafter":5}}"#,
        )
        .unwrap();
        assert_eq!(claims.aud, Some(vec!["one".to_string()]));
        assert_eq!(claims.exp, Some(1_900_000_000));
        assert_eq!(claims.iat, Some(100));
        let k = claims.kubernetes.unwrap();
        assert_eq!(k.serviceaccount.name, "sa");
        assert_eq!(k.pod.unwrap().pair(), ("p".to_string(), String::new()));
        assert_eq!(k.warnafter, Some(5));

        let legacy: Claims = serde_json::from_str(
            r#"{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"default",
                "kubernetes.io/serviceaccount/secret.name":"s","kubernetes.io/serviceaccount/service-account.name":"sa",
                "kubernetes.io/serviceaccount/service-account.uid":"u","sub":"system:serviceaccount:default:sa"}"#,
        )
        .unwrap();
        assert_eq!(legacy.legacy_secret_name.as_deref(), Some("s"));
        assert!(legacy.kubernetes.is_none());
    }

    #[test]
    fn refuses_wrong_types() {
        for bad in [
            r#"{"exp":"soon"}"#,
            r#"{"aud":[1]}"#,
            r#"{"aud":{"a":1}}"#,
            r#"{"iss":5}"#,
            r#"{"kubernetes.io":"x"}"#,
            r#"{"kubernetes.io":{"serviceaccount":{"name":3}}}"#,
        ] {
            assert!(serde_json::from_str::<Claims>(bad).is_err(), "{bad}");
        }
        let nulls: Claims =
            serde_json::from_str(r#"{"exp":null,"aud":null,"kubernetes.io":null}"#).unwrap();
        assert_eq!(nulls, Claims::default());
    }

    #[test]
    fn writes_only_what_is_set() {
        let claims = Claims {
            iss: Some("i".into()),
            aud: Some(vec!["a".into()]),
            kubernetes: Some(Kubernetes {
                namespace: "ns".into(),
                serviceaccount: Ref {
                    name: "sa".into(),
                    uid: "u".into(),
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"iss":"i","aud":["a"],"kubernetes.io":{"namespace":"ns","serviceaccount":{"name":"sa","uid":"u"}}}"#
        );
    }
}

//! Bearer tokens and the static token file, as they reach the API server:
//! the input is parsed as a `--token-auth-file`, and also presented as a
//! bearer token to each token authenticator (bootstrap tokens,
//! service-account JWTs, a fixed token file).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ironclad_auth::authn::bootstrap;
use ironclad_auth::authn::serviceaccount::TokenVerifier;
use ironclad_auth::authn::tokenfile::TokenFile;
use ironclad_auth::user::SERVICE_ACCOUNT_PREFIX;

/// The issuer and API audience of the fixed verifier.
const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// The public half of the key the service-account seeds were signed with
/// (the private half was thrown away).
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA08G8SNo0xjKysP0WVo28
1qr5CJOa+ZL1Uhzna28Wdomw+g/LaWEG/BLNYYEwS6sIs9GIyqPNuxA+FxbVwseT
vZJpN6CArvC2ur0463WW8kYFOtGlX+h9Otgce8nApG05KO/L3WopvKQo/Y3lxBEk
nMrjoGJsYYgHWJuV3INNg7SDcW5CiFHdQlCxsUg3xJ15gtcpnOskQcN2ajkLPmkW
SSflyfKl0EXfJajXhXOZz/LxDvBlsRx5xWjllmfK2hEohwD+QiIi4Z7nbxKIS789
hniOUA5S86Tujmyglotj7mCb1k1vxGe+gY8nHoXGepUqu9npoENQ8BEtsTA4sCZJ
ewIDAQAB
-----END PUBLIC KEY-----
";

/// The bootstrap token whose Secret the target hands over.
const BOOTSTRAP_TOKEN: &str = "abcdef.0123456789abcdef";

/// The fixed token file's tokens.
const FILE_TOKENS: [&str; 2] = ["s3cr3t-admin", "kubelet-token"];

/// The verification time (the seeds are valid then): the targets must be
/// deterministic, so no clock.
fn now() -> SystemTime {
    // 2025-06-01T00:00:00Z
    UNIX_EPOCH + Duration::from_secs(1_748_736_000)
}

fn verifier() -> &'static TokenVerifier {
    static CELL: OnceLock<TokenVerifier> = OnceLock::new();
    CELL.get_or_init(|| {
        TokenVerifier::new(&[PUBLIC_KEY], vec![ISSUER.into()], vec![ISSUER.into()])
            .expect("the fixed public key parses")
    })
}

fn token_file() -> &'static TokenFile {
    static CELL: OnceLock<TokenFile> = OnceLock::new();
    CELL.get_or_init(|| {
        TokenFile::parse(&format!(
            "{},admin,1,\"system:masters,dev\"\n{},kubelet,2,system:nodes\n",
            FILE_TOKENS[0], FILE_TOKENS[1]
        ))
        .expect("the fixed token file parses")
    })
}

fn bootstrap_secret() -> &'static k8s_openapi::api::core::v1::Secret {
    static CELL: OnceLock<k8s_openapi::api::core::v1::Secret> = OnceLock::new();
    CELL.get_or_init(|| {
        let (id, secret) = bootstrap::parse_token(BOOTSTRAP_TOKEN).expect("a bootstrap token");
        bootstrap::bootstrap_secret(
            id,
            secret,
            "fuzz",
            &["system:bootstrappers:kubeadm:default-node-token"],
            Some(now() + Duration::from_secs(3600)),
        )
    })
}

/// Parses the input as a token file (a parsed file must authenticate the
/// token of every simple record as that record's user, the last one for a
/// duplicate token), and presents it as a bearer token to the bootstrap,
/// service-account and token-file authenticators (which may only accept
/// their own tokens).
pub fn token(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let mut accepted = false;

    if let Ok(file) = TokenFile::parse(&text) {
        accepted = true;
        check_file(&text, &file);
    }

    if let Some((id, secret)) = bootstrap::parse_token(&text) {
        accepted = true;
        assert_eq!((id.len(), secret.len()), (6, 16), "{text:?}");
        assert_eq!(format!("{id}.{secret}"), text, "{text:?}");
        let _ = bootstrap::secret_name(id);
    }
    if let Ok(Some(user)) = bootstrap::authenticate(&text, Some(bootstrap_secret()), now()) {
        assert_eq!(text, BOOTSTRAP_TOKEN, "accepted as {}", user.name);
    }

    match verifier().verify(&text, now()) {
        Ok(verified) => {
            accepted = true;
            let user = verified.user_info();
            assert!(
                user.name.starts_with(SERVICE_ACCOUNT_PREFIX),
                "{}",
                user.name
            );
            assert!(!verified.namespace.is_empty() && !verified.name.is_empty());
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }

    if let Some(user) = token_file().authenticate(&text) {
        assert!(
            FILE_TOKENS.contains(&text.as_ref()),
            "accepted as {}",
            user.name
        );
    }
    accepted
}

/// Without quotes or carriage returns every line is one record, split on
/// commas: each record of 3 columns or more with a token must
/// authenticate as its user (the last record of a token wins).
fn check_file(text: &str, file: &TokenFile) {
    if text.contains('"') || text.contains('\r') {
        return;
    }
    let mut expected: HashMap<&str, &str> = HashMap::new();
    for line in text.split('\n') {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() >= 3 && !fields[0].is_empty() {
            expected.insert(fields[0], fields[1]);
        }
    }
    assert_eq!(file.len(), expected.len(), "{text:?}");
    for (token, name) in expected {
        match file.authenticate(token) {
            Some(user) => assert_eq!(user.name, name, "{text:?}"),
            None => panic!("{text:?}: token {token:?} of the file does not authenticate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_tokens_and_files() {
        assert!(token(BOOTSTRAP_TOKEN.as_bytes()));
        assert!(token(b"t,u,1\nt2,u2,2,\"a,b\"\n"));
        assert!(token(b""));
        assert!(!token(b"no-commas"));
        assert!(!token(b"eyJhbGciOiJub25lIn0.e30."));
    }

    #[test]
    fn jwt_seeds_verify_at_the_fixed_time() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/token");
        let mut jwts = 0;
        for entry in std::fs::read_dir(dir).expect("seeds") {
            let seed = std::fs::read(entry.expect("entry").path()).expect("seed");
            let text = String::from_utf8(seed).expect("text seed");
            if text.starts_with("eyJhbGciOiJSUzI1NiIs") {
                jwts += 1;
                let verified = verifier().verify(&text, now()).expect("a valid seed");
                assert_eq!(verified.namespace, "default");
            }
        }
        assert_eq!(jwts, 3);
    }
}

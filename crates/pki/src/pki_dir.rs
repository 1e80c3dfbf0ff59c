//! The on-disk layout of a server's keys and certificates under
//! `DATA_DIR/pki`, and keeping leaf certificates fresh.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::KeyPair;

use crate::ca::{Ca, check_key_matches};
use crate::cert_info::{CertInfo, parse};
use crate::clock::CLOCK_SKEW;
use crate::cluster_secrets::ClusterSecrets;
use crate::error::{Error, Result};
use crate::files::{read, read_optional, write_private, write_public};
use crate::identities::ClientIdentity;
use crate::join_token::JoinToken;
use crate::leaf::LeafSpec;
use crate::pem;
use crate::serving::ServingSpec;
use crate::usage::Usage;

/// Default validity of the leaf certificates [`PkiDir`] issues: one year,
/// as kubeadm's.
pub const LEAF_VALIDITY: Duration = Duration::from_secs(365 * 86_400);

/// File stem of the API server's serving certificate.
pub const SERVING_STEM: &str = "server";

const CA_CRT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
const SA_KEY: &str = "service-account.key";
const SA_PUB: &str = "service-account.pub";
const ENCRYPTION_KEY: &str = "encryption.key";
/// Stems a client certificate may not use (they name other files).
const RESERVED_STEMS: [&str; 4] = ["ca", SERVING_STEM, "service-account", "encryption"];

/// A server's PKI files:
///
/// ```text
/// DIR/token                      join token              0600
/// DIR/pki/ca.crt, ca.key         cluster CA              0644, 0600
/// DIR/pki/service-account.key    SA signing key (PKCS#8) 0600
/// DIR/pki/service-account.pub    SA public key           0644
/// DIR/pki/encryption.key         base64 AES-256 key      0600
/// DIR/pki/server.crt, .key       API serving cert        0644, 0600
/// DIR/pki/<name>.crt, .key       client certs (admin, controller-manager,
///                                scheduler, kube-proxy)  0644, 0600
/// ```
///
/// Every write is atomic (temporary file, fsync, rename).
#[derive(Debug, Clone)]
pub struct PkiDir {
    data_dir: PathBuf,
    dir: PathBuf,
    leaf_validity: Duration,
}

/// A leaf certificate on disk, after [`PkiDir::ensure_serving_cert`] or
/// [`PkiDir::ensure_client_cert`].
#[derive(Clone)]
pub struct Ensured {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM.
    pub key_pem: String,
    /// Where the certificate is.
    pub cert_path: PathBuf,
    /// Where the key is.
    pub key_path: PathBuf,
    /// When the certificate expires (plan the next check before that,
    /// less the renewal margin).
    pub not_after: SystemTime,
    /// Whether a new certificate was issued and written (false: the files
    /// were good and reused).
    pub renewed: bool,
}

impl std::fmt::Debug for Ensured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ensured")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .field("not_after", &self.not_after)
            .field("renewed", &self.renewed)
            .finish_non_exhaustive()
    }
}

impl PkiDir {
    /// The PKI of the data directory `data_dir` (files under
    /// `data_dir/pki`); nothing is read or made yet.
    pub fn new(data_dir: impl Into<PathBuf>) -> PkiDir {
        let data_dir = data_dir.into();
        PkiDir {
            dir: data_dir.join("pki"),
            data_dir,
            leaf_validity: LEAF_VALIDITY,
        }
    }

    /// Sets the validity of leaf certificates issued from now on (default
    /// [`LEAF_VALIDITY`]).
    pub fn with_leaf_validity(mut self, validity: Duration) -> PkiDir {
        self.leaf_validity = validity;
        self
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The `pki` directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/pki/ca.crt`.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join(CA_CRT)
    }

    /// `DIR/pki/ca.key`.
    pub fn ca_key_path(&self) -> PathBuf {
        self.dir.join(CA_KEY)
    }

    /// `DIR/pki/service-account.key`.
    pub fn sa_private_path(&self) -> PathBuf {
        self.dir.join(SA_KEY)
    }

    /// `DIR/pki/service-account.pub`.
    pub fn sa_public_path(&self) -> PathBuf {
        self.dir.join(SA_PUB)
    }

    /// `DIR/pki/encryption.key`.
    pub fn encryption_key_path(&self) -> PathBuf {
        self.dir.join(ENCRYPTION_KEY)
    }

    /// `DIR/pki/<stem>.crt`.
    pub fn cert_path(&self, stem: &str) -> PathBuf {
        self.dir.join(format!("{stem}.crt"))
    }

    /// `DIR/pki/<stem>.key`.
    pub fn key_path(&self, stem: &str) -> PathBuf {
        self.dir.join(format!("{stem}.key"))
    }

    /// `DIR/token`.
    pub fn token_path(&self) -> PathBuf {
        self.data_dir.join("token")
    }

    /// `DIR/admin.kubeconfig`.
    pub fn admin_kubeconfig_path(&self) -> PathBuf {
        self.data_dir.join("admin.kubeconfig")
    }

    /// The cluster CA from `ca.crt` and `ca.key`; `None` if `ca.crt` is
    /// absent.
    pub fn read_ca(&self) -> Result<Option<Ca>> {
        let Some(cert) = read_optional(&self.ca_cert_path())? else {
            return Ok(None);
        };
        let key = read(&self.ca_key_path())?;
        self.load_ca(&cert, &key).map(Some)
    }

    fn load_ca(&self, cert: &str, key: &str) -> Result<Ca> {
        Ca::from_pem(cert, key).map_err(|e| match e {
            Error::InvalidKey(_) | Error::KeyMismatch => e.in_file(self.ca_key_path()),
            _ => e.in_file(self.ca_cert_path()),
        })
    }

    /// The shared cluster secrets on disk: `None` if none of their files
    /// exist; an error if only some do or one is unusable.
    pub fn read_cluster_secrets(&self) -> Result<Option<ClusterSecrets>> {
        let names = [CA_CRT, CA_KEY, SA_KEY, SA_PUB, ENCRYPTION_KEY];
        let mut texts: [Option<String>; 5] = Default::default();
        for (text, name) in texts.iter_mut().zip(names) {
            *text = read_optional(&self.dir.join(name))?;
        }
        let missing: Vec<&str> = names
            .iter()
            .zip(&texts)
            .filter(|(_, t)| t.is_none())
            .map(|(n, _)| *n)
            .collect();
        if missing.len() == names.len() {
            return Ok(None);
        }
        let [
            Some(ca_cert),
            Some(ca_key),
            Some(sa_key),
            Some(sa_pub),
            Some(enc),
        ] = texts
        else {
            return Err(Error::PartialSecrets {
                dir: self.dir.clone(),
                missing: missing.join(", "),
            });
        };
        self.load_ca(&ca_cert, &ca_key)?;
        let encryption_key = STANDARD
            .decode(enc.trim())
            .ok()
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .ok_or_else(|| Error::InvalidFile {
                path: self.encryption_key_path(),
                reason: "not 32 bytes of base64".into(),
            })?;
        let secrets = ClusterSecrets {
            ca_cert_pem: ca_cert,
            ca_key_pem: ca_key,
            sa_private_pem: sa_key,
            sa_public_pem: sa_pub,
            encryption_key,
        };
        secrets
            .service_account_key()
            .check()
            .map_err(|e| e.in_file(self.sa_private_path()))?;
        Ok(Some(secrets))
    }

    /// Writes the shared cluster secrets (keys 0600, certificate and public
    /// key 0644).
    pub fn write_cluster_secrets(&self, secrets: &ClusterSecrets) -> Result<()> {
        write_public(&self.ca_cert_path(), &secrets.ca_cert_pem)?;
        write_private(&self.ca_key_path(), &secrets.ca_key_pem)?;
        write_private(&self.sa_private_path(), &secrets.sa_private_pem)?;
        write_public(&self.sa_public_path(), &secrets.sa_public_pem)?;
        let mut enc = STANDARD.encode(secrets.encryption_key);
        enc.push('\n');
        write_private(&self.encryption_key_path(), &enc)
    }

    /// The join token in `DIR/token`, if there is one.
    pub fn read_token(&self) -> Result<Option<JoinToken>> {
        let path = self.token_path();
        match read_optional(&path)? {
            Some(text) => JoinToken::parse(text.trim())
                .map(Some)
                .map_err(|e| e.in_file(path)),
            None => Ok(None),
        }
    }

    /// Writes `DIR/token` (0600).
    pub fn write_token(&self, token: &JoinToken) -> Result<()> {
        write_private(&self.token_path(), &format!("{token}\n"))
    }

    /// The join token in `DIR/token`, made and written first if absent.
    pub fn read_or_create_token(&self) -> Result<JoinToken> {
        if let Some(token) = self.read_token()? {
            return Ok(token);
        }
        let token = JoinToken::generate()?;
        self.write_token(&token)?;
        Ok(token)
    }

    /// Makes sure `server.crt`/`server.key` hold a serving certificate from
    /// `ca` covering at least `spec`'s names and not expiring within
    /// `renew_before`; issues and writes a new one otherwise. Call at start
    /// and periodically: this is how the certificate rotates before expiry.
    /// Keep `renew_before` well under the leaf validity, or every call
    /// issues a new certificate.
    pub fn ensure_serving_cert(
        &self,
        ca: &Ca,
        spec: &ServingSpec,
        renew_before: Duration,
    ) -> Result<Ensured> {
        self.ensure_serving_cert_at(ca, spec, renew_before, SystemTime::now())
    }

    pub(crate) fn ensure_serving_cert_at(
        &self,
        ca: &Ca,
        spec: &ServingSpec,
        renew_before: Duration,
        now: SystemTime,
    ) -> Result<Ensured> {
        let want = LeafSpec {
            common_name: spec.common_name.clone(),
            organizations: Vec::new(),
            dns_names: spec.dns_names.clone(),
            ips: spec.ips.clone(),
            usage: Usage::Server,
            validity: self.leaf_validity,
        };
        self.ensure(ca, SERVING_STEM, &want, renew_before, now)
    }

    /// Makes sure `<file_stem>.crt`/`.key` hold a client certificate from
    /// `ca` for user `common_name` in exactly `groups`, not expiring within
    /// `renew_before`; issues and writes a new one otherwise.
    pub fn ensure_client_cert(
        &self,
        ca: &Ca,
        file_stem: &str,
        common_name: &str,
        groups: &[String],
        renew_before: Duration,
    ) -> Result<Ensured> {
        self.ensure_client_cert_at(
            ca,
            file_stem,
            common_name,
            groups,
            renew_before,
            SystemTime::now(),
        )
    }

    /// [`PkiDir::ensure_client_cert`] for one of the
    /// [`crate::identities`].
    pub fn ensure_identity(
        &self,
        ca: &Ca,
        identity: &ClientIdentity,
        renew_before: Duration,
    ) -> Result<Ensured> {
        self.ensure_client_cert(
            ca,
            identity.file_stem,
            identity.common_name,
            &identity.groups(),
            renew_before,
        )
    }

    pub(crate) fn ensure_client_cert_at(
        &self,
        ca: &Ca,
        file_stem: &str,
        common_name: &str,
        groups: &[String],
        renew_before: Duration,
        now: SystemTime,
    ) -> Result<Ensured> {
        let bad_stem = file_stem.is_empty()
            || RESERVED_STEMS.contains(&file_stem)
            || !file_stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if bad_stem {
            return Err(Error::InvalidSpec(format!(
                "{file_stem:?} cannot name a client certificate file"
            )));
        }
        let want = LeafSpec::client(common_name, groups, self.leaf_validity);
        self.ensure(ca, file_stem, &want, renew_before, now)
    }

    fn ensure(
        &self,
        ca: &Ca,
        stem: &str,
        want: &LeafSpec,
        renew_before: Duration,
        now: SystemTime,
    ) -> Result<Ensured> {
        let cert_path = self.cert_path(stem);
        let key_path = self.key_path(stem);
        if let (Some(cert_pem), Some(key_pem)) =
            (read_optional(&cert_path)?, read_optional(&key_path)?)
            && let Some(not_after) = reusable(ca, &cert_pem, &key_pem, want, renew_before, now)
        {
            return Ok(Ensured {
                cert_pem,
                key_pem,
                cert_path,
                key_path,
                not_after,
                renewed: false,
            });
        }
        let issued = ca.issue_between(want, now - CLOCK_SKEW, now + want.validity)?;
        // Key first: a crash between the two writes leaves a key that does
        // not match the old certificate, which the next call replaces.
        write_private(&key_path, &issued.key_pem)?;
        write_public(&cert_path, &issued.cert_pem)?;
        Ok(Ensured {
            cert_pem: issued.cert_pem,
            key_pem: issued.key_pem,
            cert_path,
            key_path,
            not_after: issued.not_after,
            renewed: true,
        })
    }
}

/// Whether an on-disk certificate and key can stay: signed by `ca`, the
/// key is its own, same subject and usage, at least the wanted names, and
/// not due for renewal. Unreadable files are simply not reusable. Returns
/// the certificate's expiry if it can stay.
fn reusable(
    ca: &Ca,
    cert_pem: &str,
    key_pem: &str,
    want: &LeafSpec,
    renew_before: Duration,
    now: SystemTime,
) -> Option<SystemTime> {
    let der = pem::certificate_der(cert_pem).ok()?;
    let cert = parse(&der).ok()?;
    let key = KeyPair::from_pem(key_pem).ok()?;
    let info = CertInfo::of(&cert).ok()?;
    let mut have_groups = info.organizations.clone();
    have_groups.sort();
    have_groups.dedup();
    let mut want_groups = want.organizations.clone();
    want_groups.sort();
    want_groups.dedup();
    let ok = ca.verify_issued(cert_pem)
        && check_key_matches(&cert, &key).is_ok()
        && !info.needs_renewal(now, renew_before)
        && info.common_name == want.common_name
        && have_groups == want_groups
        && info.server_auth == want.usage.server()
        && info.client_auth == want.usage.client()
        && want.dns_names.iter().all(|n| {
            info.dns_names
                .iter()
                .any(|have| have.eq_ignore_ascii_case(n))
        })
        && want.ips.iter().all(|ip| info.ips.contains(ip));
    ok.then_some(info.not_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serving::serving_spec_for_host;
    use std::fs;
    use std::net::IpAddr;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::OnceLock;

    const DAY: Duration = Duration::from_secs(86_400);
    const RENEW: Duration = Duration::from_secs(30 * 86_400);

    fn secrets() -> &'static ClusterSecrets {
        static S: OnceLock<ClusterSecrets> = OnceLock::new();
        S.get_or_init(|| ClusterSecrets::generate().unwrap())
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn spec() -> ServingSpec {
        serving_spec_for_host(
            &["192.168.1.10".parse().unwrap()],
            "10.96.0.1".parse().unwrap(),
            &[],
            Some("node-1"),
        )
    }

    #[test]
    fn layout_paths() {
        let pki = PkiDir::new("/var/lib/ironclad");
        assert_eq!(pki.dir(), Path::new("/var/lib/ironclad/pki"));
        assert_eq!(
            pki.ca_cert_path(),
            Path::new("/var/lib/ironclad/pki/ca.crt")
        );
        assert_eq!(pki.ca_key_path(), Path::new("/var/lib/ironclad/pki/ca.key"));
        assert_eq!(
            pki.sa_private_path(),
            Path::new("/var/lib/ironclad/pki/service-account.key")
        );
        assert_eq!(
            pki.sa_public_path(),
            Path::new("/var/lib/ironclad/pki/service-account.pub")
        );
        assert_eq!(
            pki.encryption_key_path(),
            Path::new("/var/lib/ironclad/pki/encryption.key")
        );
        assert_eq!(
            pki.cert_path("admin"),
            Path::new("/var/lib/ironclad/pki/admin.crt")
        );
        assert_eq!(
            pki.key_path("server"),
            Path::new("/var/lib/ironclad/pki/server.key")
        );
        assert_eq!(pki.token_path(), Path::new("/var/lib/ironclad/token"));
        assert_eq!(
            pki.admin_kubeconfig_path(),
            Path::new("/var/lib/ironclad/admin.kubeconfig")
        );
    }

    #[test]
    fn cluster_secrets_round_trip_with_modes() {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path());
        assert!(pki.read_cluster_secrets().unwrap().is_none());
        assert!(pki.read_ca().unwrap().is_none());
        pki.write_cluster_secrets(secrets()).unwrap();
        assert_eq!(&pki.read_cluster_secrets().unwrap().unwrap(), secrets());
        assert_eq!(mode(&pki.ca_cert_path()), 0o644);
        assert_eq!(mode(&pki.ca_key_path()), 0o600);
        assert_eq!(mode(&pki.sa_private_path()), 0o600);
        assert_eq!(mode(&pki.sa_public_path()), 0o644);
        assert_eq!(mode(&pki.encryption_key_path()), 0o600);
        let enc = fs::read_to_string(pki.encryption_key_path()).unwrap();
        assert_eq!(enc.trim().len(), 44);
        let ca = pki.read_ca().unwrap().unwrap();
        assert_eq!(ca.cert_pem(), secrets().ca_cert_pem);
    }

    #[test]
    fn partial_or_corrupt_secrets_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path());
        pki.write_cluster_secrets(secrets()).unwrap();

        fs::remove_file(pki.sa_public_path()).unwrap();
        fs::remove_file(pki.encryption_key_path()).unwrap();
        let err = pki.read_cluster_secrets().unwrap_err();
        assert!(
            err.to_string()
                .contains("missing service-account.pub, encryption.key"),
            "{err}"
        );
        pki.write_cluster_secrets(secrets()).unwrap();

        fs::write(pki.encryption_key_path(), "c2hvcnQ=\n").unwrap();
        let err = pki.read_cluster_secrets().unwrap_err();
        assert!(err.to_string().contains("encryption.key"), "{err}");
        pki.write_cluster_secrets(secrets()).unwrap();

        let other = Ca::generate("other", DAY).unwrap();
        fs::write(pki.ca_key_path(), other.key_pem()).unwrap();
        let err = pki.read_cluster_secrets().unwrap_err();
        assert!(
            matches!(&err, Error::InFile { path, source }
                if path == &pki.ca_key_path() && matches!(**source, Error::KeyMismatch)),
            "{err}"
        );
        pki.write_cluster_secrets(secrets()).unwrap();

        fs::write(pki.ca_cert_path(), "garbage").unwrap();
        let err = pki.read_cluster_secrets().unwrap_err();
        assert!(err.to_string().contains("ca.crt"), "{err}");
        pki.write_cluster_secrets(secrets()).unwrap();

        let other_sa = crate::ServiceAccountKey::generate().unwrap();
        fs::write(pki.sa_public_path(), other_sa.public_pem).unwrap();
        let err = pki.read_cluster_secrets().unwrap_err();
        assert!(err.to_string().contains("service-account.key"), "{err}");
    }

    #[test]
    fn token_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path());
        assert!(pki.read_token().unwrap().is_none());
        let token = pki.read_or_create_token().unwrap();
        assert_eq!(mode(&pki.token_path()), 0o600);
        assert_eq!(pki.read_or_create_token().unwrap(), token);
        let given = JoinToken::parse("abcdef.0123456789abcdef").unwrap();
        pki.write_token(&given).unwrap();
        assert_eq!(pki.read_or_create_token().unwrap(), given);
        assert_eq!(
            fs::read_to_string(pki.token_path()).unwrap(),
            "abcdef.0123456789abcdef\n"
        );
        fs::write(pki.token_path(), "not a token").unwrap();
        let err = pki.read_or_create_token().unwrap_err();
        assert!(err.to_string().contains("token"), "{err}");
        assert!(matches!(err, Error::InFile { .. }));
    }

    #[test]
    fn serving_cert_is_reused_until_it_must_change() {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path());
        let ca = secrets().ca().unwrap();
        let now = SystemTime::now();

        let first = pki.ensure_serving_cert(&ca, &spec(), RENEW).unwrap();
        assert!(first.renewed);
        assert_eq!(first.cert_path, pki.cert_path("server"));
        assert_eq!(mode(&first.key_path), 0o600);
        assert_eq!(mode(&first.cert_path), 0o644);
        let info = CertInfo::from_pem(&first.cert_pem).unwrap();
        assert_eq!(info.common_name, "kube-apiserver");
        assert!(info.server_auth && !info.client_auth);
        assert!(info.ips.contains(&"10.96.0.1".parse::<IpAddr>().unwrap()));
        assert!(
            info.dns_names
                .contains(&"kubernetes.default.svc".to_string())
        );

        // Same inputs: reused, byte for byte.
        let again = pki
            .ensure_serving_cert_at(&ca, &spec(), RENEW, now)
            .unwrap();
        assert!(!again.renewed);
        assert_eq!(again.cert_pem, first.cert_pem);
        assert_eq!(again.key_pem, first.key_pem);

        // Fewer names than the certificate has: still fine.
        let mut fewer = spec();
        fewer.dns_names.pop();
        assert!(
            !pki.ensure_serving_cert_at(&ca, &fewer, RENEW, now)
                .unwrap()
                .renewed
        );

        // A new address: reissued with it.
        let mut more = spec();
        more.ips.push("192.168.1.11".parse().unwrap());
        let changed = pki.ensure_serving_cert_at(&ca, &more, RENEW, now).unwrap();
        assert!(changed.renewed);
        let info = CertInfo::from_pem(&changed.cert_pem).unwrap();
        assert!(
            info.ips
                .contains(&"192.168.1.11".parse::<IpAddr>().unwrap())
        );
        assert_eq!(
            fs::read_to_string(&changed.cert_path).unwrap(),
            changed.cert_pem
        );

        // A new DNS name: reissued.
        let mut named = more.clone();
        named.dns_names.push("api.example.com".into());
        assert!(
            pki.ensure_serving_cert_at(&ca, &named, RENEW, now)
                .unwrap()
                .renewed
        );
        assert!(
            !pki.ensure_serving_cert_at(&ca, &named, RENEW, now)
                .unwrap()
                .renewed
        );

        // Near expiry (one year validity, asked a month before it ends).
        let later = now + LEAF_VALIDITY - RENEW + DAY;
        let rotated = pki
            .ensure_serving_cert_at(&ca, &named, RENEW, later)
            .unwrap();
        assert!(rotated.renewed);
        let info = CertInfo::from_pem(&rotated.cert_pem).unwrap();
        assert!(info.not_after > later + RENEW);
    }

    #[test]
    fn expired_foreign_or_broken_certs_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path());
        let ca = secrets().ca().unwrap();
        let now = SystemTime::now();
        let want = LeafSpec {
            common_name: spec().common_name,
            organizations: vec![],
            dns_names: spec().dns_names,
            ips: spec().ips,
            usage: Usage::Server,
            validity: DAY,
        };

        // An expired certificate with the right names.
        let expired = ca.issue_between(&want, now - 3 * DAY, now - DAY).unwrap();
        write_private(&pki.key_path("server"), &expired.key_pem).unwrap();
        write_public(&pki.cert_path("server"), &expired.cert_pem).unwrap();
        assert!(
            pki.ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
                .unwrap()
                .renewed
        );

        // Not yet valid (made by a clock in the future).
        let future = ca.issue_between(&want, now + DAY, now + 300 * DAY).unwrap();
        write_private(&pki.key_path("server"), &future.key_pem).unwrap();
        write_public(&pki.cert_path("server"), &future.cert_pem).unwrap();
        assert!(
            pki.ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
                .unwrap()
                .renewed
        );

        // Signed by another CA (say the data dir was reset and rejoined).
        let other = Ca::generate("ironclad-ca", 10 * DAY).unwrap();
        let foreign = other.issue(&want).unwrap();
        write_private(&pki.key_path("server"), &foreign.key_pem).unwrap();
        write_public(&pki.cert_path("server"), &foreign.cert_pem).unwrap();
        let fixed = pki
            .ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
            .unwrap();
        assert!(fixed.renewed);
        assert!(ca.verify_issued(&fixed.cert_pem));

        // Key of another certificate.
        write_private(&pki.key_path("server"), &foreign.key_pem).unwrap();
        assert!(
            pki.ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
                .unwrap()
                .renewed
        );

        // Garbage and a missing key.
        fs::write(pki.cert_path("server"), "junk").unwrap();
        assert!(
            pki.ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
                .unwrap()
                .renewed
        );
        fs::remove_file(pki.key_path("server")).unwrap();
        let ok = pki
            .ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
            .unwrap();
        assert!(ok.renewed);
        assert!(
            !pki.ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
                .unwrap()
                .renewed
        );

        // A client certificate in the server's place is not a serving one.
        let client = ca
            .issue(&LeafSpec {
                usage: Usage::Client,
                ..want
            })
            .unwrap();
        write_private(&pki.key_path("server"), &client.key_pem).unwrap();
        write_public(&pki.cert_path("server"), &client.cert_pem).unwrap();
        assert!(
            pki.ensure_serving_cert_at(&ca, &spec(), Duration::ZERO, now)
                .unwrap()
                .renewed
        );
    }

    #[test]
    fn client_certs_follow_subject_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path()).with_leaf_validity(90 * DAY);
        let ca = secrets().ca().unwrap();
        let now = SystemTime::now();
        let groups = vec!["system:masters".to_string()];

        let admin = pki
            .ensure_identity(&ca, &crate::identities::ADMIN, RENEW)
            .unwrap();
        assert!(admin.renewed);
        assert_eq!(admin.cert_path, dir.path().join("pki/admin.crt"));
        let info = CertInfo::from_pem(&admin.cert_pem).unwrap();
        assert_eq!(info.common_name, "system:admin");
        assert_eq!(info.organizations, groups);
        assert!(info.client_auth && !info.server_auth);
        let validity = info.not_after.duration_since(info.not_before).unwrap();
        assert_eq!(validity, 90 * DAY + CLOCK_SKEW);

        let same = pki
            .ensure_client_cert_at(&ca, "admin", "system:admin", &groups, RENEW, now)
            .unwrap();
        assert!(!same.renewed);
        assert_eq!(same.cert_pem, admin.cert_pem);
        // Another user or other groups: reissued.
        let renamed = pki
            .ensure_client_cert_at(&ca, "admin", "kubernetes-admin", &groups, RENEW, now)
            .unwrap();
        assert!(renamed.renewed);
        let regrouped = pki
            .ensure_client_cert_at(
                &ca,
                "admin",
                "kubernetes-admin",
                &["kubeadm:cluster-admins".to_string()],
                RENEW,
                now,
            )
            .unwrap();
        assert!(regrouped.renewed);
        assert_eq!(
            CertInfo::from_pem(&regrouped.cert_pem)
                .unwrap()
                .organizations,
            ["kubeadm:cluster-admins"]
        );
        // Group order does not matter; an extra group does.
        let two = vec!["a".to_string(), "b".to_string()];
        let swapped = vec!["b".to_string(), "a".to_string()];
        assert!(
            pki.ensure_client_cert_at(&ca, "u", "u", &two, RENEW, now)
                .unwrap()
                .renewed
        );
        assert!(
            !pki.ensure_client_cert_at(&ca, "u", "u", &swapped, RENEW, now)
                .unwrap()
                .renewed
        );
        assert!(
            pki.ensure_client_cert_at(&ca, "u", "u", &two[..1], RENEW, now)
                .unwrap()
                .renewed
        );
        // Near expiry.
        let later = now + 90 * DAY - RENEW;
        assert!(
            pki.ensure_client_cert_at(&ca, "u", "u", &two[..1], RENEW, later)
                .unwrap()
                .renewed
        );
    }

    #[test]
    fn client_stems_that_name_other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let pki = PkiDir::new(dir.path());
        let ca = secrets().ca().unwrap();
        for stem in ["", "ca", "server", "service-account", "../x", "a/b", "a.b"] {
            assert!(
                matches!(
                    pki.ensure_client_cert(&ca, stem, "u", &[], RENEW),
                    Err(Error::InvalidSpec(_))
                ),
                "{stem:?}"
            );
        }
        for stem in ["controller-manager", "kube_proxy", "node1"] {
            pki.ensure_client_cert(&ca, stem, "u", &[], RENEW).unwrap();
        }
    }
}

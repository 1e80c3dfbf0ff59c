//! Keys for the tests, generated once per test binary.

use std::sync::OnceLock;

use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256};

/// A key pair in the forms the tests use.
pub struct TestKey {
    /// PKCS#8 PEM.
    pub private_pem: String,
    /// PKCS#8 DER.
    pub private_der: Vec<u8>,
    /// SPKI PEM.
    pub public_pem: String,
    /// A self-signed certificate of the key.
    pub cert_pem: String,
}

fn make(alg: &'static rcgen::SignatureAlgorithm) -> TestKey {
    let pair = KeyPair::generate_for(alg).unwrap();
    let cert_pem = CertificateParams::new(vec!["sa-keys".to_string()])
        .unwrap()
        .self_signed(&pair)
        .unwrap()
        .pem();
    TestKey {
        private_pem: pair.serialize_pem(),
        private_der: pair.serialize_der(),
        public_pem: pair.public_key_pem(),
        cert_pem,
    }
}

/// An RSA 2048 key.
pub fn rsa() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| make(&PKCS_RSA_SHA256))
}

/// Another RSA 2048 key.
pub fn rsa_other() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| make(&PKCS_RSA_SHA256))
}

/// A P-256 key.
pub fn ec_p256() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| make(&PKCS_ECDSA_P256_SHA256))
}

/// The key inside a PKCS#8 `PrivateKeyInfo` (for RSA: the PKCS#1
/// `RSAPrivateKey`).
pub fn pkcs8_inner_key(der: &[u8]) -> Vec<u8> {
    let (body, _) = tlv(der);
    let (_version, rest) = tlv(body);
    let (_algorithm, rest) = tlv(rest);
    let (key, _) = tlv(rest);
    key.to_vec()
}

/// The value of the TLV at the start of `der`, and what follows it.
fn tlv(der: &[u8]) -> (&[u8], &[u8]) {
    let first = der[1] as usize;
    let (header, len) = if first < 0x80 {
        (2, first)
    } else {
        let n = first & 0x7f;
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (2 + n, len)
    };
    (&der[header..header + len], &der[header + len..])
}

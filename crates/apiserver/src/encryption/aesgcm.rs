//! AES-GCM, laid out as upstream's `aesgcm` provider stores it: a random
//! 12-byte nonce, then the ciphertext and its 16-byte tag. The store key
//! is the additional authenticated data, so a value copied under another
//! key does not decrypt.
//!
//! Random nonces limit how many values one key may safely encrypt
//! (upstream advises rotating an `aesgcm` key every 200,000 writes).

use aws_lc_rs::aead::{
    AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, Algorithm, LessSafeKey, MAX_TAG_LEN, NONCE_LEN,
    Nonce, UnboundKey,
};

/// One AES-GCM key, ready to seal and open.
pub(crate) struct GcmCipher {
    key: LessSafeKey,
}

fn algorithm(key_len: usize) -> Result<&'static Algorithm, &'static str> {
    match key_len {
        16 => Ok(&AES_128_GCM),
        24 => Ok(&AES_192_GCM),
        32 => Ok(&AES_256_GCM),
        _ => Err("invalid AES key size"),
    }
}

impl GcmCipher {
    /// A cipher for a 16, 24 or 32-byte key (AES-128, -192, -256).
    pub fn new(key: &[u8]) -> Result<GcmCipher, &'static str> {
        let unbound =
            UnboundKey::new(algorithm(key.len())?, key).map_err(|_| "invalid AES-GCM key")?;
        Ok(GcmCipher {
            key: LessSafeKey::new(unbound),
        })
    }

    /// A random nonce followed by the ciphertext and tag of `plain`,
    /// authenticating `aad` too.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, &'static str> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| "cannot read random bytes for the nonce")?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| "AES-GCM encryption failed")?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// The plaintext of what [`GcmCipher::seal`] wrote with the same `aad`.
    pub fn open(&self, data: &[u8], aad: &[u8]) -> Result<Vec<u8>, &'static str> {
        if data.len() < NONCE_LEN + MAX_TAG_LEN {
            return Err("the stored data was shorter than the required size");
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| "the stored data was shorter than the required size")?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| "cipher: message authentication failed")?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_every_key_length() {
        for len in [16, 24, 32] {
            let c = GcmCipher::new(&vec![3u8; len]).unwrap();
            for plain in [&b""[..], b"x", &[9u8; 100]] {
                let sealed = c.seal(plain, b"/registry/secrets/ns/a").unwrap();
                assert_eq!(sealed.len(), NONCE_LEN + plain.len() + MAX_TAG_LEN);
                assert_eq!(c.open(&sealed, b"/registry/secrets/ns/a").unwrap(), plain);
            }
        }
        assert!(GcmCipher::new(&[0u8; 8]).is_err());
    }

    #[test]
    fn aad_tampering_and_short_input_fail() {
        let c = GcmCipher::new(&[5u8; 32]).unwrap();
        let sealed = c.seal(b"value", b"key-a").unwrap();
        let err = "cipher: message authentication failed";
        assert_eq!(c.open(&sealed, b"key-b").unwrap_err(), err);
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(c.open(&flipped, b"key-a").unwrap_err(), err);
        assert_eq!(
            c.open(&sealed[..20], b"key-a").unwrap_err(),
            "the stored data was shorter than the required size"
        );
        let other = GcmCipher::new(&[6u8; 32]).unwrap();
        assert_eq!(other.open(&sealed, b"key-a").unwrap_err(), err);
        assert_ne!(c.seal(b"v", b"k").unwrap(), c.seal(b"v", b"k").unwrap());
    }
}

//! AES-CBC with PKCS#7 padding, laid out as upstream's `aescbc` provider
//! stores it: a random 16-byte IV, then the ciphertext.

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, Algorithm, DecryptionContext, EncryptionContext,
    PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;

/// The AES block (and IV) length.
const BLOCK_LEN: usize = 16;

/// One AES-CBC key, ready to seal and open.
pub(crate) struct CbcCipher {
    encrypting: PaddedBlockEncryptingKey,
    decrypting: PaddedBlockDecryptingKey,
}

fn algorithm(key_len: usize) -> Result<&'static Algorithm, &'static str> {
    match key_len {
        16 => Ok(&AES_128),
        24 => Ok(&AES_192),
        32 => Ok(&AES_256),
        _ => Err("invalid AES key size"),
    }
}

impl CbcCipher {
    /// A cipher for a 16, 24 or 32-byte key (AES-128, -192, -256).
    pub fn new(key: &[u8]) -> Result<CbcCipher, &'static str> {
        let alg = algorithm(key.len())?;
        let unbound = || UnboundCipherKey::new(alg, key).map_err(|_| "invalid AES key");
        Ok(CbcCipher {
            encrypting: PaddedBlockEncryptingKey::cbc_pkcs7(unbound()?)
                .map_err(|_| "cannot create an AES-CBC key")?,
            decrypting: PaddedBlockDecryptingKey::cbc_pkcs7(unbound()?)
                .map_err(|_| "cannot create an AES-CBC key")?,
        })
    }

    /// A random IV followed by the padded ciphertext of `plain`.
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, &'static str> {
        let mut iv = [0u8; BLOCK_LEN];
        aws_lc_rs::rand::fill(&mut iv).map_err(|_| "cannot read random bytes for the IV")?;
        let mut buf = plain.to_vec();
        self.encrypting
            .less_safe_encrypt(&mut buf, EncryptionContext::Iv128(FixedLength::from(iv)))
            .map_err(|_| "AES-CBC encryption failed")?;
        let mut out = Vec::with_capacity(BLOCK_LEN + buf.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// The plaintext of what [`CbcCipher::seal`] wrote.
    pub fn open(&self, data: &[u8]) -> Result<Vec<u8>, &'static str> {
        if data.len() < BLOCK_LEN {
            return Err("the stored data was shorter than the required size");
        }
        let (iv, ciphertext) = data.split_at(BLOCK_LEN);
        if ciphertext.len() % BLOCK_LEN != 0 {
            return Err("the stored data is not a multiple of the block size");
        }
        if ciphertext.is_empty() {
            return Err("invalid PKCS7 data (empty or not padded)");
        }
        let iv: [u8; BLOCK_LEN] = iv
            .try_into()
            .map_err(|_| "the stored data was shorter than the required size")?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .decrypting
            .decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(iv)))
            .map_err(|_| "invalid padding on input")?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_every_key_length() {
        for len in [16, 24, 32] {
            let key = vec![7u8; len];
            let c = CbcCipher::new(&key).unwrap();
            for plain in [&b""[..], b"x", &[1u8; 16], &[2u8; 33]] {
                let sealed = c.seal(plain).unwrap();
                // IV, then whole blocks with at least one byte of padding.
                assert_eq!(
                    sealed.len(),
                    BLOCK_LEN + (plain.len() / BLOCK_LEN + 1) * BLOCK_LEN
                );
                assert_eq!(c.open(&sealed).unwrap(), plain);
            }
        }
        assert!(CbcCipher::new(&[0u8; 20]).is_err());
    }

    #[test]
    fn random_ivs_and_bad_input() {
        let c = CbcCipher::new(&[1u8; 32]).unwrap();
        assert_ne!(c.seal(b"same").unwrap(), c.seal(b"same").unwrap());
        assert_eq!(
            c.open(b"short").unwrap_err(),
            "the stored data was shorter than the required size"
        );
        assert_eq!(
            c.open(&[0u8; 20]).unwrap_err(),
            "the stored data is not a multiple of the block size"
        );
        assert_eq!(
            c.open(&[0u8; 16]).unwrap_err(),
            "invalid PKCS7 data (empty or not padded)"
        );
        let other = CbcCipher::new(&[2u8; 32]).unwrap();
        let sealed = c.seal(b"a secret value that spans blocks").unwrap();
        // A wrong key almost always yields bad padding; never a panic, and
        // never the plaintext.
        if let Ok(p) = other.open(&sealed) {
            assert_ne!(p, b"a secret value that spans blocks");
        }
    }
}

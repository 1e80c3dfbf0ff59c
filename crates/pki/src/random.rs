//! Random bytes from the system generator (aws-lc).

use crate::error::{Error, Result};

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|e| Error::crypto("read random bytes", e))?;
    Ok(out)
}

/// A random positive certificate serial number of 16 bytes.
pub(crate) fn serial() -> Result<rcgen::SerialNumber> {
    let mut b = bytes::<16>()?;
    // Positive, and never shorter than 16 bytes once encoded.
    b[0] = (b[0] & 0x7f) | 0x01;
    Ok(rcgen::SerialNumber::from_slice(&b))
}

/// A random string of `len` characters from `[a-z0-9]`, uniformly drawn.
pub(crate) fn lower_alnum(len: usize) -> Result<String> {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in bytes::<32>()? {
            // 252 = 7 * 36: rejecting larger bytes keeps the draw uniform.
            if b < 252 && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b % 36)]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alnum_has_length_and_alphabet() {
        for len in [0, 1, 6, 16, 100] {
            let s = lower_alnum(len).unwrap();
            assert_eq!(s.len(), len);
            assert!(
                s.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            );
        }
        assert_ne!(lower_alnum(16).unwrap(), lower_alnum(16).unwrap());
    }

    #[test]
    fn serials_are_positive_and_distinct() {
        let a = serial().unwrap().to_bytes();
        let b = serial().unwrap().to_bytes();
        assert_eq!(a.len(), 16);
        assert!(a[0] < 0x80 && a[0] != 0);
        assert_ne!(a, b);
    }
}

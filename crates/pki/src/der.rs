//! The little DER this crate writes itself: subject names with several
//! Organization values, and re-signing a certificate after swapping its
//! issuer and subject names.
//!
//! rcgen keeps one value per attribute type in a distinguished name, but
//! Kubernetes reads every `O` value of a client certificate as a group, so a
//! user in two groups needs two `O` attributes. rcgen makes the certificate
//! (extensions, validity, key identifiers); [`replace_names`] then puts the
//! exact issuer and subject bytes in and signs the result again.

use rcgen::SigningKey;

use crate::error::{Error, Result};

const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_OID: u8 = 0x06;
const TAG_UTF8_STRING: u8 = 0x0c;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_VERSION: u8 = 0xa0;

/// DER of the attribute type id-at-commonName (2.5.4.3).
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// DER of the attribute type id-at-organizationName (2.5.4.10).
const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];

/// Appends a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// One TLV: tag, length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// One element split off the front of some DER.
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    /// The element with its tag and length.
    pub(crate) whole: &'a [u8],
    /// What follows the element.
    pub(crate) rest: &'a [u8],
}

/// Splits the first TLV off `input`. Only definite lengths and single-byte
/// tags, as DER has them in certificates.
pub(crate) fn split_tlv(input: &[u8]) -> Result<Tlv<'_>> {
    let bad = |what: &str| Error::InvalidCertificate(format!("malformed DER: {what}"));
    let (&tag, rest) = input.split_first().ok_or_else(|| bad("truncated"))?;
    if tag & 0x1f == 0x1f {
        return Err(bad("multi-byte tag"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| bad("truncated"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > std::mem::size_of::<usize>() || rest.len() < n {
            return Err(bad("bad length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(bad("truncated"));
    }
    let header = input.len() - rest.len();
    Ok(Tlv {
        tag,
        content: &rest[..len],
        whole: &input[..header + len],
        rest: &rest[len..],
    })
}

/// Every TLV in `input`, in order.
pub(crate) fn elements(mut input: &[u8]) -> Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let tlv = split_tlv(input)?;
        out.push(tlv.whole);
        input = tlv.rest;
    }
    Ok(out)
}

/// The DER of a distinguished name with one RDN per organization (in the
/// given order) followed by the common name, the order Go writes a
/// `pkix.Name` in. An empty common name is left out.
pub(crate) fn name(common_name: &str, organizations: &[String]) -> Vec<u8> {
    let attribute = |oid: &[u8], value: &str| {
        let mut seq = tlv(TAG_OID, oid);
        seq.extend(tlv(TAG_UTF8_STRING, value.as_bytes()));
        tlv(TAG_SET, &tlv(TAG_SEQUENCE, &seq))
    };
    let mut rdns = Vec::new();
    for org in organizations {
        rdns.extend(attribute(OID_ORGANIZATION, org));
    }
    if !common_name.is_empty() {
        rdns.extend(attribute(OID_COMMON_NAME, common_name));
    }
    tlv(TAG_SEQUENCE, &rdns)
}

/// Whether `name_der` is the empty name (a SEQUENCE with no RDN).
pub(crate) fn is_empty_name(name_der: &[u8]) -> bool {
    name_der == [TAG_SEQUENCE, 0]
}

/// Replaces the issuer and subject names of the certificate `cert_der` with
/// the given DER names and signs the result with `signer` (the same key and
/// algorithm that signed `cert_der`, so the signature algorithm fields stay
/// right).
pub(crate) fn replace_names(
    cert_der: &[u8],
    issuer: &[u8],
    subject: &[u8],
    signer: &impl SigningKey,
) -> Result<Vec<u8>> {
    let cert = split_tlv(cert_der)?;
    if cert.tag != TAG_SEQUENCE || !cert.rest.is_empty() {
        return Err(Error::InvalidCertificate(
            "malformed DER: not one SEQUENCE".into(),
        ));
    }
    let parts = elements(cert.content)?;
    let [tbs, signature_algorithm, _signature] = parts[..] else {
        return Err(Error::InvalidCertificate(
            "malformed DER: a certificate has three parts".into(),
        ));
    };
    let mut fields = elements(split_tlv(tbs)?.content)?;
    // version [0] is optional; then serial, signature, issuer, validity,
    // subject, subjectPublicKeyInfo, extensions.
    let base = usize::from(fields.first().map(|f| f[0]) == Some(TAG_VERSION));
    if fields.len() < base + 6 {
        return Err(Error::InvalidCertificate(
            "malformed DER: short TBSCertificate".into(),
        ));
    }
    fields[base + 2] = issuer;
    fields[base + 4] = subject;
    let tbs = tlv(TAG_SEQUENCE, &fields.concat());
    let signature = signer
        .sign(&tbs)
        .map_err(|e| Error::crypto("sign the certificate", e))?;
    let mut bits = Vec::with_capacity(signature.len() + 1);
    bits.push(0); // no unused bits
    bits.extend(signature);
    let mut body = tbs;
    body.extend_from_slice(signature_algorithm);
    body.extend(tlv(TAG_BIT_STRING, &bits));
    Ok(tlv(TAG_SEQUENCE, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_short_and_long_forms() {
        let mut out = Vec::new();
        push_len(&mut out, 5);
        push_len(&mut out, 0x80);
        push_len(&mut out, 0x1234);
        assert_eq!(out, [5, 0x81, 0x80, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn split_round_trips_long_elements() {
        let content = vec![1u8; 300];
        let der = tlv(TAG_SEQUENCE, &content);
        let tlv = split_tlv(&der).unwrap();
        assert_eq!(tlv.tag, TAG_SEQUENCE);
        assert_eq!(tlv.content, &content[..]);
        assert_eq!(tlv.whole, &der[..]);
        assert!(tlv.rest.is_empty());
    }

    #[test]
    fn split_rejects_truncated_and_odd_input() {
        assert!(split_tlv(&[]).is_err());
        assert!(split_tlv(&[0x30]).is_err());
        assert!(split_tlv(&[0x30, 0x05, 1, 2]).is_err());
        assert!(split_tlv(&[0x30, 0x80]).is_err());
        assert!(split_tlv(&[0x1f, 0x01, 0x00]).is_err());
        assert!(split_tlv(&[0x30, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1]).is_err());
    }

    #[test]
    fn name_lists_organizations_then_common_name() {
        let der = name("alice", &["dev".into(), "ops".into()]);
        let (_, parsed) = x509_parser::x509::X509Name::from_der(&der).unwrap();
        let orgs: Vec<_> = parsed
            .iter_organization()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(orgs, ["dev", "ops"]);
        let cns: Vec<_> = parsed
            .iter_common_name()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(cns, ["alice"]);
        assert_eq!(parsed.iter().count(), 3);
    }

    #[test]
    fn empty_name_is_an_empty_sequence() {
        assert!(is_empty_name(&name("", &[])));
        assert!(!is_empty_name(&name("x", &[])));
    }

    use x509_parser::prelude::FromDer;
}

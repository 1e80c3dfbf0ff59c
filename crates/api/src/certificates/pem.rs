//! PEM blocks as Go's `encoding/pem` finds them: the first well-formed
//! `-----BEGIN TYPE-----` … `-----END TYPE-----` block anywhere in the
//! data (text before it is skipped, malformed blocks are passed over),
//! with its `Key: value` headers and its base64 body.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"\n-----END ";
const DASHES: &[u8] = b"-----";

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The type from the BEGIN line (`CERTIFICATE REQUEST`).
    pub kind: String,
    /// The `Key: value` lines before the body, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub bytes: Vec<u8>,
}

/// The first PEM block in `data` and the data after it; `None` when there
/// is none (Go's `pem.Decode` returning a nil block).
pub fn decode(data: &[u8]) -> Option<(Block, &[u8])> {
    let mut rest = data;
    loop {
        rest = if rest.starts_with(BEGIN) {
            &rest[BEGIN.len()..]
        } else {
            let at = find(rest, b"\n-----BEGIN ")?;
            &rest[at + 1 + BEGIN.len()..]
        };
        if let Some(found) = block_at(rest) {
            return Some(found);
        }
    }
}

/// Every PEM block in `data`, in order, stopping at the first place where
/// no further block can be decoded.
pub fn decode_all(mut data: &[u8]) -> Vec<Block> {
    let mut out = Vec::new();
    while let Some((block, rest)) = decode(data) {
        out.push(block);
        data = rest;
    }
    out
}

/// Encodes one block with a body of 64-character lines.
pub fn encode(kind: &str, bytes: &[u8]) -> String {
    let b64 = STANDARD.encode(bytes);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// The block whose BEGIN line's type starts at `rest`.
fn block_at(rest: &[u8]) -> Option<(Block, &[u8])> {
    let (type_line, mut rest) = line(rest);
    let kind = type_line.strip_suffix(DASHES)?;
    let mut headers = Vec::new();
    loop {
        if rest.is_empty() {
            return None;
        }
        let (l, next) = line(rest);
        let Some(colon) = l.iter().position(|c| *c == b':') else {
            break;
        };
        let key = String::from_utf8_lossy(l[..colon].trim_ascii()).into_owned();
        let value = String::from_utf8_lossy(l[colon + 1..].trim_ascii()).into_owned();
        headers.push((key, value));
        rest = next;
    }
    // Without headers an empty body may put END right at the start.
    let (end_at, trailer_at) = if headers.is_empty() && rest.starts_with(&END[1..]) {
        (0, END.len() - 1)
    } else {
        let at = find(rest, END)?;
        (at, at + END.len())
    };
    let trailer = &rest[trailer_at..];
    let want = kind.len() + DASHES.len();
    if trailer.len() < want {
        return None;
    }
    let (end_line, after) = trailer.split_at(want);
    if !end_line.starts_with(kind) || !end_line.ends_with(DASHES) {
        return None;
    }
    let (tail, after) = line(after);
    if !tail.is_empty() {
        return None;
    }
    let body: Vec<u8> = rest[..end_at]
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD.decode(&body).ok()?;
    Some((
        Block {
            kind: String::from_utf8_lossy(kind).into_owned(),
            headers,
            bytes,
        },
        after,
    ))
}

/// The line at the start of `data` without its end-of-line and trailing
/// spaces or tabs, and the data after it.
fn line(data: &[u8]) -> (&[u8], &[u8]) {
    let (l, rest) = match data.iter().position(|c| *c == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let mut l = l;
    while let Some((last, init)) = l.split_last()
        && matches!(last, b' ' | b'\t' | b'\r')
    {
        l = init;
    }
    (l, rest)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_skips_leading_text() {
        let pem = encode("CERTIFICATE REQUEST", b"hello world, this is a body");
        let data = format!("junk before\n{pem}after");
        let (b, rest) = decode(data.as_bytes()).unwrap();
        assert_eq!(b.kind, "CERTIFICATE REQUEST");
        assert_eq!(b.bytes, b"hello world, this is a body");
        assert!(b.headers.is_empty());
        assert_eq!(rest, b"after");
    }

    #[test]
    fn reads_headers_and_several_blocks() {
        let data = "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\naGk=\n-----END X-----\n-----BEGIN Y-----\naGk=\n-----END Y-----\n";
        let blocks = decode_all(data.as_bytes());
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            blocks[0].headers,
            vec![("Proc-Type".into(), "4,ENCRYPTED".into())]
        );
        assert_eq!(
            (blocks[1].kind.as_str(), &blocks[1].bytes[..]),
            ("Y", &b"hi"[..])
        );
    }

    #[test]
    fn malformed_blocks_are_not_blocks() {
        for bad in [
            "",
            "no pem here",
            "-----BEGIN X-----\naGk=\n",                  // no END
            "-----BEGIN X-----\naGk=\n-----END Y-----\n", // END of another type
            "-----BEGIN X-----\n!!!!\n-----END X-----\n", // not base64
            "-----BEGIN X\naGk=\n-----END X-----\n",      // no dashes after the type
            "-----BEGIN X-----\naGk=\n-----END X----- trailing\n",
        ] {
            assert!(decode(bad.as_bytes()).is_none(), "{bad:?}");
        }
        // A malformed block is passed over for a later good one.
        let data =
            "-----BEGIN X-----\n!!\n-----END X-----\n-----BEGIN Z-----\naGk=\n-----END Z-----";
        assert_eq!(decode(data.as_bytes()).unwrap().0.kind, "Z");
    }

    #[test]
    fn an_empty_body_is_a_block() {
        let (b, _) = decode(b"-----BEGIN E-----\n-----END E-----\n").unwrap();
        assert_eq!((b.kind.as_str(), b.bytes.len()), ("E", 0));
    }
}

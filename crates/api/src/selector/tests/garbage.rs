//! The parsers never panic, whatever the input (a fuzz target calls them on
//! arbitrary strings); what parses prints back to something that parses to
//! the same selector.

use crate::selector::{FieldSelector, LabelSelector};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "a",
    "b",
    "env",
    "prod",
    "in",
    "notin",
    "=",
    "==",
    "!=",
    "!",
    "(",
    ")",
    ",",
    ">",
    "<",
    " ",
    "\t",
    "\n",
    "\\",
    "\\,",
    "\\=",
    "\\\\",
    "/",
    ".",
    "-",
    "_",
    "1",
    "42",
    "-7",
    "é",
    "日本",
    "\u{0}",
    "\u{7f}",
    "app.kubernetes.io/name",
    "x/y/z",
    "((",
    "))",
    ",,",
    "=!",
    "!==",
    "<>",
    "metadata.name",
    "spec.nodeName",
    "\"",
    "'",
    "🦀",
    "A",
    "Z9",
    "..",
    "--",
];

fn garbage(rng: &mut Rng) -> String {
    let len = rng.below(12);
    let mut s = String::new();
    for _ in 0..len {
        if rng.below(8) == 0 {
            // Any char at all, including unassigned planes and controls.
            let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('\u{fffd}');
            s.push(c);
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}

#[test]
fn arbitrary_strings_never_panic_and_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut label_ok = 0;
    let mut field_ok = 0;
    for _ in 0..600 {
        let input = garbage(&mut rng);
        if let Ok(sel) = LabelSelector::parse(&input) {
            label_ok += 1;
            let printed = sel.to_string();
            let again = LabelSelector::parse(&printed)
                .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}: {e}"));
            assert_eq!(again, sel, "{input:?} printed as {printed:?}");
        }
        if let Ok(sel) = FieldSelector::parse(&input) {
            field_ok += 1;
            let printed = sel.to_string();
            let again = FieldSelector::parse(&printed)
                .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}: {e}"));
            let mut a = again.terms().to_vec();
            let mut b = sel.terms().to_vec();
            let key =
                |t: &crate::selector::FieldTerm| (t.field.clone(), t.value.clone(), t.negated);
            a.sort_by_key(key);
            b.sort_by_key(key);
            assert_eq!(a, b, "{input:?} printed as {printed:?}");
        }
    }
    // The generator exercises both outcomes.
    assert!(label_ok > 20 && label_ok < 600, "{label_ok}");
    assert!(field_ok > 20 && field_ok < 600, "{field_ok}");
}

#[test]
fn byte_level_garbage_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..300 {
        let bytes: Vec<u8> = (0..rng.below(24)).map(|_| rng.next() as u8).collect();
        let input = String::from_utf8_lossy(&bytes);
        let _ = LabelSelector::parse(&input);
        let _ = FieldSelector::parse(&input);
    }
    for s in [
        "", "(", ")", "!", ",", "=", "\\", "a in (", "a in (,", "a in (b,", "!a!", "a=\\",
    ] {
        let _ = LabelSelector::parse(s);
        let _ = FieldSelector::parse(s);
    }
}

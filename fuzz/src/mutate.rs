//! The smoke runner's input generator: libFuzzer-style byte mutations
//! (bit flips, inserts, deletes, copies, splices, dictionary tokens,
//! repeated chunks for nesting), stacked, from a seeded generator so that a
//! run is reproducible. There is no coverage feedback; structure comes from
//! the seeds, the per-target dictionaries, JSON-aware mutations for the
//! targets that take JSON (`tree`), and the accepted inputs the runner
//! feeds back.

mod dictionary;
mod tree;

pub use dictionary::dictionary;
use dictionary::{INTERESTING_BYTES, INTERESTING_NUMBERS};

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// One of `items`, which must not be empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Whether `target` takes JSON (or YAML, of which JSON is a part), so
/// that mutating the parsed tree keeps most inputs past the parser.
pub fn takes_json(target: &str) -> bool {
    matches!(
        target,
        "json_patch"
            | "merge_patch"
            | "strategic_merge_patch"
            | "server_side_apply"
            | "body_json"
            | "body_yaml"
    )
}

/// Makes new inputs from old ones.
#[derive(Debug, Clone)]
pub struct Mutator {
    rng: Rng,
    dictionary: &'static [&'static [u8]],
    max_len: usize,
    json: bool,
}

impl Mutator {
    /// A mutator drawing from `rng`, inserting `dictionary` tokens, and
    /// never producing inputs longer than `max_len` bytes.
    pub fn new(rng: Rng, dictionary: &'static [&'static [u8]], max_len: usize) -> Self {
        Mutator {
            rng,
            dictionary,
            max_len,
            json: false,
        }
    }

    /// The mutator for `target`: its dictionary, JSON-aware if it
    /// [`takes_json`], with a generator seeded from `seed` and the target's
    /// name so that targets do not share a sequence.
    pub fn for_target(target: &str, seed: u64, max_len: usize) -> Self {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in target.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut mutator = Mutator::new(Rng::new(hash ^ seed), dictionary(target), max_len);
        mutator.json = takes_json(target);
        mutator
    }

    /// The generator, for the caller's own choices.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// `base` with one to five mutations stacked; `other` is what a splice
    /// takes its tail from.
    pub fn mutate(&mut self, base: &[u8], other: &[u8]) -> Vec<u8> {
        // Half of a JSON target's inputs change the tree, when the base
        // parses; the rest are byte mutations, which test the parser.
        if self.json
            && self.rng.below(2) == 0
            && let Some(out) = tree::mutate(&mut self.rng, base, other, self.max_len)
        {
            return out;
        }
        let mut data = base.to_vec();
        let rounds = 1 + self.rng.below(5);
        for _ in 0..rounds {
            self.mutate_once(&mut data, other);
            data.truncate(self.max_len);
        }
        data
    }

    fn mutate_once(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        let len = data.len();
        match self.rng.below(13) {
            // Flip one bit.
            0 if len > 0 => {
                let i = self.rng.below(len);
                data[i] ^= 1 << self.rng.below(8);
            }
            // Overwrite a byte with a random or an interesting one.
            1 if len > 0 => {
                let i = self.rng.below(len);
                data[i] = self.rng.next_u64() as u8;
            }
            2 if len > 0 => {
                let i = self.rng.below(len);
                data[i] = *self.rng.pick(INTERESTING_BYTES);
            }
            // Insert a few bytes.
            3 => {
                let at = self.rng.below(len + 1);
                let count = 1 + self.rng.below(4);
                let bytes: Vec<u8> = (0..count)
                    .map(|_| *self.rng.pick(INTERESTING_BYTES))
                    .collect();
                data.splice(at..at, bytes);
            }
            // Delete a range.
            4 if len > 0 => {
                let (from, to) = self.range(len);
                data.drain(from..to);
            }
            // Copy a range elsewhere.
            5 if len > 0 => {
                let (from, to) = self.range(len);
                let chunk = data[from..to].to_vec();
                let at = self.rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            // Insert or overwrite with a dictionary token.
            6 | 7 => {
                let token = *self.rng.pick(self.dictionary);
                let at = self.rng.below(len + 1);
                if self.rng.below(2) == 0 || at == len {
                    data.splice(at..at, token.iter().copied());
                } else {
                    let end = (at + token.len()).min(len);
                    data.splice(at..end, token.iter().copied());
                }
            }
            // Splice: this input's head, the other's tail.
            8 => {
                let cut = self.rng.below(len + 1);
                let from = self.rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            // Truncate.
            9 if len > 0 => data.truncate(self.rng.below(len)),
            // Repeat a short chunk many times: deep nesting, long runs.
            10 if len > 0 => {
                let from = self.rng.below(len);
                let to = (from + 1 + self.rng.below(4)).min(len);
                let most = if self.rng.below(8) == 0 { 4096 } else { 64 };
                let times = 1 + self.rng.below(most);
                let chunk = data[from..to].repeat(times);
                data.splice(from..from, chunk);
            }
            // Replace a run of digits with a number at a type's edge.
            11 => {
                if let Some(start) = (0..len)
                    .cycle()
                    .skip(self.rng.below(len.max(1)))
                    .take(len)
                    .find(|&i| data[i].is_ascii_digit())
                {
                    let end = (start..len)
                        .find(|&i| !data[i].is_ascii_digit())
                        .unwrap_or(len);
                    let number = *self.rng.pick(INTERESTING_NUMBERS);
                    data.splice(start..end, number.iter().copied());
                }
            }
            // Swap two bytes.
            _ if len > 1 => {
                let (a, b) = (self.rng.below(len), self.rng.below(len));
                data.swap(a, b);
            }
            // Nothing to work on: grow from the dictionary.
            _ => {
                let token = self.rng.pick::<&[u8]>(self.dictionary);
                data.extend_from_slice(token);
            }
        }
    }

    /// A non-empty range inside `0..len`, short more often than long.
    fn range(&mut self, len: usize) -> (usize, usize) {
        let from = self.rng.below(len);
        let max = if self.rng.below(4) == 0 {
            len - from
        } else {
            (len - from).min(8)
        };
        let to = from + 1 + self.rng.below(max);
        (from, to.min(len))
    }
}

#[cfg(test)]
mod tests {
    use super::dictionary::{JSON_TOKENS, PROTOBUF_TOKENS, YAML_TOKENS};
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let run = |seed| {
            let mut m = Mutator::new(Rng::new(seed), JSON_TOKENS, 1 << 16);
            (0..200)
                .map(|_| m.mutate(b"{\"a\":[1,2,3]}", b"[null]"))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn inputs_stay_within_the_size_limit() {
        let mut m = Mutator::new(Rng::new(1), YAML_TOKENS, 64);
        let mut data = b"a: b".to_vec();
        for _ in 0..5000 {
            data = m.mutate(&data, b"c: [d]");
            assert!(data.len() <= 64);
        }
    }

    #[test]
    fn json_targets_get_json_mutants() {
        let mut m = Mutator::for_target("strategic_merge_patch", 9, 1 << 16);
        let valid = (0..400)
            .filter(|_| {
                let out = m.mutate(br#"{"spec":{"replicas":1,"x":[1,{"a":null}]}}"#, b"{}");
                serde_json::from_slice::<serde_json::Value>(&out).is_ok()
            })
            .count();
        // Tree mutants all parse, byte mutants seldom do.
        assert!(valid > 200, "{valid}");
    }

    #[test]
    fn empty_inputs_grow() {
        let mut m = Mutator::new(Rng::new(3), PROTOBUF_TOKENS, 1024);
        assert!((0..50).any(|_| !m.mutate(b"", b"").is_empty()));
    }
}

//! Sets of completion indexes and their interval form in the Job status
//! (`completedIndexes: "1,3-5,7"`).

use std::collections::BTreeSet;
use std::fmt::Write;

/// Parses an interval list, keeping the indexes below `completions` and
/// skipping corrupt entries (upstream's `parseIndexesFromString`).
pub(crate) fn parse(s: &str, completions: i32) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    if s.is_empty() {
        return out;
    }
    for part in s.split(',') {
        let mut limits = part.splitn(2, '-');
        let Some(Ok(first)) = limits.next().map(str::parse::<i32>) else {
            continue;
        };
        if first >= completions {
            break;
        }
        let last = match limits.next() {
            None => first,
            Some(l) => match l.parse::<i32>() {
                Ok(l) => l.min(completions - 1),
                Err(_) => continue,
            },
        };
        out.extend(first.max(0)..=last);
    }
    out
}

/// The interval form of a set: runs of consecutive indexes as `a-b`.
pub(crate) fn format(set: &BTreeSet<i32>) -> String {
    let mut out = String::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last += 1;
            iter.next();
        }
        if !out.is_empty() {
            out.push(',');
        }
        if first == last {
            let _ = write!(out, "{first}");
        } else {
            let _ = write!(out, "{first}-{last}");
        }
    }
    out
}

/// The lowest `count` indexes below `completions` not in `taken`.
pub(crate) fn first_pending(taken: &BTreeSet<i32>, count: usize, completions: i32) -> Vec<i32> {
    (0..completions)
        .filter(|i| !taken.contains(i))
        .take(count)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_intervals() {
        let s = parse("0,2-4,5,9", 100);
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), [0, 2, 3, 4, 5, 9]);
        assert_eq!(format(&s), "0,2-5,9");
        assert_eq!(format(&parse("", 3)), "");
    }

    #[test]
    fn drops_indexes_past_completions_and_corrupt_parts() {
        assert_eq!(format(&parse("1,x,3-9,12", 5)), "1,3-4");
        assert_eq!(first_pending(&parse("0,2", 5), 2, 5), [1, 3]);
        assert_eq!(first_pending(&parse("0-4", 5), 2, 5), Vec::<i32>::new());
    }
}

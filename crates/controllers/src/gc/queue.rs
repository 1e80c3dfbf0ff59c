//! A work queue as client-go's: an item queued twice is worked on once, an
//! item is never worked on by two workers at once (queued again while
//! worked on, it comes back when done), failures come back after an
//! exponential backoff per item.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

/// First retry delay.
const BASE_DELAY: Duration = Duration::from_millis(50);
/// Longest retry delay.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// The queue.
#[derive(Debug)]
pub struct Queue<T: Clone + Eq + Hash> {
    ready: VecDeque<T>,
    queued: HashSet<T>,
    processing: HashSet<T>,
    delayed: BinaryHeap<Reverse<(Instant, u64)>>,
    delayed_items: HashMap<u64, T>,
    sequence: u64,
    failures: HashMap<T, u32>,
}

impl<T: Clone + Eq + Hash> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            ready: VecDeque::new(),
            queued: HashSet::new(),
            processing: HashSet::new(),
            delayed: BinaryHeap::new(),
            delayed_items: HashMap::new(),
            sequence: 0,
            failures: HashMap::new(),
        }
    }
}

impl<T: Clone + Eq + Hash> Queue<T> {
    /// Queues `item` now.
    pub fn add(&mut self, item: T) {
        if !self.queued.insert(item.clone()) {
            return;
        }
        if !self.processing.contains(&item) {
            self.ready.push_back(item);
        }
    }

    /// Queues `item` after `delay`.
    pub fn add_after(&mut self, item: T, delay: Duration) {
        self.sequence += 1;
        self.delayed
            .push(Reverse((Instant::now() + delay, self.sequence)));
        self.delayed_items.insert(self.sequence, item);
    }

    /// Queues `item` after its next backoff delay.
    pub fn add_rate_limited(&mut self, item: T) {
        let n = self.failures.entry(item.clone()).or_insert(0);
        let delay = BASE_DELAY
            .saturating_mul(2u32.saturating_pow(*n))
            .min(MAX_DELAY);
        *n = n.saturating_add(1);
        self.add_after(item, delay);
    }

    /// Forgets `item`'s failures.
    pub fn forget(&mut self, item: &T) {
        self.failures.remove(item);
    }

    /// The next item to work on, now marked as being worked on.
    pub fn pop(&mut self) -> Option<T> {
        let item = self.ready.pop_front()?;
        self.queued.remove(&item);
        self.processing.insert(item.clone());
        Some(item)
    }

    /// Work on `item` is over; if it was queued meanwhile, it is ready again.
    pub fn done(&mut self, item: &T) {
        self.processing.remove(item);
        if self.queued.contains(item) {
            self.ready.push_back(item.clone());
        }
    }

    /// When the next delayed item is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.delayed.peek().map(|Reverse((at, _))| *at)
    }

    /// Queues the delayed items that are due.
    pub fn promote(&mut self) {
        self.promote_at(Instant::now());
    }

    /// Queues the delayed items due at `now`.
    fn promote_at(&mut self, now: Instant) {
        while let Some(Reverse((at, seq))) = self.delayed.peek().copied() {
            if at > now {
                break;
            }
            self.delayed.pop();
            if let Some(item) = self.delayed_items.remove(&seq) {
                self.add(item);
            }
        }
    }

    /// Items ready to be worked on.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_deduplicated_and_never_worked_on_twice_at_once() {
        let mut q = Queue::default();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.pop(), Some("a"));
        q.add("a");
        assert_eq!(q.pop(), Some("b"), "a is being worked on");
        assert_eq!(q.pop(), None);
        q.done(&"a");
        assert_eq!(q.pop(), Some("a"), "queued again while worked on");
        q.done(&"a");
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn failures_back_off() {
        let mut q = Queue::default();
        let start = Instant::now();
        q.add_rate_limited("x");
        q.add_rate_limited("x");
        let first = q.next_due().unwrap();
        assert!(first >= start + BASE_DELAY && first < start + 2 * BASE_DELAY);
        q.promote_at(first - Duration::from_millis(1));
        assert_eq!(q.pop(), None);
        q.promote_at(first);
        assert_eq!(q.pop(), Some("x"));
        q.done(&"x");
        let second = q.next_due().unwrap();
        assert!(
            second >= start + 2 * BASE_DELAY,
            "the second failure waits twice as long"
        );
        q.promote_at(second);
        assert_eq!(q.pop(), Some("x"));
        q.done(&"x");
        q.forget(&"x");
        let now = Instant::now();
        q.add_rate_limited("x");
        assert!(q.next_due().unwrap() < now + 2 * BASE_DELAY);
    }
}

//! A work queue of keys as client-go's rate-limiting workqueue behaves: a
//! key waiting is queued once however often it is added; a key being
//! processed is never handed to a second worker, and is queued again when
//! done if it was added meanwhile; failed keys come back after an
//! exponential per-key delay. It spawns nothing: workers call
//! [`WorkQueue::next`] inside the controller's own future.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// First retry delay of a failing key (upstream: 5 ms).
const BASE_DELAY: Duration = Duration::from_millis(5);
/// Longest retry delay of a failing key.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// A deduplicating, rate-limiting queue of keys. Cloning shares the queue.
pub struct WorkQueue<K> {
    state: Arc<Mutex<State<K>>>,
    notify: Arc<Notify>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        WorkQueue {
            state: self.state.clone(),
            notify: self.notify.clone(),
        }
    }
}

struct State<K> {
    queue: VecDeque<K>,
    dirty: HashSet<K>,
    processing: HashSet<K>,
    delayed: BinaryHeap<Reverse<(Instant, u64)>>,
    delayed_keys: HashMap<u64, K>,
    seq: u64,
    failures: HashMap<K, u32>,
}

// === impl WorkQueue ===

impl<K: Clone + Eq + Hash> Default for WorkQueue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone + Eq + Hash> WorkQueue<K> {
    /// An empty queue.
    pub fn new() -> Self {
        WorkQueue {
            state: Arc::new(Mutex::new(State {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                delayed: BinaryHeap::new(),
                delayed_keys: HashMap::new(),
                seq: 0,
                failures: HashMap::new(),
            })),
            notify: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K>> {
        // A poisoned lock only means a worker panicked mid-update of plain
        // collections; they stay usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `key` now (once, however often it is added before a worker
    /// takes it).
    pub fn add(&self, key: K) {
        if self.lock().add(key) {
            self.notify.notify_one();
        }
    }

    /// Queues `key` after `delay`.
    pub fn add_after(&self, key: K, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        {
            let mut s = self.lock();
            let seq = s.seq;
            s.seq += 1;
            s.delayed.push(Reverse((Instant::now() + delay, seq)));
            s.delayed_keys.insert(seq, key);
        }
        // Wake a waiting worker so it waits for the new deadline too.
        self.notify.notify_one();
    }

    /// Queues `key` again after its next backoff delay (5 ms doubling per
    /// failure, at most a minute).
    pub fn add_rate_limited(&self, key: K) {
        let delay = {
            let mut s = self.lock();
            let n = s.failures.entry(key.clone()).or_insert(0);
            let d = BASE_DELAY.saturating_mul(1u32 << (*n).min(20));
            *n += 1;
            d.min(MAX_DELAY)
        };
        self.add_after(key, delay);
    }

    /// Forgets `key`'s failures (after it was processed successfully).
    pub fn forget(&self, key: &K) {
        self.lock().failures.remove(key);
    }

    /// How many times `key` failed in a row.
    pub fn failures(&self, key: &K) -> u32 {
        self.lock().failures.get(key).copied().unwrap_or(0)
    }

    /// Waits for the next key and marks it processing; call
    /// [`WorkQueue::done`] with it afterwards.
    pub async fn next(&self) -> K {
        loop {
            let notified = self.notify.notified();
            let wake_at = {
                let mut s = self.lock();
                if s.promote_due() {
                    // Other workers may take the rest.
                    self.notify.notify_one();
                }
                if let Some(key) = s.queue.pop_front() {
                    s.dirty.remove(&key);
                    s.processing.insert(key.clone());
                    if !s.queue.is_empty() {
                        self.notify.notify_one();
                    }
                    return key;
                }
                s.delayed.peek().map(|Reverse((at, _))| *at)
            };
            match wake_at {
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks `key` processed; it is queued again if it was added meanwhile.
    pub fn done(&self, key: &K) {
        let mut s = self.lock();
        s.processing.remove(key);
        if s.dirty.contains(key) {
            s.queue.push_back(key.clone());
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Keys waiting (not counting delayed ones or those being processed).
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no key is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Clone + Eq + Hash> State<K> {
    /// Returns whether the key became ready for a worker.
    fn add(&mut self, key: K) -> bool {
        if self.dirty.contains(&key) {
            return false;
        }
        self.dirty.insert(key.clone());
        if self.processing.contains(&key) {
            return false;
        }
        self.queue.push_back(key);
        true
    }

    /// Moves delayed keys whose time has come into the queue.
    fn promote_due(&mut self) -> bool {
        let now = Instant::now();
        let mut any = false;
        while let Some(Reverse((at, seq))) = self.delayed.peek().copied() {
            if at > now {
                break;
            }
            self.delayed.pop();
            if let Some(key) = self.delayed_keys.remove(&seq) {
                any |= self.add(key);
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dedups_and_requeues_after_done() {
        let q = WorkQueue::new();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        let a = q.next().await;
        assert_eq!(a, "a");
        // Added while processing: not handed out until done.
        q.add("a");
        assert_eq!(q.next().await, "b");
        assert!(q.is_empty());
        q.done(&"a");
        assert_eq!(q.next().await, "a");
    }

    #[tokio::test]
    async fn delayed_keys_wait_their_turn() {
        let q = WorkQueue::new();
        q.add_after("late", Duration::from_millis(200));
        q.add_rate_limited("soon");
        let start = Instant::now();
        assert_eq!(q.next().await, "soon");
        assert!(start.elapsed() < Duration::from_millis(200));
        assert_eq!(q.next().await, "late");
        assert!(start.elapsed() >= Duration::from_millis(200));
        assert_eq!(q.failures(&"soon"), 1);
        q.forget(&"soon");
        assert_eq!(q.failures(&"soon"), 0);
    }
}

//! The scheduling queue (upstream's `PriorityQueue`): pods waiting for a
//! decision, in three places.
//!
//! - *active*: ready now, highest priority first, then first come.
//! - *backoff*: failed recently; each pod waits 1 s after its first
//!   failed attempt, doubling per attempt up to 10 s.
//! - *unschedulable*: no node fitted; the pod waits there until a cluster
//!   event that could make it fit (a node added or changed, an assigned
//!   pod deleted, ...) moves it back — to backoff if its backoff has not
//!   run out, else to active — or until 5 minutes have passed.
//!
//! A popped pod is *in flight* until it is bound, requeued or dropped. If
//! a cluster event that may undo its refusal arrives while it is in flight
//! (the event's cycle reaches the pod's scheduling cycle), a failure sends
//! it to backoff instead of unschedulable, so the event is not lost
//! (upstream's `moveRequestCycle`, kept per kind of event so that, say,
//! every binding does not count for pods refused for their node
//! selector).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::plugins;
use crate::podinfo::PodInfo;

/// The wait after the first failed attempt.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long a pod stays unschedulable without any event before it is
/// tried again (upstream's `podMaxInUnschedulablePodsDuration`).
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

/// Something that happened in the cluster and may let unschedulable pods
/// fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClusterEvent {
    /// A node appeared.
    NodeAdd,
    /// A node's allocatable, labels, taints or schedulability changed.
    NodeUpdate,
    /// A pod was assigned to a node.
    AssignedPodAdd,
    /// An assigned pod's labels or requests changed.
    AssignedPodUpdate,
    /// An assigned pod went away, freeing what it held.
    AssignedPodDelete,
}

impl ClusterEvent {
    /// Whether the event may undo a refusal by `plugins` (an empty set:
    /// the pod failed for another reason, any event may help).
    fn may_help(self, plugins: &HashSet<&'static str>) -> bool {
        match self.plugins() {
            None => true,
            Some(list) => plugins.is_empty() || list.iter().any(|p| plugins.contains(p)),
        }
    }

    /// The plugins whose refusals the event may undo (None: all).
    fn plugins(self) -> Option<&'static [&'static str]> {
        use plugins::*;
        match self {
            ClusterEvent::NodeAdd | ClusterEvent::NodeUpdate => None,
            ClusterEvent::AssignedPodAdd => {
                Some(&[inter_pod_affinity::NAME, pod_topology_spread::NAME])
            }
            ClusterEvent::AssignedPodUpdate => Some(&[
                inter_pod_affinity::NAME,
                pod_topology_spread::NAME,
                node_resources_fit::NAME,
            ]),
            ClusterEvent::AssignedPodDelete => Some(&[
                node_resources_fit::NAME,
                node_ports::NAME,
                inter_pod_affinity::NAME,
                pod_topology_spread::NAME,
            ]),
        }
    }
}

/// A pod handed out by [`Queue::pop`].
#[derive(Debug, Clone)]
pub struct QueuedPod {
    /// The pod as last seen.
    pub info: Arc<PodInfo>,
    /// Scheduling attempts so far, this one included.
    pub attempts: u32,
    /// The scheduling cycle this attempt runs in.
    pub cycle: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
}

#[derive(Debug)]
struct Entry {
    info: Arc<PodInfo>,
    attempts: u32,
    place: Place,
    /// When the pod last entered the queue (or failed).
    since: Instant,
    /// Which plugins refused it last time.
    plugins: HashSet<&'static str>,
    /// Matches the heap entry that is current for this pod.
    token: u64,
}

/// An active-heap entry: higher priority first, then lower sequence.
#[derive(Debug, PartialEq, Eq)]
struct Ready {
    priority: i32,
    token: u64,
    key: String,
}

impl Ord for Ready {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.token.cmp(&self.token))
    }
}

impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Default)]
struct Inner {
    pods: HashMap<String, Entry>,
    active: BinaryHeap<Ready>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    /// The keys of the pods in unschedulable.
    unschedulable: HashSet<String>,
    /// Unschedulable pods by when they are retried without an event.
    stale: BinaryHeap<Reverse<(Instant, u64, String)>>,
    /// Popped pods: key -> the latest version seen while in flight.
    in_flight: HashMap<String, InFlight>,
    next_token: u64,
    scheduling_cycle: u64,
    /// The scheduling cycle at which each kind of event last arrived.
    event_cycles: HashMap<ClusterEvent, u64>,
}

#[derive(Debug)]
struct InFlight {
    latest: Option<Arc<PodInfo>>,
    attempts: u32,
}

/// The queue, shared by the watchers (producers) and the scheduling loop
/// (the one consumer).
#[derive(Debug, Default)]
pub struct Queue {
    inner: Mutex<Inner>,
    wake: Notify,
}

/// How long a pod waits after `attempts` failed attempts.
pub fn backoff_duration(attempts: u32) -> Duration {
    let mut d = INITIAL_BACKOFF;
    for _ in 1..attempts {
        d = d.saturating_mul(2);
        if d >= MAX_BACKOFF {
            return MAX_BACKOFF;
        }
    }
    d.min(MAX_BACKOFF)
}

/// Whether an update may change a scheduling outcome (anything but the
/// status and bookkeeping metadata).
fn changed(old: &PodInfo, new: &PodInfo) -> bool {
    old.pod.spec != new.pod.spec
        || old.pod.metadata.labels != new.pod.metadata.labels
        || old.pod.metadata.annotations != new.pod.metadata.annotations
}

// === impl Queue ===

impl Queue {
    /// An empty queue.
    pub fn new() -> Queue {
        Queue::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A pending pod was added or changed.
    pub fn add_or_update(&self, info: Arc<PodInfo>) {
        let mut q = self.lock();
        if let Some(f) = q.in_flight.get_mut(&info.key) {
            f.latest = Some(info);
            return;
        }
        let now = Instant::now();
        match q.pods.get_mut(&info.key) {
            Some(e) => {
                let moved = e.place == Place::Unschedulable && changed(&e.info, &info);
                e.info = info.clone();
                if moved {
                    e.plugins.clear();
                    q.requeue_after_event(&info.key, now);
                    drop(q);
                    self.wake.notify_one();
                }
            }
            None => {
                q.insert(info, 0, Place::Active, now);
                drop(q);
                self.wake.notify_one();
            }
        }
    }

    /// A pod is no longer pending (deleted, bound, or not ours).
    pub fn delete(&self, key: &str) {
        let mut q = self.lock();
        q.pods.remove(key);
        q.unschedulable.remove(key);
        q.in_flight.remove(key);
    }

    /// Drops the waiting pods whose key `keep` refuses (after a relist).
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        let mut q = self.lock();
        let gone: Vec<String> = q.pods.keys().filter(|k| !keep(k)).cloned().collect();
        for k in gone {
            q.pods.remove(&k);
            q.unschedulable.remove(&k);
        }
    }

    /// Waits for the next pod to schedule.
    pub async fn pop(&self) -> QueuedPod {
        loop {
            let deadline = {
                let mut q = self.lock();
                let now = Instant::now();
                q.flush(now);
                if let Some(p) = q.pop_active() {
                    return p;
                }
                q.next_deadline()
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }

    /// The pod was bound (or given up on): it leaves the queue.
    pub fn done(&self, key: &str) {
        self.lock().in_flight.remove(key);
    }

    /// No node fitted `pod`; `plugins` refused it. It waits in
    /// unschedulable for an event, or in backoff if one came meanwhile.
    pub fn requeue_unschedulable(&self, pod: &QueuedPod, plugins: HashSet<&'static str>) {
        let mut q = self.lock();
        let to_backoff = q
            .event_cycles
            .iter()
            .any(|(e, &at)| at >= pod.cycle && e.may_help(&plugins));
        q.requeue(pod, plugins, !to_backoff);
        drop(q);
        self.wake.notify_one();
    }

    /// Scheduling or binding `pod` failed for another reason: retry after
    /// its backoff.
    pub fn requeue_backoff(&self, pod: &QueuedPod) {
        let mut q = self.lock();
        q.requeue(pod, HashSet::new(), false);
        drop(q);
        self.wake.notify_one();
    }

    /// Moves the unschedulable pods `event` may help to backoff or active.
    pub fn on_event(&self, event: ClusterEvent) {
        let mut q = self.lock();
        let cycle = q.scheduling_cycle;
        q.event_cycles.insert(event, cycle);
        if q.unschedulable.is_empty() {
            return;
        }
        let now = Instant::now();
        let keys: Vec<String> = q
            .unschedulable
            .iter()
            .filter_map(|k| Some((k, q.pods.get(k)?)))
            .filter(|(_, e)| event.may_help(&e.plugins))
            .map(|(k, _)| k.clone())
            .collect();
        if keys.is_empty() {
            return;
        }
        for k in &keys {
            q.requeue_after_event(k, now);
        }
        drop(q);
        self.wake.notify_one();
    }

    /// How many pods wait (active, backoff, unschedulable), not in flight.
    pub fn pending(&self) -> (usize, usize, usize) {
        let q = self.lock();
        let count = |p| q.pods.values().filter(|e| e.place == p).count();
        (
            count(Place::Active),
            count(Place::Backoff),
            count(Place::Unschedulable),
        )
    }
}

// === impl Inner ===

impl Inner {
    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    fn insert(&mut self, info: Arc<PodInfo>, attempts: u32, place: Place, now: Instant) {
        let key = info.key.clone();
        let entry = Entry {
            info,
            attempts,
            place,
            since: now,
            plugins: HashSet::new(),
            token: 0,
        };
        self.pods.insert(key.clone(), entry);
        self.place(&key, place, now);
    }

    /// Puts the pod into `place` (its heap entry, if any, is fresh).
    fn place(&mut self, key: &str, place: Place, now: Instant) {
        let token = self.token();
        let Some(e) = self.pods.get_mut(key) else {
            return;
        };
        e.place = place;
        e.token = token;
        if place == Place::Unschedulable {
            self.unschedulable.insert(key.to_string());
        } else {
            self.unschedulable.remove(key);
        }
        match place {
            Place::Active => self.active.push(Ready {
                priority: e.info.priority,
                token,
                key: key.to_string(),
            }),
            Place::Backoff => {
                let at = e.since + backoff_duration(e.attempts);
                self.backoff.push(Reverse((at, token, key.to_string())));
            }
            Place::Unschedulable => {
                e.since = now;
                let at = now + MAX_UNSCHEDULABLE;
                self.stale.push(Reverse((at, token, key.to_string())));
            }
        }
    }

    fn requeue_after_event(&mut self, key: &str, now: Instant) {
        let Some(e) = self.pods.get(key) else { return };
        let backing_off = e.attempts > 0 && e.since + backoff_duration(e.attempts) > now;
        let place = if backing_off {
            Place::Backoff
        } else {
            Place::Active
        };
        self.place(key, place, now);
    }

    fn requeue(&mut self, pod: &QueuedPod, plugins: HashSet<&'static str>, unschedulable: bool) {
        let Some(flight) = self.in_flight.remove(&pod.info.key) else {
            return; // deleted or bound meanwhile
        };
        let info = flight.latest.unwrap_or_else(|| pod.info.clone());
        let now = Instant::now();
        let place = if unschedulable {
            Place::Unschedulable
        } else {
            Place::Backoff
        };
        self.insert(info, flight.attempts, place, now);
        if let Some(e) = self.pods.get_mut(&pod.info.key) {
            e.plugins = plugins;
        }
    }

    fn pop_active(&mut self) -> Option<QueuedPod> {
        while let Some(r) = self.active.pop() {
            let Some(e) = self.pods.get(&r.key) else {
                continue;
            };
            if e.token != r.token || e.place != Place::Active {
                continue;
            }
            let Some(e) = self.pods.remove(&r.key) else {
                continue;
            };
            self.scheduling_cycle += 1;
            let attempts = e.attempts + 1;
            self.in_flight.insert(
                r.key,
                InFlight {
                    latest: None,
                    attempts,
                },
            );
            return Some(QueuedPod {
                info: e.info,
                attempts,
                cycle: self.scheduling_cycle,
            });
        }
        None
    }

    /// Backoff pods whose wait is over, and pods unschedulable for too
    /// long, become active.
    fn flush(&mut self, now: Instant) {
        while let Some(key) = Self::due(&mut self.backoff, &self.pods, Place::Backoff, now) {
            self.place(&key, Place::Active, now);
        }
        while let Some(key) = Self::due(&mut self.stale, &self.pods, Place::Unschedulable, now) {
            self.requeue_after_event(&key, now);
        }
    }

    /// Pops the next entry of `heap` that is due and still current.
    fn due(
        heap: &mut BinaryHeap<Reverse<(Instant, u64, String)>>,
        pods: &HashMap<String, Entry>,
        place: Place,
        now: Instant,
    ) -> Option<String> {
        while let Some(Reverse((at, token, _))) = heap.peek() {
            if *at > now {
                return None;
            }
            let token = *token;
            let Reverse((_, _, key)) = heap.pop()?;
            if pods
                .get(&key)
                .is_some_and(|e| e.token == token && e.place == place)
            {
                return Some(key);
            }
        }
        None
    }

    /// When [`Inner::flush`] next has something to do.
    fn next_deadline(&self) -> Option<Instant> {
        // Stale heap entries only make the loop wake early, harmlessly.
        let backoff = self.backoff.peek().map(|Reverse((at, _, _))| *at);
        let unschedulable = self.stale.peek().map(|Reverse((at, _, _))| *at);
        match (backoff, unschedulable) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::plugins::testing::{pod, pod_with, spec};

    fn info(name: &str) -> Arc<PodInfo> {
        Arc::new(pod(name))
    }

    #[test]
    fn backoff_doubles_from_one_second_to_ten() {
        let secs: Vec<u64> = (1..=6).map(|a| backoff_duration(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
    }

    #[tokio::test]
    async fn higher_priority_first_then_first_come() {
        let q = Queue::new();
        q.add_or_update(info("a"));
        q.add_or_update(Arc::new(pod_with("b", |p| spec(p).priority = Some(10))));
        q.add_or_update(info("c"));
        let order: Vec<String> = [q.pop().await, q.pop().await, q.pop().await]
            .into_iter()
            .map(|p| p.info.name.clone())
            .collect();
        assert_eq!(order, ["b", "a", "c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn unschedulable_pods_wait_for_a_helpful_event_then_their_backoff() {
        let q = Queue::new();
        q.add_or_update(info("a"));
        let p = q.pop().await;
        q.requeue_unschedulable(&p, HashSet::from([plugins::node_resources_fit::NAME]));
        assert_eq!(q.pending(), (0, 0, 1));
        // An assigned pod added does not help a pod refused for resources.
        q.on_event(ClusterEvent::AssignedPodAdd);
        assert_eq!(q.pending(), (0, 0, 1));
        // A deleted pod frees resources: back to backoff (1 s not over).
        q.on_event(ClusterEvent::AssignedPodDelete);
        assert_eq!(q.pending(), (0, 1, 0));
        let start = Instant::now();
        let p = q.pop().await;
        assert_eq!(p.attempts, 2);
        assert!(Instant::now() - start >= Duration::from_millis(900));
    }

    #[tokio::test(start_paused = true)]
    async fn a_helpful_event_during_the_attempt_sends_the_pod_to_backoff() {
        let q = Queue::new();
        q.add_or_update(info("a"));
        q.add_or_update(info("b"));
        let a = q.pop().await;
        q.on_event(ClusterEvent::AssignedPodAdd);
        q.requeue_unschedulable(&a, HashSet::from([plugins::node_resources_fit::NAME]));
        assert_eq!(q.pending(), (1, 0, 1), "a new pod frees no resources");
        let b = q.pop().await;
        q.on_event(ClusterEvent::NodeAdd);
        q.requeue_unschedulable(&b, HashSet::from([plugins::node_resources_fit::NAME]));
        assert_eq!(q.pending(), (0, 2, 0), "a node helps both");
    }

    #[tokio::test(start_paused = true)]
    async fn unschedulable_pods_are_retried_after_five_minutes_anyway() {
        let q = Queue::new();
        q.add_or_update(info("a"));
        let p = q.pop().await;
        q.requeue_unschedulable(&p, HashSet::from(["NodeAffinity"]));
        let start = Instant::now();
        let p = q.pop().await;
        assert_eq!(p.info.name, "a");
        assert!(Instant::now() - start >= MAX_UNSCHEDULABLE);
    }

    #[tokio::test]
    async fn deleted_pods_are_not_requeued_and_updates_in_flight_are_kept() {
        let q = Queue::new();
        q.add_or_update(info("a"));
        let p = q.pop().await;
        q.delete("default/a");
        q.requeue_backoff(&p);
        assert_eq!(q.pending(), (0, 0, 0));

        q.add_or_update(info("b"));
        let p = q.pop().await;
        let newer = Arc::new(pod_with("b", |p| spec(p).priority = Some(5)));
        q.add_or_update(newer);
        q.requeue_unschedulable(&p, HashSet::new());
        assert_eq!(q.pending(), (0, 0, 1));
        q.on_event(ClusterEvent::NodeUpdate);
        let (_, backoff, _) = q.pending();
        assert_eq!(backoff, 1);
    }

    #[tokio::test]
    async fn a_changed_spec_moves_an_unschedulable_pod() {
        let q = Queue::new();
        q.add_or_update(info("a"));
        let p = q.pop().await;
        q.requeue_unschedulable(&p, HashSet::from(["NodeAffinity"]));
        // A status-only update leaves it where it is.
        let mut same = pod("a");
        same.pod.status = Some(Default::default());
        q.add_or_update(Arc::new(same));
        assert_eq!(q.pending(), (0, 0, 1));
        q.add_or_update(Arc::new(pod_with("a", |p| {
            spec(p).node_selector = Some(Default::default())
        })));
        assert_eq!(q.pending().2, 0);
    }
}

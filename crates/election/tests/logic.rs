//! The election's logic on an in-memory store under paused tokio time:
//! exact, deterministic timings for deadlines, step-downs and handovers.

// Test helpers panic on anything unexpected, by design.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "support/wait.rs"]
mod wait;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use wait::eventually;

use ironclad_election::{ElectionConfig, Elector, Error, LeaderState, Leadership};
use ironclad_store::{Op, Store, Txn};
use support::FakeStore;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const KEY: &str = "/ironclad/leader/test";
/// TTL 2 s minus the default 500 ms margin.
const VALIDITY: Duration = Duration::from_millis(1500);

struct Contender {
    leadership: Leadership,
    store: FakeStore,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<ironclad_election::Result<()>>,
}

impl Contender {
    fn start(store: &FakeStore, id: &str) -> Self {
        let store = store.view();
        let elector = Elector::new(Arc::new(store.clone()), ElectionConfig::new(KEY, id)).unwrap();
        let leadership = elector.leadership();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(elector.run(async move {
            let _ = stopped.await;
        }));
        Contender {
            leadership,
            store,
            stop: Some(stop),
            task,
        }
    }

    /// When the current (or last) term started: its first deadline minus
    /// the validity, i.e. the instant its lease grant was sent.
    fn term_start(&self) -> Instant {
        self.leadership.last_term().unwrap().until - VALIDITY
    }
}

/// The index of the only leader, once there is exactly one.
async fn sole_leader(cs: &[Contender], within: Duration) -> usize {
    eventually(within, "exactly one leader", || {
        let leaders: Vec<usize> = (0..cs.len())
            .filter(|&i| cs[i].leadership.is_leader())
            .collect();
        (leaders.len() == 1).then(|| leaders[0])
    })
    .await
}

fn three(store: &FakeStore) -> Vec<Contender> {
    ["a", "b", "c"]
        .iter()
        .map(|id| Contender::start(store, id))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn exactly_one_leader_and_followers_know_it() {
    let store = FakeStore::new();
    let cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let leader_id = cs[l].leadership.id().to_owned();
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        let n = cs.iter().filter(|c| c.leadership.is_leader()).count();
        assert_eq!(n, 1, "leaders at {:?}", Instant::now());
        tokio::time::sleep(Duration::from_millis(7)).await;
    }
    for (i, c) in cs.iter().enumerate() {
        let want = if i == l {
            LeaderState::Leader {
                token: c.leadership.token().unwrap(),
            }
        } else {
            LeaderState::Follower {
                leader: Some(leader_id.clone()),
            }
        };
        assert_eq!(c.leadership.state(), want, "contender {i}");
    }
}

#[tokio::test(start_paused = true)]
async fn dead_leader_is_replaced_after_its_lease_expires() {
    let store = FakeStore::new();
    let mut cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let old = cs.remove(l);
    let old_token = old.leadership.token().unwrap();
    // Let it renew a few times, then die without resigning.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    old.task.abort();
    let died = Instant::now();
    let n = sole_leader(&cs, Duration::from_secs(3)).await;
    let failover = Instant::now() - died;
    println!("failover after the leader died: {failover:?}");
    assert!(failover <= Duration::from_millis(2100), "{failover:?}");
    assert!(!old.leadership.is_leader());
    assert!(old.leadership.last_term().unwrap().until <= cs[n].term_start());
    assert!(cs[n].leadership.token().unwrap() > old_token);
}

#[tokio::test(start_paused = true)]
async fn a_cut_off_leader_steps_down_at_its_deadline_before_the_lease_expires() {
    let store = FakeStore::new();
    let cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let mut state = cs[l].leadership.subscribe();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Cut the leader off: renewals hang, everything else fails (so its
    // lease cannot be revoked either and must expire in the store).
    cs[l]
        .store
        .faults
        .hang_keep_alive
        .store(true, Ordering::SeqCst);
    cs[l].store.faults.unavailable.store(true, Ordering::SeqCst);
    let until = cs[l].leadership.last_term().unwrap().until;
    // Renewals are sent every 500 ms: the last good one was at most that long ago.
    assert!(until >= Instant::now() + VALIDITY - Duration::from_millis(500));
    eventually(Duration::from_secs(3), "the leader to stop", || {
        (!cs[l].leadership.is_leader()).then_some(())
    })
    .await;
    let stopped = Instant::now();
    assert!(
        stopped >= until && stopped <= until + Duration::from_millis(1),
        "{stopped:?} vs {until:?}"
    );
    // Timers fire on whole milliseconds, hence a little slack.
    tokio::time::timeout(Duration::from_millis(3), state.wait_for(|s| !s.is_leader()))
        .await
        .expect("state published at the deadline")
        .unwrap();
    let n = eventually(Duration::from_secs(3), "a new leader", || {
        (0..3).find(|&i| i != l && cs[i].leadership.is_leader())
    })
    .await;
    // The store expired the lease TTL after the last renewal, a full margin
    // after the old leader stopped.
    assert!(cs[n].term_start() >= until + Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn a_leader_whose_renewals_hang_hands_over_at_its_deadline() {
    let store = FakeStore::new();
    let cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let old_token = cs[l].leadership.token().unwrap();
    cs[l]
        .store
        .faults
        .hang_keep_alive
        .store(true, Ordering::SeqCst);
    let deadline = cs[l].leadership.last_term().unwrap().until;
    // It stops at its deadline and revokes its lease, so a healthy candidate
    // takes over at once, not after the TTL.
    let n = eventually(Duration::from_secs(3), "a new leader", || {
        (0..3).find(|&i| i != l && cs[i].leadership.is_leader())
    })
    .await;
    assert!(
        Instant::now() - deadline <= Duration::from_millis(5),
        "{:?}",
        Instant::now() - deadline
    );
    assert!(cs[n].term_start() >= deadline);
    assert!(cs[n].leadership.token().unwrap() > old_token);
}

#[tokio::test(start_paused = true)]
async fn a_frozen_leader_is_no_leader_the_moment_it_resumes() {
    let store = FakeStore::new();
    let cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let old_token = cs[l].leadership.token().unwrap();
    // Jump the clock as if the whole runtime had been stopped for 5 s:
    // before any task runs again, the handle already says no.
    tokio::time::advance(Duration::from_secs(5)).await;
    assert!(!cs[l].leadership.is_leader());
    assert!(matches!(
        cs[l].leadership.guard(),
        Err(Error::NotLeader { .. })
    ));
    let n = sole_leader(&cs, Duration::from_secs(3)).await;
    assert!(cs[n].leadership.token().unwrap() > old_token);
}

#[tokio::test(start_paused = true)]
async fn lease_revoked_behind_the_leaders_back_ends_its_term() {
    let store = FakeStore::new();
    let cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let old_token = cs[l].leadership.token().unwrap();
    let mut state = cs[l].leadership.subscribe();
    let lease = store.get(KEY.as_bytes()).await.unwrap().unwrap().lease;
    store.lease_revoke(lease).await.unwrap();
    tokio::time::timeout(
        Duration::from_millis(5),
        state.wait_for(|s| s.token() != Some(old_token)),
    )
    .await
    .expect("stepped down promptly")
    .unwrap();
    let n = sole_leader(&cs, Duration::from_millis(50)).await;
    assert!(cs[n].leadership.token().unwrap() > old_token);
}

#[tokio::test(start_paused = true)]
async fn resignation_hands_over_at_once() {
    let store = FakeStore::new();
    let mut cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let mut old = cs.remove(l);
    let old_token = old.leadership.token().unwrap();
    old.stop.take().unwrap().send(()).unwrap();
    let resigned = Instant::now();
    let n = sole_leader(&cs, Duration::from_millis(50)).await;
    println!(
        "handover after resignation: {:?}",
        Instant::now() - resigned
    );
    assert!(cs[n].leadership.token().unwrap() > old_token);
    old.task.await.unwrap().unwrap();
    assert!(!old.leadership.is_leader());
    assert_eq!(
        old.leadership.state(),
        LeaderState::Follower { leader: None }
    );
}

#[tokio::test(start_paused = true)]
async fn a_stale_guard_fences_writes_out() {
    let store = FakeStore::new();
    let mut cs = three(&store);
    let l = sole_leader(&cs, Duration::from_secs(1)).await;
    let guard = cs[l].leadership.guard().unwrap();
    let write = |g| Txn::new().when([g]).and_then([Op::put("/work", "x")]);
    assert!(store.txn(write(guard.clone())).await.unwrap().succeeded);
    cs.remove(l).task.abort();
    let n = sole_leader(&cs, Duration::from_secs(3)).await;
    assert!(
        !store.txn(write(guard)).await.unwrap().succeeded,
        "the old term's guard must fail"
    );
    assert!(
        store
            .txn(write(cs[n].leadership.guard().unwrap()))
            .await
            .unwrap()
            .succeeded
    );
}

#[tokio::test(start_paused = true)]
async fn a_store_outage_is_ridden_out() {
    let store = FakeStore::new();
    let c = Contender::start(&store, "a");
    c.store.faults.unavailable.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!c.leadership.is_leader());
    assert!(
        !c.task.is_finished(),
        "a transient outage must not end the run"
    );
    c.store.faults.unavailable.store(false, Ordering::SeqCst);
    eventually(
        Duration::from_millis(1100),
        "leadership after the outage",
        || c.leadership.is_leader().then_some(()),
    )
    .await;
    // An outage while leading ends the term at the deadline, not before.
    let deadline = c.leadership.last_term().unwrap().until;
    c.store.faults.unavailable.store(true, Ordering::SeqCst);
    eventually(Duration::from_secs(2), "the term to lapse", || {
        (!c.leadership.is_leader()).then_some(())
    })
    .await;
    assert!(Instant::now() >= deadline);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_watch_does_not_starve_renewals() {
    let store = FakeStore::new();
    let c = Contender::start(&store, "a");
    c.store.faults.hang_watch.store(true, Ordering::SeqCst);
    eventually(Duration::from_secs(1), "leadership", || {
        c.leadership.is_leader().then_some(())
    })
    .await;
    let token = c.leadership.token();
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        assert_eq!(
            c.leadership.token(),
            token,
            "lost the term at {:?}",
            Instant::now()
        );
        tokio::time::sleep(Duration::from_millis(13)).await;
    }
}

#[test]
fn an_unworkable_config_is_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(FakeStore::new());
        let bad = ElectionConfig::new(KEY, "a").with_renew_interval(Duration::from_secs(2));
        assert!(matches!(
            Elector::new(store, bad),
            Err(Error::InvalidConfig(_))
        ));
    });
}

//! The election on the embedded store, three contenders in one process, in
//! real time: one leader; a leader that dies without resigning is replaced
//! once its lease expires, within the bound; a resigning leader is replaced
//! at once.

// Test helpers panic on anything unexpected, by design.
#![allow(clippy::unwrap_used)]

#[path = "support/wait.rs"]
mod wait;
use std::sync::Arc;
use std::time::Duration;
use wait::eventually;

use ironclad_election::{ElectionConfig, Elector, LeaderState, Leadership};
use ironclad_store::Store;
use ironclad_store_embedded::{Config, EmbeddedStore};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const KEY: &str = "/ironclad/election/embedded";
/// Failover after a leader's death must take at most this long (TTL 2 s).
const BOUND: Duration = Duration::from_secs(3);
/// TTL 2 s minus the default 500 ms margin.
const VALIDITY: Duration = Duration::from_millis(1500);

struct Contender {
    leadership: Leadership,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<ironclad_election::Result<()>>,
}

fn start(store: &Arc<dyn Store>, id: &str) -> Contender {
    let elector = Elector::new(store.clone(), ElectionConfig::new(KEY, id)).unwrap();
    let leadership = elector.leadership();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(elector.run(async move {
        let _ = stopped.await;
    }));
    Contender {
        leadership,
        stop: Some(stop),
        task,
    }
}

/// The index of the only leader among `cs` (ignoring `None`s), once there
/// is exactly one.
async fn sole_leader(cs: &[Option<Contender>], within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let leaders: Vec<usize> = (0..cs.len())
            .filter(|&i| cs[i].as_ref().is_some_and(|c| c.leadership.is_leader()))
            .collect();
        if leaders.len() == 1 {
            return leaders[0];
        }
        if Instant::now() >= deadline {
            let states: Vec<String> = cs
                .iter()
                .flatten()
                .map(|c| format!("{} is {}", c.leadership.id(), c.leadership.state()))
                .collect();
            panic!("no sole leader after {within:?}: leaders {leaders:?}; {states:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_failover_on_death_and_handover_on_resignation() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        EmbeddedStore::open(dir.path(), Config::default())
            .await
            .unwrap(),
    );
    let mut cs: Vec<Option<Contender>> = ["a", "b", "c"]
        .iter()
        .map(|id| Some(start(&store, id)))
        .collect();
    let handle = |cs: &[Option<Contender>], i: usize| cs[i].as_ref().unwrap().leadership.clone();

    // Exactly one leader, and the others know who it is.
    let first = sole_leader(&cs, Duration::from_secs(5)).await;
    let first_id = handle(&cs, first).id().to_owned();
    for i in (0..3).filter(|&i| i != first) {
        let l = handle(&cs, i);
        eventually(
            Duration::from_secs(2),
            "followers to name the leader",
            || {
                (l.state()
                    == LeaderState::Follower {
                        leader: Some(first_id.clone()),
                    })
                .then_some(())
            },
        )
        .await;
    }
    let quiet = Instant::now() + Duration::from_secs(1);
    while Instant::now() < quiet {
        let n = cs
            .iter()
            .flatten()
            .filter(|c| c.leadership.is_leader())
            .count();
        assert_eq!(n, 1, "leaders at once");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // The leader dies without resigning: its lease must expire first.
    let old = cs[first].take().unwrap();
    let old_token = old.leadership.token().unwrap();
    old.task.abort();
    let died = Instant::now();
    let second = tokio::select! {
        s = sole_leader(&cs, BOUND + Duration::from_secs(2)) => s,
        // Tell a store that never expired the lease from an election that
        // missed the key's deletion.
        _ = tokio::time::sleep(BOUND + Duration::from_secs(1)) => {
            match store.get(KEY.as_bytes()).await.unwrap() {
                Some(kv) => panic!(
                    "the store has not expired the dead leader's lease {:x} {:?} after its death \
                     (TTL 2 s): {kv:?}", kv.lease, died.elapsed()
                ),
                None => panic!("the key is gone but no candidate took over"),
            }
        }
    };
    let failover = died.elapsed();
    let new_term = handle(&cs, second).last_term().unwrap();
    println!("failover after the leader died: {failover:?} (bound {BOUND:?})");
    assert!(failover <= BOUND, "failover took {failover:?}");
    assert!(
        !old.leadership.is_leader(),
        "the dead leader's handle must have lapsed"
    );
    assert!(old.leadership.last_term().unwrap().until <= new_term.until - VALIDITY);
    assert!(new_term.token > old_token);

    // The new leader resigns: the last contender takes over at once.
    let resigning = cs[second].take().unwrap();
    resigning.stop.unwrap().send(()).unwrap();
    let resigned = Instant::now();
    let third = sole_leader(&cs, Duration::from_secs(1)).await;
    let handover = resigned.elapsed();
    println!("handover after resignation: {handover:?}");
    assert!(
        handover < Duration::from_millis(500),
        "handover took {handover:?}"
    );
    assert!(handle(&cs, third).token().unwrap() > new_term.token);
    resigning.task.await.unwrap().unwrap();
    assert!(!resigning.leadership.is_leader());
    assert!(store.get(KEY.as_bytes()).await.unwrap().is_some());
}

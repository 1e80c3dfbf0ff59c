//! Lease elections against a real API server: one leader at a time, a
//! standby takes over once the leader stops renewing (at once when it
//! releases), and a leader cut off from the API steps down before its
//! Lease can expire for the others.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ironclad_leader::{LeaseConfig, LeaseElector};
use ironclad_testkit::TestCluster;
use tokio::sync::{oneshot, watch};

const WAIT: Duration = Duration::from_secs(10);

struct Candidate {
    leading: watch::Receiver<bool>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

fn candidate(client: kube::Client, id: &str) -> Candidate {
    let elector = LeaseElector::new(client, LeaseConfig::new("test-lease", id)).unwrap();
    let leading = elector.subscribe();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(elector.run(async move {
        let _ = stopped.await;
    }));
    Candidate {
        leading,
        stop: Some(stop),
        task,
    }
}

async fn until_leading(c: &mut Candidate) -> Duration {
    let start = Instant::now();
    tokio::time::timeout(WAIT, c.leading.wait_for(|l| *l))
        .await
        .expect("never led")
        .unwrap();
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leads_and_a_standby_takes_over_when_it_dies() {
    let cluster = TestCluster::start().await.unwrap();
    let mut a = candidate(cluster.client().unwrap(), "a");
    until_leading(&mut a).await;
    let mut b = candidate(cluster.client().unwrap(), "b");
    // b campaigns for a while (several retry periods) without leading.
    let led = tokio::time::timeout(Duration::from_millis(1200), b.leading.wait_for(|l| *l))
        .await
        .is_ok();
    assert!(!led, "two leaders at once");
    assert!(*a.leading.borrow());

    // a dies without releasing: b leads after the lease duration (2 s).
    a.task.abort();
    let took = until_leading(&mut b).await;
    assert!(
        took >= Duration::from_millis(1000),
        "took over too early: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_stops_hands_over_at_once() {
    let cluster = TestCluster::start().await.unwrap();
    let mut a = candidate(cluster.client().unwrap(), "a");
    until_leading(&mut a).await;
    let mut b = candidate(cluster.client().unwrap(), "b");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = a.stop.take().unwrap().send(());
    a.task.await.unwrap();
    assert!(!*a.leading.borrow());
    let took = until_leading(&mut b).await;
    // Released: b's next try (every 250 ms) takes it, no lease wait.
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_from_the_api_steps_down_in_time() {
    let cluster = TestCluster::start().await.unwrap();
    let mut a = candidate(cluster.client().unwrap(), "a");
    until_leading(&mut a).await;
    let cut = Instant::now();
    drop(cluster); // the API server goes away
    tokio::time::timeout(WAIT, a.leading.wait_for(|l| !*l))
        .await
        .expect("still leading without the API")
        .unwrap();
    // It must stop before anyone else could take the 2 s lease.
    assert!(
        cut.elapsed() < Duration::from_secs(2),
        "{:?}",
        cut.elapsed()
    );
}

#[test]
fn unsafe_timings_are_refused() {
    assert!(LeaseConfig::new("x", "a").validate().is_ok());
    let mut c = LeaseConfig::new("x", "a");
    c.renew_deadline = c.lease_duration;
    assert!(
        c.validate().is_err(),
        "renew deadline must be below the lease"
    );
    let mut c = LeaseConfig::new("x", "a");
    c.retry_period = c.renew_deadline;
    assert!(c.validate().is_err());
    let mut c = LeaseConfig::new("x", "a");
    c.lease_duration = Duration::from_millis(2500);
    assert!(
        c.validate().is_err(),
        "leaseDurationSeconds is whole seconds"
    );
    assert!(LeaseConfig::new("x", "").validate().is_err());
}

//! Time as the Job and CronJob controllers see it: the system clock, or a
//! fake one a test sets (a CronJob scheduled every minute cannot be waited
//! for in a test).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;

    /// Yields each time the clock jumps (a fake clock being set), so a
    /// controller re-evaluates every object then. The system clock never
    /// jumps.
    fn jumps(&self) -> BoxStream<'static, ()> {
        futures::stream::pending().boxed()
    }
}

/// The real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<Timestamp>,
    moved: watch::Sender<u64>,
}

// === impl FakeClock ===

impl FakeClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Arc<FakeClock> {
        Arc::new(FakeClock {
            now: Mutex::new(start),
            moved: watch::channel(0).0,
        })
    }

    /// Sets the time and wakes the controllers using this clock.
    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = t;
        self.moved.send_modify(|n| *n += 1);
    }

    /// Moves the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let d = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
        let next = self.now().saturating_add(d).unwrap_or(Timestamp::MAX);
        self.set(next);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn jumps(&self) -> BoxStream<'static, ()> {
        let rx = self.moved.subscribe();
        futures::stream::unfold(rx, |mut rx| async move {
            rx.changed().await.ok()?;
            Some(((), rx))
        })
        .boxed()
    }
}

/// `later - earlier` as a std duration, zero when `later` is not later.
pub(crate) fn since(later: Timestamp, earlier: Timestamp) -> Duration {
    Duration::try_from(later.duration_since(earlier)).unwrap_or(Duration::ZERO)
}

/// `t + d`, saturating.
pub(crate) fn add(t: Timestamp, d: Duration) -> Timestamp {
    let d = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    t.saturating_add(d).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_clock_moves_only_when_told_and_says_so() {
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        let clock = FakeClock::new(start);
        let mut jumps = clock.jumps();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(61));
        assert_eq!(clock.now().as_second(), 1_700_000_061);
        assert_eq!(jumps.next().await, Some(()));
        assert_eq!(since(clock.now(), start), Duration::from_secs(61));
        assert_eq!(since(start, clock.now()), Duration::ZERO);
    }
}

//! Waiting on a condition with a deadline, shared by the election tests.

use std::time::Duration;

use tokio::time::Instant;

/// Polls `f` every millisecond (virtual under a paused clock) until it
/// yields, failing after `within`.
pub async fn eventually<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

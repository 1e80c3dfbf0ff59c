//! Running work only while elected.

use std::future::Future;

use tokio::sync::watch;

/// Runs `work()` each time leadership is gained and aborts it the moment
/// leadership is lost; returns when the elector is gone. `work` must not
/// leave detached tasks behind (use a `JoinSet` or `join!` inside it), or
/// they would go on acting after the abort.
pub async fn while_leading<F, Fut>(mut leading: watch::Receiver<bool>, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        if leading.wait_for(|l| *l).await.is_err() {
            return;
        }
        let task = tokio::spawn(work());
        let lost = leading.wait_for(|l| !*l).await.map(|_| ());
        task.abort();
        let _ = task.await;
        if lost.is_err() {
            return;
        }
    }
}

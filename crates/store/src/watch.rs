//! Watches: every change to a key range after a revision, in order.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;

use crate::{Event, KeyRange, Result, Revision};

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRequest {
    /// The keys.
    pub range: KeyRange,
    /// Deliver every event with revision `>= start_revision`; 0 (or `None`)
    /// means "from now": only changes after the current revision.
    pub start_revision: Option<Revision>,
    /// Attach the previous key-value to each event.
    pub prev_kv: bool,
    /// Send periodic empty responses carrying the current revision.
    pub progress_notify: bool,
}

impl WatchRequest {
    /// Watch `range` from now.
    pub fn new(range: KeyRange) -> Self {
        WatchRequest {
            range,
            start_revision: None,
            prev_kv: false,
            progress_notify: false,
        }
    }
    /// Deliver events from revision `rev` on (inclusive).
    pub fn from_revision(mut self, rev: Revision) -> Self {
        self.start_revision = Some(rev);
        self
    }
    /// Ask for previous key-values.
    pub fn with_prev_kv(mut self) -> Self {
        self.prev_kv = true;
        self
    }
    /// Ask for progress notifications.
    pub fn with_progress_notify(mut self) -> Self {
        self.progress_notify = true;
        self
    }
}

/// A batch of events, or a progress notification (no events).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchResponse {
    /// The store revision when the batch was sent; for a progress
    /// notification, every event up to it has been delivered.
    pub header_revision: Revision,
    /// Events in revision order (all events of one revision in one batch).
    pub events: Vec<Event>,
}

impl WatchResponse {
    /// Whether this is a progress notification.
    pub fn is_progress(&self) -> bool {
        self.events.is_empty()
    }
}

/// Requests a progress notification on demand; backend-specific.
pub type ProgressFn = Box<dyn FnMut() -> futures::future::BoxFuture<'static, Result<()>> + Send>;

/// A running watch: a stream of [`WatchResponse`]s. It ends with an
/// `Err(Error::Compacted)` when the watch fell behind a compaction; dropping
/// it cancels the watch.
pub struct WatchStream {
    inner: BoxStream<'static, Result<WatchResponse>>,
    progress: ProgressFn,
}

impl WatchStream {
    /// Wraps a backend's stream and its on-demand progress request.
    pub fn new(inner: BoxStream<'static, Result<WatchResponse>>, progress: ProgressFn) -> Self {
        WatchStream { inner, progress }
    }

    /// The same watch with every response passed through `f` (a layer that
    /// transforms values, such as encryption at rest); progress requests
    /// still reach the backend.
    pub fn map_responses<F>(self, mut f: F) -> WatchStream
    where
        F: FnMut(WatchResponse) -> Result<WatchResponse> + Send + 'static,
    {
        use futures::StreamExt;
        WatchStream {
            inner: self.inner.map(move |r| r.and_then(&mut f)).boxed(),
            progress: self.progress,
        }
    }

    /// Asks the store for a progress notification: an empty response with
    /// the current revision. The embedded store sends it after every event
    /// up to that revision; etcd 3.4 may send it ahead of events still in
    /// flight (etcd issue 15220), so a caller must not treat it as a barrier
    /// on etcd.
    pub async fn request_progress(&mut self) -> Result<()> {
        (self.progress)().await
    }
}

impl Stream for WatchStream {
    type Item = Result<WatchResponse>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream").finish_non_exhaustive()
    }
}

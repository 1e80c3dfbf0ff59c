//! Watches on etcd, kept alive across member failures.
//!
//! Each [`WatchStream`] owns one etcd watch on its own gRPC stream, so the
//! stream's progress notifications and cancellation concern that watch
//! alone. The stream is driven by its consumer (no background task): a
//! consumer that stops reading stops reading from etcd too, and etcd holds
//! the backlog (its watchers catch up from history) instead of this process
//! buffering it. Dropping the stream resets the gRPC stream, which cancels
//! the watch in etcd.
//!
//! When the gRPC stream breaks (the member died, lost its leader, or the
//! connection failed) the watch is re-created on another member from the
//! revision after the last event delivered, so the consumer sees no gap and
//! no duplicate. If that revision has been compacted meanwhile, the stream
//! ends with [`Error::Compacted`] like any compacted watch.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use futures::StreamExt;
use ironclad_store::{Error, Result, Revision, WatchRequest, WatchResponse, WatchStream};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::convert::{etcd_range, event, header_revision};
use crate::error::{Failure, RETRY_BUDGET, classify};
use crate::store::Inner;

const FIRST_BACKOFF: std::time::Duration = std::time::Duration::from_millis(20);
const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);

/// How often an unanswered progress request is sent again.
const PROGRESS_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

/// What the stream shares with its progress requester.
struct Shared {
    /// The request half of the current etcd watch stream; `None` while the
    /// watch is being re-created.
    sender: Mutex<Option<etcd_client::WatchRequestSender>>,
    /// The revision an outstanding progress request must reach; 0 when
    /// none is outstanding.
    progress_target: AtomicI64,
}

impl Shared {
    async fn request_progress(&self) -> Result<()> {
        match self.sender.lock().await.as_mut() {
            Some(s) => s
                .request_progress()
                .await
                .map_err(|e| classify(e).into_error()),
            None => Err(Error::Unavailable("watch is being re-established".into())),
        }
    }
}

/// One store watch and the etcd watch currently serving it.
struct Watch {
    inner: Arc<Inner>,
    key: Vec<u8>,
    range_end: Vec<u8>,
    prev_kv: bool,
    progress_notify: bool,
    /// The first revision not yet delivered; 0 until etcd has placed a
    /// watch "from now".
    next_rev: Revision,
    shared: Arc<Shared>,
    responses: Option<etcd_client::WatchResponseStream>,
    done: bool,
}

/// What to do with one etcd watch response.
enum Step {
    Deliver(Result<WatchResponse>),
    Skip,
    Reconnect(Failure),
}

/// Opens a watch; returns once etcd has registered it, so every write
/// acknowledged after this returns is delivered (for a watch from now too).
pub(crate) async fn open(inner: Arc<Inner>, req: WatchRequest) -> Result<WatchStream> {
    req.range.validate()?;
    let next_rev = match req.start_revision {
        Some(r) if r < 0 => {
            return Err(Error::InvalidRequest(format!(
                "watch from negative revision {r}"
            )));
        }
        Some(r) => r,
        None => 0,
    };
    let (key, range_end) = etcd_range(&req.range);
    let mut watch = Watch {
        inner,
        key,
        range_end,
        prev_kv: req.prev_kv,
        progress_notify: req.progress_notify,
        next_rev,
        shared: Arc::new(Shared {
            sender: Mutex::new(None),
            progress_target: AtomicI64::new(0),
        }),
        responses: None,
        done: false,
    };
    if let Err(f) = watch.connect().await {
        return Err(watch.error(f).await);
    }
    let (shared, inner) = (watch.shared.clone(), watch.inner.clone());
    let progress = Box::new(move || {
        let (shared, inner) = (shared.clone(), inner.clone());
        Box::pin(async move {
            // etcd answers with the revision of the member serving the
            // watch, which may lag writes already acknowledged elsewhere
            // (and etcd 3.5.8+ ignores a request while the watch catches
            // up). The stream repeats the request until the answer reaches
            // the cluster's revision as of now.
            let target = inner.current_revision().await?;
            shared.progress_target.fetch_max(target, Ordering::AcqRel);
            shared.request_progress().await
        }) as futures::future::BoxFuture<'static, Result<()>>
    });
    let stream = futures::stream::unfold(watch, |mut w| async move {
        let item = w.next().await?;
        Some((item, w))
    });
    Ok(WatchStream::new(stream.boxed(), progress))
}

impl Watch {
    /// Creates the etcd watch from `next_rev` and waits for etcd to confirm.
    async fn establish(&mut self) -> Result<(), Failure> {
        let mut opts = etcd_client::WatchOptions::new();
        if !self.range_end.is_empty() {
            opts = opts.with_range(self.range_end.clone());
        }
        if self.next_rev > 0 {
            opts = opts.with_start_revision(self.next_rev);
        }
        if self.prev_kv {
            opts = opts.with_prev_key();
        }
        if self.progress_notify {
            opts = opts.with_progress_notify();
        }
        let mut client = self.inner.watch.clone();
        let mut stream = client.watch(self.key.clone(), Some(opts)).await?;
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Failure::Unavailable {
                message: "etcd closed the watch stream before confirming the watch".into(),
                not_applied: true,
            })?;
        if !first.created() {
            return Err(Failure::Store(Error::Backend {
                message: "etcd's first watch answer is not the watch's creation".into(),
                source: None,
            }));
        }
        if first.canceled() {
            return Err(Failure::Invalid(format!(
                "etcd refused the watch: {}",
                first.cancel_reason()
            )));
        }
        if self.next_rev == 0 {
            // etcd starts a watch "from now" after the revision in this
            // header; resuming from the next one keeps "from now" on retry.
            self.next_rev = header_revision(first.header()).map_err(Failure::Store)? + 1;
        }
        let (sender, responses) = stream.split();
        *self.shared.sender.lock().await = Some(sender);
        self.responses = Some(responses);
        Ok(())
    }

    /// [`Self::establish`], retried on transient failures for
    /// [`RETRY_BUDGET`].
    async fn connect(&mut self) -> Result<(), Failure> {
        let deadline = Instant::now() + RETRY_BUDGET;
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.establish().await {
                Ok(()) => return Ok(()),
                Err(f @ Failure::Unavailable { .. }) => {
                    if Instant::now() + backoff > deadline {
                        return Err(f);
                    }
                    tracing::debug!(failure = ?f, "re-creating etcd watch");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(f) => return Err(f),
            }
        }
    }

    /// The store error for a failure of this watch.
    async fn error(&self, failure: Failure) -> Error {
        self.inner.revision_error(failure, self.next_rev).await
    }

    fn handle(&mut self, resp: &etcd_client::WatchResponse) -> Step {
        if resp.compact_revision() > 0 {
            let compact_revision = resp.compact_revision();
            self.inner.note_compaction(compact_revision);
            self.done = true;
            return Step::Deliver(Err(Error::Compacted {
                requested: self.next_rev,
                compact_revision,
            }));
        }
        if resp.canceled() {
            // Never asked for by this side: etcd dropped the watch (e.g. its
            // member lost the leader); it can be re-created elsewhere.
            return Step::Reconnect(Failure::Unavailable {
                message: format!("etcd cancelled the watch: {}", resp.cancel_reason()),
                not_applied: true,
            });
        }
        if resp.created() {
            return Step::Skip;
        }
        let header_revision = match header_revision(resp.header()) {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                return Step::Deliver(Err(e));
            }
        };
        let events = match resp.events().iter().map(event).collect::<Result<Vec<_>>>() {
            Ok(events) => events,
            Err(e) => {
                self.done = true;
                return Step::Deliver(Err(e));
            }
        };
        // Progress notifications do not move `next_rev`: etcd 3.4 may send
        // a requested one ahead of events still in flight, and resuming
        // after it could skip them.
        match events.last() {
            Some(last) => self.next_rev = last.kv.mod_revision + 1,
            None => {
                let target = self.shared.progress_target.load(Ordering::Acquire);
                if target > 0 && header_revision >= target {
                    // A newer request may have raised the target meanwhile;
                    // then it stays outstanding.
                    let _ = self.shared.progress_target.compare_exchange(
                        target,
                        0,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                }
            }
        }
        Step::Deliver(Ok(WatchResponse {
            header_revision,
            events,
        }))
    }

    /// The next item for the consumer, re-creating the etcd watch as often
    /// as it breaks; `None` once the watch has ended with an error.
    async fn next(&mut self) -> Option<Result<WatchResponse>> {
        loop {
            if self.done {
                return None;
            }
            let failure = match self.responses.as_mut() {
                None => Failure::Unavailable {
                    message: "not connected".into(),
                    not_applied: true,
                },
                Some(responses) => match next_message(responses, &self.shared).await {
                    Ok(Some(resp)) => match self.handle(&resp) {
                        Step::Deliver(item) => return Some(item),
                        Step::Skip => continue,
                        Step::Reconnect(f) => f,
                    },
                    Ok(None) => Failure::Unavailable {
                        message: "etcd closed the watch stream".into(),
                        not_applied: true,
                    },
                    Err(e) => classify(e),
                },
            };
            let failure = match failure {
                Failure::Unavailable { .. } => {
                    tracing::debug!(?failure, next_rev = self.next_rev, "etcd watch broke");
                    self.responses = None;
                    *self.shared.sender.lock().await = None;
                    match self.connect().await {
                        Ok(()) => continue,
                        Err(f) => f,
                    }
                }
                other => other,
            };
            self.done = true;
            return Some(Err(self.error(failure).await));
        }
    }
}

/// The next etcd answer. While a progress request is outstanding, the
/// request is repeated every [`PROGRESS_RETRY`] until answered.
async fn next_message(
    responses: &mut etcd_client::WatchResponseStream,
    shared: &Shared,
) -> Result<Option<etcd_client::WatchResponse>, etcd_client::Error> {
    loop {
        if shared.progress_target.load(Ordering::Acquire) == 0 {
            return responses.message().await;
        }
        // `message` is cancel-safe: a half-received answer stays buffered.
        tokio::select! {
            msg = responses.message() => return msg,
            () = tokio::time::sleep(PROGRESS_RETRY) => {
                if let Err(e) = shared.request_progress().await {
                    tracing::debug!(error = %e, "repeating a watch progress request");
                }
            }
        }
    }
}

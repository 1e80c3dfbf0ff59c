//! What etcd's errors mean for the [`Store`](ironclad_store::Store)
//! contract, and which failed calls may be sent again.
//!
//! etcd reports its semantic errors as gRPC statuses with fixed messages
//! (`etcdserver: mvcc: required revision has been compacted`, ...); the
//! transport reports broken connections as statuses too. [`classify`] sorts
//! them; callers add the context the message lacks (the revision asked for,
//! the lease) when turning a [`Failure`] into an [`Error`].

use std::error::Error as _;
use std::future::Future;
use std::time::Duration;

use ironclad_store::Error;
use tokio::time::Instant;
use tonic::Code;

/// How long a call keeps being retried on transient failures before the
/// error is handed to the caller. Long enough to ride out a leader election
/// after a member dies (about two election timeouts), short enough that a
/// caller notices a dead cluster.
pub(crate) const RETRY_BUDGET: Duration = Duration::from_secs(15);

const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// An etcd error, sorted by what it means to the store's callers.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The revision asked for was compacted.
    Compacted,
    /// The revision asked for is ahead of the store.
    FutureRevision,
    /// A lease in the request does not exist.
    LeaseNotFound,
    /// etcd refused the request as malformed.
    Invalid(String),
    /// The cluster could not be reached or could not serve the request now.
    /// `not_applied` is set when the request certainly had no effect (it
    /// never left this process, or etcd refused it before proposing it), so
    /// even a write may be sent again.
    Unavailable { message: String, not_applied: bool },
    /// Anything else etcd said.
    Other(etcd_client::Error),
    /// A failure already in the store's terms (a malformed answer).
    Store(Error),
}

impl From<etcd_client::Error> for Failure {
    fn from(e: etcd_client::Error) -> Self {
        classify(e)
    }
}

impl Failure {
    /// The store error for failures that need no context; the
    /// context-dependent ones (compaction, future revision, lease) get a
    /// generic rendering, so callers that can add context match them first.
    pub(crate) fn into_error(self) -> Error {
        match self {
            Failure::Compacted => Error::Backend {
                message: "etcd: required revision has been compacted".into(),
                source: None,
            },
            Failure::FutureRevision => Error::Backend {
                message: "etcd: required revision is a future revision".into(),
                source: None,
            },
            Failure::LeaseNotFound => Error::LeaseNotFound(0),
            Failure::Invalid(m) => Error::InvalidRequest(m),
            Failure::Unavailable { message, .. } => Error::Unavailable(message),
            Failure::Other(e) => Error::backend("etcd request failed", e),
            Failure::Store(e) => e,
        }
    }

    fn retryable(&self, idempotent: bool) -> bool {
        match self {
            Failure::Unavailable { not_applied, .. } => idempotent || *not_applied,
            _ => false,
        }
    }
}

/// Sorts an etcd-client error.
pub(crate) fn classify(e: etcd_client::Error) -> Failure {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(status) => classify_status(status),
        E::TransportError(_) | E::IoError(_) | E::WatchError(_) => Failure::Unavailable {
            message: e.to_string(),
            not_applied: false,
        },
        // etcd-client's keep-alive says this when the first answer has TTL 0.
        E::LeaseKeepAliveError(ref m) if m.contains("not found") => Failure::LeaseNotFound,
        E::LeaseKeepAliveError(_) => Failure::Unavailable {
            message: e.to_string(),
            not_applied: false,
        },
        E::InvalidArgs(_) | E::InvalidUri(_) => Failure::Invalid(e.to_string()),
        other => Failure::Other(other),
    }
}

fn classify_status(status: tonic::Status) -> Failure {
    let msg = status.message();
    if msg.contains("required revision has been compacted") {
        return Failure::Compacted;
    }
    if msg.contains("required revision is a future revision") {
        return Failure::FutureRevision;
    }
    if msg.contains("requested lease not found") {
        return Failure::LeaseNotFound;
    }
    if msg.contains("request is too large") {
        return Failure::Invalid(format!(
            "{msg} (the whole request is over etcd's --max-request-bytes)"
        ));
    }
    if never_sent(&status)
        // etcd refuses these before proposing anything to raft.
        || msg.contains("etcdserver: no leader")
        || msg.contains("etcdserver: too many requests")
    {
        return Failure::Unavailable {
            message: describe(&status),
            not_applied: true,
        };
    }
    match status.code() {
        Code::InvalidArgument | Code::OutOfRange => Failure::Invalid(msg.to_string()),
        Code::Unavailable
        | Code::Unknown
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted => Failure::Unavailable {
            message: describe(&status),
            not_applied: false,
        },
        // A connection torn down under a call surfaces as an HTTP/2 error.
        Code::Internal if msg.starts_with("h2 protocol error") => Failure::Unavailable {
            message: describe(&status),
            not_applied: false,
        },
        _ => Failure::Other(etcd_client::Error::GRpcStatus(status)),
    }
}

/// Whether the call failed while connecting, before any byte of it was sent:
/// tonic's balancer hands a call to a member whose connection just failed
/// and fails it at once with the connect error.
fn never_sent(status: &tonic::Status) -> bool {
    let mut source = status.source();
    while let Some(e) = source {
        if e.is::<tonic::ConnectError>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn describe(status: &tonic::Status) -> String {
    format!("etcd: {:?}: {}", status.code(), status.message())
}

/// Runs `call` until it succeeds, fails for good, or [`RETRY_BUDGET`] is
/// spent. Reads (`idempotent`) are retried on any transient failure; writes
/// only when the failure proves they had no effect, because a write whose
/// answer was lost may have been applied, and sending it again would apply
/// it twice (a compare-and-swap would then report a false failure).
pub(crate) async fn with_retry<T, F, Fut>(idempotent: bool, mut call: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, etcd_client::Error>>,
{
    let deadline = Instant::now() + RETRY_BUDGET;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let failure = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => classify(e),
        };
        if !failure.retryable(idempotent) || Instant::now() + backoff > deadline {
            return Err(failure);
        }
        tracing::debug!(?failure, ?backoff, "retrying etcd call");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

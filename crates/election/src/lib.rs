//! Leader election over the [`Store`](ironclad_store::Store): one
//! well-known key, taken by compare-and-swap and held by a lease, with the
//! key's create revision as a fencing token.
//!
//! # Role
//!
//! Every ironclad component that must run once per cluster (the podmaster,
//! controllers) runs an [`Elector`] and acts only while it leads:
//!
//! * A candidate grants a lease of `ttl` seconds and writes its ID to the key
//!   **only if the key is absent** (a [`Txn`](ironclad_store::Txn) guarded by
//!   [`Compare::absent`](ironclad_store::Compare::absent)). The winner leads;
//!   its fencing token is the key's create revision.
//! * The leader renews the lease every `renew_interval`. The others watch the
//!   key from the revision they read it at, so they cannot miss its deletion
//!   (lease expiry or resignation), and then race for it with the same CAS.
//! * A leader holds a **local deadline**: the monotonic instant its last
//!   successful renewal was *sent*, plus the TTL, minus a margin. The store
//!   cannot expire the lease before that instant, so a leader that checks
//!   [`Leadership::is_leader`] before acting never overlaps its successor,
//!   even if it was frozen (SIGSTOP, a long GC-like pause) past its TTL:
//!   the deadline is on `CLOCK_MONOTONIC`, which keeps counting while the
//!   process is stopped.
//! * A clean shutdown resigns (revokes the lease) so the next leader takes
//!   over at once instead of after the TTL.
//!
//! # Where to start
//!
//! [`ElectionConfig`] (defaults give failover within about 3 s of a leader's
//! death), then [`Elector::new`], [`Elector::leadership`] for the
//! [`Leadership`] handle (state changes as a [`tokio::sync::watch`], the
//! [`Leadership::guard`] fencing compare), and [`Elector::run`].
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn ironclad_store::Store>) -> ironclad_election::Result<()> {
//! use ironclad_election::{ElectionConfig, Elector};
//!
//! let elector = Elector::new(store, ElectionConfig::new("/ironclad/leader/podmaster", "node-a"))?;
//! let leadership = elector.leadership();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let task = tokio::spawn(elector.run(async move { let _ = stopped.await; }));
//! // ... elsewhere: `if leadership.is_leader() { act, guarded by leadership.guard()? }`
//! # let _ = leadership;
//! let _ = stop.send(());
//! task.await.ok();
//! # Ok(()) }
//! ```

mod campaign;
mod config;
mod elector;
mod error;
mod lead;
mod leadership;

pub use config::{DEFAULT_MARGIN, DEFAULT_RENEW_INTERVAL, DEFAULT_TTL_SECS, ElectionConfig};
pub use elector::Elector;
pub use error::{Error, Result};
pub use leadership::{LeaderState, Leadership, Term, fencing_guard};

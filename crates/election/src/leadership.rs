//! What callers see of an election: the published [`LeaderState`], and the
//! [`Leadership`] handle that answers "may I act now?" from the local
//! deadline, not from the (possibly late) state channel.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use ironclad_store::{Compare, CompareOp, Revision};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::{Error, Result};

/// Who leads, as this candidate last learnt it. Published on a
/// [`tokio::sync::watch`] channel so components can react (start or stop
/// work); it is a notification, not permission: check
/// [`Leadership::is_leader`] right before each act, because a process that
/// was frozen past its deadline resumes with a stale state value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderState {
    /// Someone else leads, or nobody does yet.
    Follower {
        /// The leader's ID (the key's value), when a leader is known.
        leader: Option<String>,
    },
    /// This candidate leads with this fencing token.
    Leader {
        /// The key's create revision: greater for every new term.
        token: Revision,
    },
}

impl LeaderState {
    /// Whether the state says this candidate leads.
    pub fn is_leader(&self) -> bool {
        matches!(self, LeaderState::Leader { .. })
    }

    /// The fencing token, when leading.
    pub fn token(&self) -> Option<Revision> {
        match self {
            LeaderState::Leader { token } => Some(*token),
            LeaderState::Follower { .. } => None,
        }
    }
}

impl std::fmt::Display for LeaderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaderState::Leader { token } => write!(f, "leader (token {token})"),
            LeaderState::Follower {
                leader: Some(leader),
            } => write!(f, "follower of {leader}"),
            LeaderState::Follower { leader: None } => f.write_str("follower (no leader known)"),
        }
    }
}

/// One term of leadership of this candidate: its token, and the instant it
/// ends (or ended) on the local monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// The fencing token: the election key's create revision.
    pub token: Revision,
    /// The term is valid strictly before this instant. While leading it is
    /// the local deadline (moved on by each renewal); once the term is over
    /// it is the instant leadership stopped, never later than the deadline.
    pub until: Instant,
}

impl Term {
    /// Whether the term is still valid now.
    pub fn is_valid(&self) -> bool {
        Instant::now() < self.until
    }
}

/// The guard that holds only while `token`'s term holds the election `key`:
/// the key's create revision equals the token. A term ends the moment the
/// key is deleted, and a new term recreates it with a greater revision, so a
/// store write guarded by this cannot land after the term is over.
pub fn fencing_guard(key: impl Into<Bytes>, token: Revision) -> Compare {
    Compare::create_revision(key, CompareOp::Equal, token)
}

/// The term, shared between the elector (which starts, extends and ends
/// it) and every [`Leadership`] handle (which reads it).
#[derive(Debug, Default)]
pub(crate) struct Shared {
    term: Mutex<Option<Term>>,
}

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut Option<Term>) -> R) -> R {
        // A panic while holding this lock cannot leave a half-written
        // `Option<Term>` (it is `Copy`), so a poisoned lock is still sound.
        f(&mut self.term.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Starts a new term.
    pub(crate) fn begin(&self, term: Term) {
        self.with(|t| *t = Some(term));
    }

    /// Moves the deadline of `token`'s term to `until`, if that term is still
    /// valid; a term that lapsed stays over even if a late renewal succeeds
    /// (validity never comes back for a token). Returns whether it moved.
    pub(crate) fn extend(&self, token: Revision, until: Instant) -> bool {
        self.with(|t| match t {
            Some(term) if term.token == token && term.is_valid() => {
                term.until = term.until.max(until);
                true
            }
            _ => false,
        })
    }

    /// Ends `token`'s term now (or leaves it ended at its deadline if that
    /// already passed).
    pub(crate) fn end(&self, token: Revision) {
        let now = Instant::now();
        self.with(|t| {
            if let Some(term) = t.as_mut().filter(|term| term.token == token) {
                term.until = term.until.min(now);
            }
        });
    }

    /// The latest term, valid or not.
    pub(crate) fn last(&self) -> Option<Term> {
        self.with(|t| *t)
    }
}

/// A cheap, cloneable handle on one candidate's election, for the code that
/// acts under leadership.
#[derive(Debug, Clone)]
pub struct Leadership {
    key: Bytes,
    id: String,
    shared: Arc<Shared>,
    state: watch::Receiver<LeaderState>,
}

impl Leadership {
    pub(crate) fn new(
        key: Bytes,
        id: String,
        shared: Arc<Shared>,
        state: watch::Receiver<LeaderState>,
    ) -> Self {
        Leadership {
            key,
            id,
            shared,
            state,
        }
    }

    /// Whether this candidate may act as leader right now: it holds a term
    /// whose local deadline has not passed. Call it right before each act;
    /// it reads the monotonic clock, so it is right even just after the
    /// process resumed from a long stop, before the elector task has run.
    pub fn is_leader(&self) -> bool {
        self.current_term().is_some()
    }

    /// The current term's fencing token, if leading right now.
    pub fn token(&self) -> Option<Revision> {
        self.current_term().map(|t| t.token)
    }

    /// The current term, if leading right now.
    pub fn current_term(&self) -> Option<Term> {
        self.shared.last().filter(Term::is_valid)
    }

    /// The latest term this candidate held, current or over; for an ended
    /// term, [`Term::until`] is when it stopped leading.
    pub fn last_term(&self) -> Option<Term> {
        self.shared.last()
    }

    /// The fencing guard for the current term (see [`fencing_guard`]): add
    /// it to a store [`Txn`](ironclad_store::Txn) so the write happens only
    /// while this term still holds the key. Fails with
    /// [`Error::NotLeader`] when not leading. Work spanning several writes
    /// should take the guard once and reuse it, so every write is fenced by
    /// the same term.
    pub fn guard(&self) -> Result<Compare> {
        match self.token() {
            Some(token) => Ok(fencing_guard(self.key.clone(), token)),
            None => Err(Error::NotLeader {
                key: String::from_utf8_lossy(&self.key).into_owned(),
            }),
        }
    }

    /// The last published state.
    pub fn state(&self) -> LeaderState {
        self.state.borrow().clone()
    }

    /// A receiver of state changes. When the elector stops, the last value
    /// stays and `changed()` returns an error.
    pub fn subscribe(&self) -> watch::Receiver<LeaderState> {
        self.state.clone()
    }

    /// The election key.
    pub fn key(&self) -> &Bytes {
        &self.key
    }

    /// This candidate's ID.
    pub fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn handle() -> (Arc<Shared>, Leadership) {
        let shared = Arc::new(Shared::default());
        let (_tx, rx) = watch::channel(LeaderState::Follower { leader: None });
        (
            shared.clone(),
            Leadership::new(Bytes::from_static(b"/k"), "a".into(), shared, rx),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn valid_strictly_before_the_deadline() {
        let (shared, l) = handle();
        assert!(!l.is_leader());
        assert!(matches!(l.guard(), Err(Error::NotLeader { .. })));
        let start = Instant::now();
        shared.begin(Term {
            token: 7,
            until: start + Duration::from_millis(1500),
        });
        assert_eq!(l.token(), Some(7));
        assert_eq!(
            l.guard().unwrap(),
            Compare::create_revision("/k", CompareOp::Equal, 7)
        );
        tokio::time::advance(Duration::from_millis(1499)).await;
        assert!(l.is_leader());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(!l.is_leader());
        assert_eq!(l.last_term().unwrap().token, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lapsed_term_never_comes_back() {
        let (shared, l) = handle();
        let start = Instant::now();
        shared.begin(Term {
            token: 7,
            until: start + Duration::from_secs(1),
        });
        assert!(shared.extend(7, start + Duration::from_secs(2)));
        assert!(
            !shared.extend(8, start + Duration::from_secs(9)),
            "other token"
        );
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(!shared.extend(7, Instant::now() + Duration::from_secs(2)));
        assert!(!l.is_leader());
        assert_eq!(l.last_term().unwrap().until, start + Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn ending_a_term_stops_it_at_once() {
        let (shared, l) = handle();
        let start = Instant::now();
        shared.begin(Term {
            token: 3,
            until: start + Duration::from_secs(5),
        });
        tokio::time::advance(Duration::from_secs(1)).await;
        shared.end(3);
        assert!(!l.is_leader());
        assert_eq!(l.last_term().unwrap().until, start + Duration::from_secs(1));
    }
}

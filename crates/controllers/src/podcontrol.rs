//! What the controllers that own pods (and the Deployment controller, which
//! owns ReplicaSets) share, after upstream's `controller_utils.go`:
//! ownerReferences ([`controller_ref`], [`controller_of`]), adoption and
//! release by selector ([`claim`]), pods made from a template
//! ([`pod_from_template`]), which pods count and which to delete first
//! ([`pods`]), expectations of not-yet-observed writes
//! ([`Expectations`]), the watch plumbing that feeds a cache and tells
//! what changed ([`informer`]), the reconcile loop ([`runner`]) and Events
//! ([`EventSink`]).

pub mod apierr;
mod claim;
mod events;
mod expectations;
mod informer;
mod ownerref;
pub mod pods;
pub mod runner;
mod template;

pub use claim::{AdoptionCheck, claim};
pub use events::{EventSink, EventType};
pub use expectations::Expectations;
pub use informer::{Change, informer};
pub use ownerref::{OwnerInfo, controller_of, controller_ref, is_controlled_by};
pub use template::{create_pod, pod_from_template};

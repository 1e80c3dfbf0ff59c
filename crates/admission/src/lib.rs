//! Admission plugins as pure functions: the API server hands each plugin
//! the request, the new and old objects (as JSON, mutated in place) and the
//! objects the plugin needs; the plugin decides, with upstream Kubernetes'
//! rules and messages.
//!
//! - [`namespace_lifecycle`]: writes into missing or terminating
//!   namespaces, and deletes of the immortal ones.
//! - [`serviceaccount`]: pod service accounts, their token volume and pull
//!   secrets.
//! - [`limitranger`]: LimitRange defaults and min/max/ratio checks.
//! - [`quota`]: ResourceQuota usage (shared with the quota controller) and
//!   the admission check.
//! - [`noderestriction`]: what a kubelet may write.

pub mod error;
pub mod limitranger;
pub mod namespace_lifecycle;
pub mod noderestriction;
pub mod pod_resources;
pub mod podrefs;
pub mod quantity;
pub mod quota;
pub mod request;
pub mod serviceaccount;

mod json;

pub use error::{AdmissionError, Cause, Details};
pub use quantity::{Amount, ResourceList};
pub use request::{Operation, Request};

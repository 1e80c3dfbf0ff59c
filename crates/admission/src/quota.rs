//! ResourceQuota: what an object uses of each quota resource (upstream's
//! quota evaluators, shared by admission and the quota controller), which
//! objects a quota's scopes cover, and the admission check that charges a
//! request to the namespace's quotas.

pub mod check;
pub mod scopes;
pub mod usage;

pub use check::check;
pub use scopes::matches_scopes;
pub use usage::{matching_resources, object_count_name, usage, usage_at};

//! The four Kubernetes PATCH types, on objects held as `serde_json::Value`
//! in upstream's JSON shape, with no I/O:
//!
//! - [`json_patch`] (RFC 6902, `application/json-patch+json`),
//! - [`merge_patch`] (RFC 7386, `application/merge-patch+json`),
//! - [`strategic_merge_patch`] (`application/strategic-merge-patch+json`),
//!   driven by the generated schemas and the merge metadata of [`meta`],
//! - [`server_side_apply`] (`application/apply-patch+yaml`), which also
//!   maintains `metadata.managedFields`; every other write records its
//!   fields with [`record_update`].
//!
//! Every function is total on arbitrary input: malformed bodies, values of
//! the wrong shape and pathological nesting are errors, never panics.

pub mod apply;
mod error;
pub mod fieldpath;
mod json;
pub mod managed;
pub mod meta;
mod strategic;
mod ty;
mod typed;

pub use apply::{ApplyConflict, ApplyError, server_side_apply, server_side_apply_subresource};
pub use error::PatchError;
pub use json::{
    MAX_COPIED_BYTES, MAX_DEPTH, MAX_JSON_PATCH_OPERATIONS, json_patch, merge_patch, parse_json,
    parse_yaml,
};
pub use managed::record_update;
pub use meta::{FieldMeta, ListType, MapType, field_meta};
pub use strategic::strategic_merge_patch;

//! Who may talk to the API server and what they may do: the
//! authentication and authorization configuration, and the per-request
//! steps built on `ironclad_auth`'s evaluators.
//!
//! - `config`: [`AuthConfig`] and the authorization modes.
//! - `authn`: credentials (client certificate, bearer token) to a user.
//! - `authz`: the authorizer chain, fed from the watch caches (RBAC
//!   objects, pods for the Node authorizer).
//! - `attributes`: a request's authorization attributes, and the 403
//!   message upstream writes for a refusal.

pub mod attributes;
pub mod authn;
pub mod authz;
pub mod config;
pub mod impersonation;

pub use config::{AuthConfig, AuthzMode, ServiceAccountKeys};

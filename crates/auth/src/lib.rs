//! Authentication and authorization for the API server, as pure
//! evaluators: they decide from a request's attributes and the data they
//! are handed (roles, bindings, pods on a node, keys), and never do I/O of
//! their own. The API server feeds them from its store.
//!
//! - [`user`]: who a request is ([`UserInfo`]), and the well-known names.
//! - [`attributes`]: what a request does ([`Attributes`]).
//! - [`authn`]: authenticators that turn credentials into a [`UserInfo`].
//! - [`authz`]: authorizers that turn [`Attributes`] into a [`Decision`].

pub mod attributes;
pub mod authn;
pub mod authz;
pub mod user;

pub use attributes::Attributes;
pub use authz::{Authorizer, Decision};
pub use user::UserInfo;

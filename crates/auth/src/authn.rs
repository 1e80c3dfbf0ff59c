//! Authenticators: each turns one kind of credential into a
//! [`UserInfo`](crate::UserInfo).
//!
//! - [`x509`]: a client certificate the TLS layer has verified against the
//!   cluster CA (CN = user, O = groups).
//! - [`tokenfile`]: upstream's static token file (CSV).
//! - [`bootstrap`]: bootstrap (join) tokens kept as Secrets in kube-system.
//! - [`serviceaccount`]: service-account JWTs, legacy and bound.

pub mod bootstrap;
pub mod serviceaccount;
pub mod tokenfile;
pub mod x509;

//! Authenticators: each turns one kind of credential into a
//! [`UserInfo`](crate::UserInfo).
//!
//! - [`x509`]: a client certificate, verified against the cluster's client
//!   CA here (the TLS layer accepts any certificate whose handshake
//!   signature is valid), CN = user, O = groups.
//! - [`tokenfile`]: upstream's static token file (CSV).
//! - [`bootstrap`]: bootstrap (join) tokens kept as Secrets in kube-system.
//! - [`serviceaccount`]: service-account JWTs, legacy and bound.
//! - [`extra`]: the keys of `UserInfo::extra` they fill.
//!
//! Every authenticator is a pure function of the credential, the data the
//! API server hands it and the time; none does I/O.

pub mod bootstrap;
pub mod extra;
pub mod serviceaccount;
mod timefmt;
pub mod tokenfile;
pub mod x509;

//! The keys of [`UserInfo::extra`](crate::UserInfo::extra) that the
//! authenticators fill, as upstream names them.

/// The credential a request authenticated with: `X509SHA256=<hex>` for a
/// client certificate, `JTI=<jti>` for a service-account token.
pub const CREDENTIAL_ID: &str = "authentication.kubernetes.io/credential-id";
/// The pod a service-account token is bound to.
pub const POD_NAME: &str = "authentication.kubernetes.io/pod-name";
/// The uid of the pod a service-account token is bound to.
pub const POD_UID: &str = "authentication.kubernetes.io/pod-uid";
/// The node of the pod (or the node itself) a service-account token is
/// bound to.
pub const NODE_NAME: &str = "authentication.kubernetes.io/node-name";
/// The uid of that node.
pub const NODE_UID: &str = "authentication.kubernetes.io/node-uid";

//! Telling API errors apart, as upstream's `apierrors.IsNotFound` and
//! friends do.

use kube::Error;

fn status(err: &Error) -> Option<&kube::core::Status> {
    match err {
        Error::Api(s) => Some(s),
        _ => None,
    }
}

/// 404: the object is not there.
pub fn is_not_found(err: &Error) -> bool {
    status(err).is_some_and(|s| s.is_not_found())
}

/// 409 Conflict: a stale resourceVersion (or another precondition).
pub fn is_conflict(err: &Error) -> bool {
    status(err).is_some_and(|s| s.is_conflict() && s.reason != "AlreadyExists")
}

/// 409 AlreadyExists.
pub fn is_already_exists(err: &Error) -> bool {
    status(err).is_some_and(|s| s.reason == "AlreadyExists")
}

/// 422 Invalid.
pub fn is_invalid(err: &Error) -> bool {
    status(err).is_some_and(|s| s.code == 422 || s.reason == "Invalid")
}

/// A create refused because the namespace is terminating (upstream's
/// `HasStatusCause(err, NamespaceTerminatingCause)`).
pub fn namespace_terminating(err: &Error) -> bool {
    status(err)
        .and_then(|s| s.details.as_ref())
        .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
}

/// The server's message for an API error (what upstream prints with
/// `%v`), else the error itself.
pub fn message(err: &Error) -> String {
    match status(err) {
        Some(s) if !s.message.is_empty() => s.message.clone(),
        _ => err.to_string(),
    }
}

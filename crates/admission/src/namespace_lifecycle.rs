//! NamespaceLifecycle (upstream's `namespace/lifecycle` plugin): nothing
//! is created in a namespace that is being deleted, nothing is written to
//! a namespace that does not exist, and the immortal namespaces are not
//! deleted.

use serde_json::Value;

use crate::error::AdmissionError;
use crate::request::{Operation, Request};

/// The namespaces that may never be deleted.
pub const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// The cause type of a create refused in a terminating namespace
/// (`v1.NamespaceTerminatingCause`).
pub const NAMESPACE_TERMINATING_CAUSE: &str = "NamespaceTerminating";

/// What the API server knows of the request's namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceState {
    /// There is no such namespace.
    Missing,
    /// It exists and is active.
    Active,
    /// It is being deleted (`status.phase: Terminating`).
    Terminating,
}

/// Whether `req` may proceed given the state of its namespace. `obj` is the
/// new object (for the name in messages on creates); `namespace_state` is
/// only read for namespaced requests.
///
/// Upstream's rules, in order: deleting `default`, `kube-system` or
/// `kube-public` is forbidden; cluster-scoped requests and requests on
/// namespaces themselves pass; deletes pass; local subject access reviews
/// pass (a "not found" would reveal which namespaces exist); connects pass
/// (upstream's plugin handles only creates, updates and deletes); then a
/// missing namespace is `404 namespaces "<ns>" not found` and a create in a
/// terminating one is forbidden with a `NamespaceTerminating` cause.
pub fn check(
    req: &Request,
    namespace_state: NamespaceState,
    obj: Option<&Value>,
) -> Result<(), AdmissionError> {
    let is_namespace = req.is("", "namespaces");
    if req.operation == Operation::Delete
        && is_namespace
        && IMMORTAL_NAMESPACES.contains(&req.name.as_str())
    {
        return Err(AdmissionError::forbidden(
            &req.group,
            &req.resource,
            &req.name,
            "this namespace may not be deleted",
        ));
    }
    if req.namespace.is_empty() || is_namespace {
        return Ok(());
    }
    if matches!(req.operation, Operation::Delete | Operation::Connect) {
        return Ok(());
    }
    if req.is("authorization.k8s.io", "localsubjectaccessreviews") {
        return Ok(());
    }
    match namespace_state {
        NamespaceState::Missing => Err(AdmissionError::not_found("", "namespaces", &req.namespace)),
        NamespaceState::Terminating if req.operation == Operation::Create => {
            let ns = &req.namespace;
            Err(req
                .forbidden(
                    obj,
                    format!(
                        "unable to create new content in namespace {ns} because it is being terminated"
                    ),
                )
                .with_cause(
                    "metadata.namespace",
                    &format!("namespace {ns} is being terminated"),
                    NAMESPACE_TERMINATING_CAUSE,
                ))
        }
        NamespaceState::Terminating | NamespaceState::Active => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(op: Operation, group: &str, resource: &str, ns: &str, name: &str) -> Request {
        let mut r = Request::new(op, group, resource);
        r.namespace = ns.into();
        r.name = name.into();
        r
    }

    #[test]
    fn table() {
        use NamespaceState::*;
        use Operation::*;
        // (request, state, expected code or None)
        let cases: Vec<(Request, NamespaceState, Option<u16>)> = vec![
            (req(Create, "", "pods", "ns", "p"), Active, None),
            (req(Create, "", "pods", "ns", "p"), Missing, Some(404)),
            (req(Update, "", "pods", "ns", "p"), Missing, Some(404)),
            (req(Create, "", "pods", "ns", "p"), Terminating, Some(403)),
            (req(Update, "", "pods", "ns", "p"), Terminating, None),
            (req(Delete, "", "pods", "ns", "p"), Missing, None),
            (req(Delete, "", "pods", "ns", "p"), Terminating, None),
            (req(Connect, "", "pods", "ns", "p"), Missing, None),
            (req(Create, "", "nodes", "", "n"), Missing, None),
            (req(Create, "", "namespaces", "", "ns"), Missing, None),
            (req(Delete, "", "namespaces", "", "ns"), Active, None),
            (
                req(Delete, "", "namespaces", "", "default"),
                Active,
                Some(403),
            ),
            (
                req(Delete, "", "namespaces", "", "kube-system"),
                Active,
                Some(403),
            ),
            (
                req(Delete, "", "namespaces", "", "kube-public"),
                Active,
                Some(403),
            ),
            (req(Update, "", "namespaces", "", "default"), Active, None),
            (
                req(
                    Create,
                    "authorization.k8s.io",
                    "localsubjectaccessreviews",
                    "gone",
                    "",
                ),
                Missing,
                None,
            ),
            (
                req(Create, "apps", "deployments", "gone", "d"),
                Missing,
                Some(404),
            ),
            (req(Create, "", "events", "ns", "e"), Terminating, Some(403)),
        ];
        for (r, state, want) in cases {
            let got = check(&r, state, None).err().map(|e| e.code);
            assert_eq!(got, want, "{:?} {} in {state:?}", r.operation, r.resource);
        }
    }

    #[test]
    fn messages() {
        let e = check(
            &req(Operation::Create, "", "pods", "gone", "p"),
            NamespaceState::Missing,
            None,
        )
        .unwrap_err();
        assert_eq!(e.message, r#"namespaces "gone" not found"#);
        assert_eq!(
            (e.details.kind.as_str(), e.details.name.as_str()),
            ("namespaces", "gone")
        );

        let e = check(
            &req(Operation::Delete, "", "namespaces", "", "default"),
            NamespaceState::Active,
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            r#"namespaces "default" is forbidden: this namespace may not be deleted"#
        );

        let pod = json!({"metadata": {"generateName": "web-"}});
        let e = check(
            &req(Operation::Create, "", "pods", "ns", ""),
            NamespaceState::Terminating,
            Some(&pod),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            r#"pods "web-" is forbidden: unable to create new content in namespace ns because it is being terminated"#
        );
        assert_eq!(e.causes.len(), 1);
        assert_eq!(e.causes[0].reason_type, NAMESPACE_TERMINATING_CAUSE);
        assert_eq!(e.causes[0].field, "metadata.namespace");
        assert_eq!(e.causes[0].message, "namespace ns is being terminated");

        // A non-object body still gets a message.
        let e = check(
            &req(Operation::Create, "apps", "deployments", "ns", ""),
            NamespaceState::Terminating,
            Some(&json!("garbage")),
        )
        .unwrap_err();
        assert!(
            e.message
                .starts_with(r#"deployments.apps "Unknown" is forbidden"#)
        );
    }
}

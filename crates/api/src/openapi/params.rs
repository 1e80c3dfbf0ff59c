//! The parameters of the OpenAPI operations, inline as upstream writes them
//! in its v3 documents (`{"in": "query", "name": ..., "schema": ...}`).
//! kubectl looks for `fieldValidation` among a PATCH operation's parameters
//! to decide whether the server validates fields itself.

use serde_json::{Value, json};

/// A parameter's schema type.
#[derive(Clone, Copy)]
pub(super) enum Type {
    String,
    Boolean,
    Integer,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::Integer => "integer",
        }
    }
}

fn param(location: &str, name: &str, ty: Type, description: &str) -> Value {
    let mut p = json!({
        "in": location,
        "name": name,
        "schema": {"type": ty.name(), "uniqueItems": true},
    });
    if !description.is_empty() {
        p["description"] = Value::from(description);
    }
    if location == "path" {
        p["required"] = Value::Bool(true);
    }
    p
}

/// A query parameter.
pub(super) fn query(name: &str, ty: Type, description: &str) -> Value {
    param("query", name, ty, description)
}

/// The `{name}` path parameter of an item path.
pub(super) fn name(kind: &str) -> Value {
    param("path", "name", Type::String, &format!("name of the {kind}"))
}

/// The `{namespace}` path parameter.
pub(super) fn namespace() -> Value {
    param(
        "path",
        "namespace",
        Type::String,
        "object name and auth scope, such as for teams and projects",
    )
}

/// `pretty`, on every path.
pub(super) fn pretty() -> Value {
    query(
        "pretty",
        Type::String,
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
    )
}

fn dry_run() -> Value {
    query(
        "dryRun",
        Type::String,
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    )
}

const FIELD_MANAGER: &str = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.";

fn field_validation() -> Value {
    query(
        "fieldValidation",
        Type::String,
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
    )
}

/// The parameters of POST and PUT.
pub(super) fn write() -> Vec<Value> {
    vec![
        dry_run(),
        query("fieldManager", Type::String, FIELD_MANAGER),
        field_validation(),
    ]
}

/// The parameters of PATCH: those of a write plus `force`.
pub(super) fn patch() -> Vec<Value> {
    vec![
        dry_run(),
        query(
            "fieldManager",
            Type::String,
            &format!(
                "{FIELD_MANAGER} This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch)."
            ),
        ),
        field_validation(),
        query(
            "force",
            Type::Boolean,
            "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
        ),
    ]
}

/// The parameters of deleting one object.
pub(super) fn delete() -> Vec<Value> {
    vec![
        dry_run(),
        query(
            "gracePeriodSeconds",
            Type::Integer,
            "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
        ),
        query(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            Type::Boolean,
            "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. The default value is false, and the user must opt in to enable it",
        ),
        query(
            "orphanDependents",
            Type::Boolean,
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
        ),
        query(
            "propagationPolicy",
            Type::String,
            "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
        ),
    ]
}

/// The parameters of a list or watch.
pub(super) fn list() -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            Type::Boolean,
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
        ),
        query(
            "continue",
            Type::String,
            "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token.",
        ),
        query(
            "fieldSelector",
            Type::String,
            "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        ),
        query(
            "labelSelector",
            Type::String,
            "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        ),
        query(
            "limit",
            Type::Integer,
            "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.",
        ),
        query(
            "resourceVersion",
            Type::String,
            "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
        ),
        query(
            "resourceVersionMatch",
            Type::String,
            "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
        ),
        query(
            "sendInitialEvents",
            Type::Boolean,
            "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event will be sent.",
        ),
        query(
            "timeoutSeconds",
            Type::Integer,
            "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
        ),
        query(
            "watch",
            Type::Boolean,
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
        ),
    ]
}

/// The parameters of deleting a collection: list selection plus delete
/// options (without `watch` and `allowWatchBookmarks`).
pub(super) fn delete_collection() -> Vec<Value> {
    let mut out: Vec<Value> = list()
        .into_iter()
        .filter(|p| !matches!(p["name"].as_str(), Some("watch" | "allowWatchBookmarks")))
        .collect();
    out.extend(delete());
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    out
}

/// The parameters of a subresource that is not a plain read or write:
/// `log`, `exec`, `attach`, `portforward`.
pub(super) fn connect(subresource: &str) -> Vec<Value> {
    let container = |what: &str| query("container", Type::String, what);
    let streams = || {
        vec![
            query(
                "stderr",
                Type::Boolean,
                "Redirect the standard error stream of the pod for this call.",
            ),
            query(
                "stdin",
                Type::Boolean,
                "Redirect the standard input stream of the pod for this call. Defaults to false.",
            ),
            query(
                "stdout",
                Type::Boolean,
                "Redirect the standard output stream of the pod for this call.",
            ),
            query(
                "tty",
                Type::Boolean,
                "TTY if true indicates that a tty will be allocated for the exec call. Defaults to false.",
            ),
        ]
    };
    match subresource {
        "log" => vec![
            container(
                "The container for which to stream logs. Defaults to only container if there is one container in the pod.",
            ),
            query(
                "follow",
                Type::Boolean,
                "Follow the log stream of the pod. Defaults to false.",
            ),
            query(
                "insecureSkipTLSVerifyBackend",
                Type::Boolean,
                "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.",
            ),
            query(
                "limitBytes",
                Type::Integer,
                "If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.",
            ),
            query(
                "previous",
                Type::Boolean,
                "Return previous terminated container logs. Defaults to false.",
            ),
            query(
                "sinceSeconds",
                Type::Integer,
                "A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.",
            ),
            query(
                "stream",
                Type::String,
                "Specify which container log stream to return to the client. Acceptable values are \"All\", \"Stdout\" and \"Stderr\". If not specified, \"All\" is used, and both stdout and stderr are returned interleaved.",
            ),
            query(
                "tailLines",
                Type::Integer,
                "If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime. Note that when \"TailLines\" is specified, \"Stream\" can only be set to nil or \"All\".",
            ),
            query(
                "timestamps",
                Type::Boolean,
                "If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.",
            ),
        ],
        "exec" => {
            let mut out = vec![
                query(
                    "command",
                    Type::String,
                    "Command is the remote command to execute. argv array. Not executed within a shell.",
                ),
                container(
                    "Container in which to execute the command. Defaults to only container if there is only one container in the pod.",
                ),
            ];
            out.extend(streams());
            out
        }
        "attach" => {
            let mut out = vec![container(
                "The container in which to execute the command. Defaults to only container if there is only one container in the pod.",
            )];
            out.extend(streams());
            out
        }
        "portforward" => vec![query(
            "ports",
            Type::Integer,
            "List of ports to forward Required when using WebSockets",
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_patches_carry_field_validation() {
        for params in [write(), patch()] {
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
            );
        }
        assert!(patch().iter().any(|p| p["name"] == "force"));
        assert_eq!(namespace()["required"], true);
        let dc = delete_collection();
        assert!(dc.iter().any(|p| p["name"] == "labelSelector"));
        assert!(!dc.iter().any(|p| p["name"] == "watch"));
    }
}

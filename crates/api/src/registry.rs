//! The resource registry: every kind the API server serves, with the names,
//! scope, verbs and subresources that discovery, routing, printing and
//! validation all read from one place.

/// Every verb a stored resource answers.
pub const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Verbs of a resource that can only be created (reviews, bindings).
pub const CREATE_ONLY: &[&str] = &["create"];
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];

/// Where a resource's objects live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Objects are stored and can be read back.
    Stored,
    /// A request/response resource that is computed and never stored
    /// (SelfSubjectAccessReview, SelfSubjectReview, ...).
    Virtual,
}

/// A subresource such as `pods/status` or `deployments/scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    /// The name after the slash: `status`, `scale`, `log`, ...
    pub name: &'static str,
    /// Group of the kind the subresource speaks ("" for core).
    pub group: &'static str,
    /// Version of that kind.
    pub version: &'static str,
    /// The kind the subresource reads and writes (`Scale` for `scale`).
    pub kind: &'static str,
    /// Verbs it answers.
    pub verbs: &'static [&'static str],
}

/// One resource of one group/version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, "" for the core group.
    pub group: &'static str,
    /// Version, e.g. `v1`.
    pub version: &'static str,
    /// Kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// Plural resource name used in URLs, e.g. `deployments`.
    pub plural: &'static str,
    /// Singular name, e.g. `deployment`.
    pub singular: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names kubectl resolves (`deploy`).
    pub short_names: &'static [&'static str],
    /// Categories (`all`).
    pub categories: &'static [&'static str],
    /// Verbs of the main resource.
    pub verbs: &'static [&'static str],
    /// Subresources.
    pub subresources: &'static [Subresource],
    /// Stored, or computed per request.
    pub storage: Storage,
}

impl ResourceInfo {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The kind of a list of these objects (`DeploymentList`).
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// The subresource called `name`, if the resource has it.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether the resource answers `verb`.
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// The URL path of the collection: `/api/v1/namespaces/NS/pods` or
    /// `/apis/apps/v1/deployments` (no namespace, or cluster-scoped).
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let root = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{root}/namespaces/{ns}/{}", self.plural),
            _ => format!("{root}/{}", self.plural),
        }
    }
}

const fn sub(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Subresource {
    Subresource {
        name,
        group,
        version,
        kind,
        verbs,
    }
}

/// Builds a stored resource with the full set of verbs.
#[allow(clippy::too_many_arguments)]
const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [Subresource],
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names,
        categories,
        verbs: CRUD,
        subresources,
        storage: Storage::Stored,
    }
}

/// Builds a create-only resource that is never stored.
const fn review(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo {
        group,
        version: "v1",
        kind,
        plural,
        singular,
        namespaced,
        short_names: &[],
        categories: &[],
        verbs: CREATE_ONLY,
        subresources: &[],
        storage: Storage::Virtual,
    }
}

const ALL: &[&str] = &["all"];

/// Every resource the API server serves, in discovery order within a group.
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    ResourceInfo {
        version: "v1",
        ..review("", "Binding", "bindings", "binding", true)
    },
    res(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        true,
        &["cm"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        true,
        &["ep"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "Event",
        "events",
        "event",
        true,
        &["ev"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "LimitRange",
        "limitranges",
        "limitrange",
        true,
        &["limits"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        false,
        &["ns"],
        &[],
        &[
            sub("finalize", "", "v1", "Namespace", &["update"]),
            sub("status", "", "v1", "Namespace", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "",
        "v1",
        "Node",
        "nodes",
        "node",
        false,
        &["no"],
        &[],
        &[sub("status", "", "v1", "Node", GET_PATCH_UPDATE)],
    ),
    res(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        true,
        &["po"],
        ALL,
        &[
            sub("attach", "", "v1", "PodAttachOptions", &["create", "get"]),
            sub("binding", "", "v1", "Binding", CREATE_ONLY),
            sub("eviction", "policy", "v1", "Eviction", CREATE_ONLY),
            sub("exec", "", "v1", "PodExecOptions", &["create", "get"]),
            sub("log", "", "v1", "Pod", &["get"]),
            sub(
                "portforward",
                "",
                "v1",
                "PodPortForwardOptions",
                &["create", "get"],
            ),
            sub("status", "", "v1", "Pod", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "",
        "v1",
        "PodTemplate",
        "podtemplates",
        "podtemplate",
        true,
        &[],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        "replicationcontroller",
        true,
        &["rc"],
        ALL,
        &[
            sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE),
            sub(
                "status",
                "",
                "v1",
                "ReplicationController",
                GET_PATCH_UPDATE,
            ),
        ],
    ),
    res(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        "resourcequota",
        true,
        &["quota"],
        &[],
        &[sub("status", "", "v1", "ResourceQuota", GET_PATCH_UPDATE)],
    ),
    res("", "v1", "Secret", "secrets", "secret", true, &[], &[], &[]),
    res(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        true,
        &["sa"],
        &[],
        &[sub(
            "token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            CREATE_ONLY,
        )],
    ),
    res(
        "",
        "v1",
        "Service",
        "services",
        "service",
        true,
        &["svc"],
        ALL,
        &[sub("status", "", "v1", "Service", GET_PATCH_UPDATE)],
    ),
    // apiregistration.k8s.io/v1: stored registrations of aggregated (or
    // local) API versions; requests are never proxied anywhere.
    res(
        "apiregistration.k8s.io",
        "v1",
        "APIService",
        "apiservices",
        "apiservice",
        false,
        &[],
        &["api-extensions"],
        &[sub(
            "status",
            "apiregistration.k8s.io",
            "v1",
            "APIService",
            GET_PATCH_UPDATE,
        )],
    ),
    // apps/v1
    res(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
        true,
        &[],
        &[],
        &[],
    ),
    res(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        true,
        &["ds"],
        ALL,
        &[sub("status", "apps", "v1", "DaemonSet", GET_PATCH_UPDATE)],
    ),
    res(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        true,
        &["deploy"],
        ALL,
        &[
            sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE),
            sub("status", "apps", "v1", "Deployment", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        true,
        &["rs"],
        ALL,
        &[
            sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE),
            sub("status", "apps", "v1", "ReplicaSet", GET_PATCH_UPDATE),
        ],
    ),
    res(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        true,
        &["sts"],
        ALL,
        &[
            sub("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE),
            sub("status", "apps", "v1", "StatefulSet", GET_PATCH_UPDATE),
        ],
    ),
    // batch/v1
    res(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        true,
        &["cj"],
        ALL,
        &[sub("status", "batch", "v1", "CronJob", GET_PATCH_UPDATE)],
    ),
    res(
        "batch",
        "v1",
        "Job",
        "jobs",
        "job",
        true,
        &[],
        ALL,
        &[sub("status", "batch", "v1", "Job", GET_PATCH_UPDATE)],
    ),
    // certificates.k8s.io/v1: `approval` writes only the Approved/Denied
    // conditions, `status` only the certificate and other conditions.
    res(
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        "certificatesigningrequest",
        false,
        &["csr"],
        &[],
        &[
            sub(
                "approval",
                "certificates.k8s.io",
                "v1",
                "CertificateSigningRequest",
                GET_PATCH_UPDATE,
            ),
            sub(
                "status",
                "certificates.k8s.io",
                "v1",
                "CertificateSigningRequest",
                GET_PATCH_UPDATE,
            ),
        ],
    ),
    // coordination.k8s.io/v1
    res(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        true,
        &[],
        &[],
        &[],
    ),
    // discovery.k8s.io/v1
    res(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        true,
        &[],
        &[],
        &[],
    ),
    // events.k8s.io/v1 shares storage with core/v1 events.
    res(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        "event",
        true,
        &["ev"],
        &[],
        &[],
    ),
    // networking.k8s.io/v1
    res(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        "ingress",
        true,
        &["ing"],
        &[],
        &[sub(
            "status",
            "networking.k8s.io",
            "v1",
            "Ingress",
            GET_PATCH_UPDATE,
        )],
    ),
    // rbac.authorization.k8s.io/v1
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        false,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        true,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        true,
        &[],
        &[],
        &[],
    ),
    // authentication.k8s.io/v1 and authorization.k8s.io/v1: computed reviews.
    review(
        "authentication.k8s.io",
        "SelfSubjectReview",
        "selfsubjectreviews",
        "selfsubjectreview",
        false,
    ),
    review(
        "authentication.k8s.io",
        "TokenReview",
        "tokenreviews",
        "tokenreview",
        false,
    ),
    review(
        "authorization.k8s.io",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        true,
    ),
    review(
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        false,
    ),
    review(
        "authorization.k8s.io",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        false,
    ),
    review(
        "authorization.k8s.io",
        "SubjectAccessReview",
        "subjectaccessreviews",
        "subjectaccessreview",
        false,
    ),
];

/// The groups in discovery order, each with its versions (newest first).
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in RESOURCES {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version);
                }
            }
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}

/// The resources of one group/version.
pub fn resources_of(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceInfo> {
    let (group, version) = (group.to_string(), version.to_string());
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// Looks a resource up by group, version and plural name.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Looks a resource up by `apiVersion` and `kind`, as a request body names it.
pub fn lookup_kind(api_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The storage prefix of a resource's objects. Resources that upstream
/// stores together (core and events.k8s.io events) share one prefix, so
/// both APIs see the same objects.
pub fn storage_resource(info: &ResourceInfo) -> (&'static str, &'static str) {
    match (info.group, info.plural) {
        ("events.k8s.io", "events") => ("", "events"),
        (g, p) => (g, p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_group_version() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "{} twice",
                    a.plural
                );
            }
        }
    }

    #[test]
    fn lookups_find_what_kubectl_names() {
        let d = lookup("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert_eq!(d.api_version(), "apps/v1");
        assert_eq!(d.subresource("scale").unwrap().kind, "Scale");
        assert_eq!(lookup_kind("v1", "Pod").unwrap().plural, "pods");
        assert_eq!(
            d.collection_path(Some("ns1")),
            "/apis/apps/v1/namespaces/ns1/deployments"
        );
        assert_eq!(
            lookup("", "v1", "nodes")
                .unwrap()
                .collection_path(Some("x")),
            "/api/v1/nodes"
        );
        assert!(groups().iter().any(|(g, v)| *g == "batch" && v == &["v1"]));
    }

    #[test]
    fn daemon_sets_stateful_sets_and_api_services() {
        let ds = lookup("apps", "v1", "daemonsets").unwrap();
        assert_eq!(
            (ds.kind, ds.short_names, ds.categories),
            ("DaemonSet", &["ds"][..], ALL)
        );
        assert!(ds.subresource("status").is_some() && ds.subresource("scale").is_none());
        let sts = lookup_kind("apps/v1", "StatefulSet").unwrap();
        assert_eq!(sts.short_names, ["sts"]);
        assert_eq!(sts.subresource("scale").unwrap().group, "autoscaling");
        let a = lookup_kind("apiregistration.k8s.io/v1", "APIService").unwrap();
        assert!(!a.namespaced && a.has_verb("deletecollection"));
        assert_eq!(a.categories, ["api-extensions"]);
        assert_eq!(
            a.collection_path(Some("x")),
            "/apis/apiregistration.k8s.io/v1/apiservices"
        );
        assert!(groups().iter().any(|(g, _)| *g == "apiregistration.k8s.io"));
    }

    #[test]
    fn certificate_signing_requests_have_approval_and_status() {
        let csr = lookup("certificates.k8s.io", "v1", "certificatesigningrequests").unwrap();
        assert_eq!(
            (csr.kind, csr.short_names, csr.namespaced),
            ("CertificateSigningRequest", &["csr"][..], false)
        );
        for name in ["approval", "status"] {
            let s = csr.subresource(name).unwrap();
            assert_eq!(
                (s.kind, s.verbs),
                ("CertificateSigningRequest", GET_PATCH_UPDATE)
            );
        }
        assert_eq!(
            csr.collection_path(None),
            "/apis/certificates.k8s.io/v1/certificatesigningrequests"
        );
    }
}

//! The Node authorizer over a graph fed real Pods and PersistentVolumes.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use k8s_openapi::api::core::v1::{
    CSIPersistentVolumeSource, CephFSPersistentVolumeSource, Container, EnvFromSource, EnvVar,
    EnvVarSource, EphemeralContainer, EphemeralVolumeSource, LocalObjectReference, ObjectReference,
    PersistentVolume, PersistentVolumeClaimVolumeSource, PersistentVolumeSpec, Pod,
    PodResourceClaim, PodResourceClaimStatus, PodSpec, PodStatus, ProjectedVolumeSource,
    SecretEnvSource, SecretKeySelector, SecretReference, SecretVolumeSource, Volume,
    VolumeProjection,
};
use k8s_openapi::api::storage::v1::{VolumeAttachment, VolumeAttachmentSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use super::*;
use crate::attributes::Attributes;
use crate::authz::{Authorizer, Decision, RuleResolver};
use crate::user::{NODES, UserInfo};

fn pod_from(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).unwrap()
}

/// A pod in `ns` bound to `node` using secret `s-<name>` (volume), config
/// map `cm-<name>` (env) and claim `pvc-<name>`, as service account
/// `sa-<name>`.
fn pod(ns: &str, name: &str, node: Option<&str>) -> Pod {
    pod_from(json!({
        "metadata": {"namespace": ns, "name": name},
        "spec": {
            "nodeName": node,
            "serviceAccountName": format!("sa-{name}"),
            "containers": [{"name": "c", "env": [
                {"name": "A", "valueFrom": {"configMapKeyRef": {"name": format!("cm-{name}"), "key": "k"}}}
            ]}],
            "volumes": [
                {"name": "s", "secret": {"secretName": format!("s-{name}")}},
                {"name": "d", "persistentVolumeClaim": {"claimName": format!("pvc-{name}")}}
            ]
        }
    }))
}

fn node_user(node: &str) -> UserInfo {
    UserInfo::authenticated(format!("system:node:{node}"), &[NODES])
}

fn req(
    user: &UserInfo,
    verb: &str,
    group: &str,
    resource: &str,
    ns: &str,
    name: &str,
) -> Attributes {
    Attributes::resource(user.clone(), verb, group, resource, ns, name)
}

fn sub(mut a: Attributes, subresource: &str) -> Attributes {
    a.subresource = subresource.into();
    a
}

fn setup() -> (Arc<RwLock<NodeGraph>>, NodeAuthorizer) {
    let graph = Arc::new(RwLock::new(NodeGraph::new()));
    let authorizer = NodeAuthorizer::new(graph.clone());
    (graph, authorizer)
}

fn no_relationship(node: &str) -> Decision {
    Decision::NoOpinion(format!(
        "no relationship found between node '{node}' and this object"
    ))
}

fn allowed() -> Decision {
    Decision::Allow(String::new())
}

#[test]
fn pod_references_cover_every_place_a_pod_names_an_object() {
    let p = pod_from(json!({
        "metadata": {"namespace": "ns", "name": "web"},
        "spec": {
            "nodeName": "n1",
            "serviceAccountName": "builder",
            "imagePullSecrets": [{"name": "pull"}, {"name": ""}],
            "initContainers": [{"name": "init", "envFrom": [{"secretRef": {"name": "init-env"}}]}],
            "containers": [{"name": "c",
                "env": [
                    {"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}},
                    {"name": "C", "value": "plain"},
                    {"name": "D", "valueFrom": {"secretKeyRef": {"name": "pull", "key": "k"}}}
                ],
                "envFrom": [{"configMapRef": {"name": "envfrom-cm"}}]}],
            "ephemeralContainers": [{"name": "debug", "env": [
                {"name": "E", "valueFrom": {"secretKeyRef": {"name": "debug-secret", "key": "k"}}}]}],
            "volumes": [
                {"name": "a", "secret": {"secretName": "vol-secret"}},
                {"name": "b", "configMap": {"name": "vol-cm"}},
                {"name": "c", "projected": {"sources": [
                    {"secret": {"name": "proj-secret"}},
                    {"configMap": {"name": "proj-cm"}},
                    {"serviceAccountToken": {"path": "token"}}]}},
                {"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                {"name": "f", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "csi-secret"}}},
                {"name": "g", "azureFile": {"secretName": "azure", "shareName": "s"}},
                {"name": "h", "rbd": {"monitors": ["m"], "image": "i", "secretRef": {"name": "rbd"}}},
                {"name": "i", "emptyDir": {}}
            ],
            "resourceClaims": [
                {"name": "gpu", "resourceClaimName": "shared-gpu"},
                {"name": "tpl", "resourceClaimTemplateName": "t"},
                {"name": "pending", "resourceClaimTemplateName": "t"}
            ]
        },
        "status": {"resourceClaimStatuses": [{"name": "tpl", "resourceClaimName": "web-tpl-abc"}]}
    }));
    let refs = PodReferences::of(&p);
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        refs.secrets,
        names(&[
            "pull",
            "init-env",
            "env-secret",
            "debug-secret",
            "vol-secret",
            "proj-secret",
            "csi-secret",
            "azure",
            "rbd"
        ])
    );
    assert_eq!(
        refs.config_maps,
        names(&["env-cm", "envfrom-cm", "vol-cm", "proj-cm"])
    );
    assert_eq!(refs.claims, names(&["data", "web-scratch"]));
    assert_eq!(refs.resource_claims, names(&["shared-gpu", "web-tpl-abc"]));
    assert_eq!(refs.service_account.as_deref(), Some("builder"));

    // A mirror pod refers to nothing.
    let mut mirror = p.clone();
    mirror.metadata.annotations = Some(BTreeMap::from([(
        MIRROR_POD_ANNOTATION.to_string(),
        "x".to_string(),
    )]));
    assert_eq!(PodReferences::of(&mirror), PodReferences::default());
}

#[test]
fn typed_pods_are_read_too() {
    // The same references built as typed objects, as the API server holds them.
    let p = Pod {
        metadata: ObjectMeta {
            namespace: Some("ns".into()),
            name: Some("typed".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            node_name: Some("n1".into()),
            image_pull_secrets: Some(vec![LocalObjectReference {
                name: "pull".into(),
            }]),
            containers: vec![Container {
                name: "c".into(),
                env: Some(vec![EnvVar {
                    name: "A".into(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: "env".into(),
                            key: "k".into(),
                            optional: None,
                        }),
                        ..Default::default()
                    }),
                    value: None,
                }]),
                ..Default::default()
            }],
            ephemeral_containers: Some(vec![EphemeralContainer {
                name: "debug".into(),
                env_from: Some(vec![EnvFromSource {
                    secret_ref: Some(SecretEnvSource {
                        name: "debug".into(),
                        optional: None,
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }]),
            volumes: Some(vec![
                Volume {
                    name: "v".into(),
                    secret: Some(SecretVolumeSource {
                        secret_name: Some("vol".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                Volume {
                    name: "p".into(),
                    projected: Some(ProjectedVolumeSource {
                        sources: Some(vec![VolumeProjection::default()]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                Volume {
                    name: "e".into(),
                    ephemeral: Some(EphemeralVolumeSource::default()),
                    ..Default::default()
                },
                Volume {
                    name: "c".into(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: "claim".into(),
                        read_only: None,
                    }),
                    ..Default::default()
                },
            ]),
            resource_claims: Some(vec![PodResourceClaim {
                name: "x".into(),
                resource_claim_template_name: Some("t".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: Some(PodStatus {
            resource_claim_statuses: Some(vec![PodResourceClaimStatus {
                name: "x".into(),
                resource_claim_name: None,
            }]),
            ..Default::default()
        }),
    };
    let refs = PodReferences::of(&p);
    assert_eq!(refs.secrets, vec!["pull", "env", "debug", "vol"]);
    assert_eq!(refs.claims, vec!["typed-e", "claim"]);
    // The template's claim was not needed: none.
    assert!(refs.resource_claims.is_empty());
    assert_eq!(refs.service_account, None);
}

#[test]
fn a_kubelet_reads_what_its_pods_use_and_nothing_else() {
    let (graph, authz) = setup();
    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "web", Some("n1")));
    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "db", Some("n2")));
    let n1 = node_user("n1");
    let cases = vec![
        (
            "its pod's secret",
            req(&n1, "get", "", "secrets", "ns", "s-web"),
            allowed(),
        ),
        (
            "watch of one secret",
            req(&n1, "watch", "", "secrets", "ns", "s-web"),
            allowed(),
        ),
        (
            "its pod's config map",
            req(&n1, "get", "", "configmaps", "ns", "cm-web"),
            allowed(),
        ),
        (
            "its pod's claim",
            req(&n1, "get", "", "persistentvolumeclaims", "ns", "pvc-web"),
            allowed(),
        ),
        (
            "another node's secret",
            req(&n1, "get", "", "secrets", "ns", "s-db"),
            no_relationship("n1"),
        ),
        (
            "an unused secret",
            req(&n1, "get", "", "secrets", "ns", "other"),
            no_relationship("n1"),
        ),
        (
            "same name, other namespace",
            req(&n1, "get", "", "secrets", "ns2", "s-web"),
            no_relationship("n1"),
        ),
        (
            "a config map used elsewhere",
            req(&n1, "get", "", "configmaps", "ns", "cm-db"),
            no_relationship("n1"),
        ),
        (
            "list of secrets",
            req(&n1, "list", "", "secrets", "ns", ""),
            Decision::NoOpinion("No Object name found".into()),
        ),
        (
            "secret writes",
            req(&n1, "update", "", "secrets", "ns", "s-web"),
            Decision::NoOpinion("can only read resources of this type".into()),
        ),
        (
            "all-namespace secrets",
            req(&n1, "get", "", "secrets", "", "s-web"),
            Decision::NoOpinion("can only read namespaced object of this type".into()),
        ),
        (
            "secret subresource",
            sub(req(&n1, "get", "", "secrets", "ns", "s-web"), "x"),
            Decision::NoOpinion("cannot read subresource".into()),
        ),
        (
            "claim list",
            req(&n1, "list", "", "persistentvolumeclaims", "ns", ""),
            Decision::NoOpinion("can only get individual resources of this type".into()),
        ),
        (
            "claim status",
            sub(
                req(&n1, "patch", "", "persistentvolumeclaims", "ns", "pvc-web"),
                "status",
            ),
            allowed(),
        ),
        (
            "claim status get",
            sub(
                req(&n1, "get", "", "persistentvolumeclaims", "ns", "pvc-web"),
                "status",
            ),
            Decision::NoOpinion("can only get/update/patch this type".into()),
        ),
        (
            "other claim status",
            sub(
                req(&n1, "update", "", "persistentvolumeclaims", "ns", "pvc-db"),
                "status",
            ),
            no_relationship("n1"),
        ),
        (
            "token of its pod's account",
            sub(
                req(&n1, "create", "", "serviceaccounts", "ns", "sa-web"),
                "token",
            ),
            allowed(),
        ),
        (
            "token of another account",
            sub(
                req(&n1, "create", "", "serviceaccounts", "ns", "sa-db"),
                "token",
            ),
            no_relationship("n1"),
        ),
        (
            "get a service account",
            req(&n1, "get", "", "serviceaccounts", "ns", "sa-web"),
            Decision::NoOpinion("can only create tokens for individual service accounts".into()),
        ),
        (
            "other account subresource",
            sub(
                req(&n1, "create", "", "serviceaccounts", "ns", "sa-web"),
                "x",
            ),
            Decision::NoOpinion("can only create token subresource of serviceaccount".into()),
        ),
    ];
    for (what, attributes, want) in cases {
        assert_eq!(authz.authorize(&attributes), want, "{what}");
    }
    assert!(
        authz
            .authorize(&req(&node_user("n2"), "get", "", "secrets", "ns", "s-db"))
            .is_allowed()
    );
}

#[test]
fn access_follows_pods_as_they_go_and_move() {
    let (graph, authz) = setup();
    let n1 = node_user("n1");
    let n2 = node_user("n2");
    let secret = |user: &UserInfo| {
        authz
            .authorize(&req(user, "get", "", "secrets", "ns", "s-web"))
            .is_allowed()
    };

    // Not bound yet: nobody.
    graph.write().unwrap().apply_pod(&pod("ns", "web", None));
    assert!(!secret(&n1));
    assert_eq!(graph.read().unwrap().pod_count(), 0);

    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "web", Some("n1")));
    assert!(secret(&n1) && !secret(&n2));

    // A second pod using the same secret on n1 keeps it readable when the
    // first goes.
    let mut twin = pod("ns", "twin", Some("n1"));
    twin.spec.as_mut().unwrap().volumes.as_mut().unwrap()[0].secret = Some(SecretVolumeSource {
        secret_name: Some("s-web".into()),
        ..Default::default()
    });
    graph.write().unwrap().apply_pod(&twin);
    graph.write().unwrap().remove_pod("ns", "web");
    assert!(secret(&n1));
    graph.write().unwrap().remove_pod("ns", "twin");
    assert!(!secret(&n1));

    // Re-bound elsewhere (recreated on n2): n1 loses it, n2 gains it.
    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "web", Some("n1")));
    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "web", Some("n2")));
    assert!(!secret(&n1) && secret(&n2));
    // An update that drops the secret drops the access.
    let mut changed = pod("ns", "web", Some("n2"));
    changed.spec.as_mut().unwrap().volumes = None;
    graph.write().unwrap().apply_pod(&changed);
    assert!(!secret(&n2));
    assert!(
        authz
            .authorize(&req(&n2, "get", "", "configmaps", "ns", "cm-web"))
            .is_allowed()
    );

    graph.write().unwrap().remove_pod("ns", "web");
    graph.write().unwrap().remove_pod("ns", "never-seen");
    assert_eq!(graph.read().unwrap().pod_count(), 0);
    assert!(
        !authz
            .authorize(&req(&n2, "get", "", "configmaps", "ns", "cm-web"))
            .is_allowed()
    );
}

fn pv(
    name: &str,
    claim: Option<(&str, &str)>,
    csi: Option<CSIPersistentVolumeSource>,
) -> PersistentVolume {
    PersistentVolume {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(PersistentVolumeSpec {
            claim_ref: claim.map(|(ns, n)| ObjectReference {
                namespace: Some(ns.into()),
                name: Some(n.into()),
                ..Default::default()
            }),
            csi,
            ..Default::default()
        }),
        status: None,
    }
}

fn secret_ref(ns: Option<&str>, name: &str) -> Option<SecretReference> {
    Some(SecretReference {
        namespace: ns.map(str::to_string),
        name: Some(name.into()),
    })
}

#[test]
fn volumes_bound_to_a_pods_claim_and_their_node_secrets() {
    let (graph, authz) = setup();
    let n1 = node_user("n1");
    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "web", Some("n1")));
    let csi = CSIPersistentVolumeSource {
        driver: "d".into(),
        volume_handle: "h".into(),
        node_publish_secret_ref: secret_ref(Some("ns"), "publish"),
        node_stage_secret_ref: secret_ref(Some("storage"), "stage"),
        controller_publish_secret_ref: secret_ref(Some("ns"), "controller"),
        ..Default::default()
    };
    graph
        .write()
        .unwrap()
        .apply_pv(&pv("pv-web", Some(("ns", "pvc-web")), Some(csi)));
    graph
        .write()
        .unwrap()
        .apply_pv(&pv("pv-other", Some(("ns", "pvc-other")), None));
    graph.write().unwrap().apply_pv(&pv("pv-free", None, None));
    let get = |resource: &str, ns: &str, name: &str| {
        authz.authorize(&req(&n1, "get", "", resource, ns, name))
    };
    assert_eq!(get("persistentvolumes", "", "pv-web"), allowed());
    assert_eq!(
        get("persistentvolumes", "", "pv-other"),
        no_relationship("n1")
    );
    assert_eq!(
        get("persistentvolumes", "", "pv-free"),
        no_relationship("n1")
    );
    assert_eq!(get("secrets", "ns", "publish"), allowed());
    assert_eq!(get("secrets", "storage", "stage"), allowed());
    assert_eq!(get("secrets", "ns", "controller"), no_relationship("n1"));
    assert_eq!(
        authz.authorize(&req(&n1, "list", "", "persistentvolumes", "", "")),
        Decision::NoOpinion("can only get individual resources of this type".into())
    );

    // The volume released: gone, with its secrets.
    graph.write().unwrap().apply_pv(&pv("pv-web", None, None));
    assert_eq!(
        get("persistentvolumes", "", "pv-web"),
        no_relationship("n1")
    );
    assert_eq!(get("secrets", "ns", "publish"), no_relationship("n1"));
    // A secret reference of a CephFS (RBD, iSCSI, ...) volume without a
    // namespace is in the claim's; CSI references name theirs.
    let mut cephfs = pv(
        "pv-web",
        Some(("ns", "pvc-web")),
        Some(CSIPersistentVolumeSource {
            node_publish_secret_ref: secret_ref(None, "csi-no-namespace"),
            ..Default::default()
        }),
    );
    cephfs.spec.as_mut().unwrap().cephfs = Some(CephFSPersistentVolumeSource {
        monitors: vec!["m".into()],
        secret_ref: secret_ref(None, "defaulted"),
        ..Default::default()
    });
    graph.write().unwrap().apply_pv(&cephfs);
    assert_eq!(get("secrets", "ns", "defaulted"), allowed());
    assert_eq!(
        get("secrets", "ns", "csi-no-namespace"),
        no_relationship("n1")
    );
    assert_eq!(
        pv_secrets(&cephfs),
        vec![
            ("ns".to_string(), "defaulted".to_string()),
            (String::new(), "csi-no-namespace".to_string())
        ]
    );
    graph.write().unwrap().remove_pv("pv-web");
    assert_eq!(get("secrets", "ns", "defaulted"), no_relationship("n1"));
    assert_eq!(pv_secrets(&pv("x", None, None)), vec![]);
}

#[test]
fn attachments_slices_and_claims() {
    let (graph, authz) = setup();
    let n1 = node_user("n1");
    let attachment = VolumeAttachment {
        metadata: ObjectMeta {
            name: Some("va1".into()),
            ..Default::default()
        },
        spec: VolumeAttachmentSpec {
            attacher: "a".into(),
            node_name: "n1".into(),
            ..Default::default()
        },
        status: None,
    };
    graph.write().unwrap().apply_volume_attachment(&attachment);
    graph.write().unwrap().apply_resource_slice("slice-1", "n1");
    graph.write().unwrap().apply_pod(&pod_from(json!({
        "metadata": {"namespace": "ns", "name": "gpu"},
        "spec": {"nodeName": "n1", "containers": [],
                 "resourceClaims": [{"name": "g", "resourceClaimName": "claim-1"}]}
    })));
    let ask = |verb: &str, group: &str, resource: &str, ns: &str, name: &str| {
        authz.authorize(&req(&n1, verb, group, resource, ns, name))
    };
    assert_eq!(
        ask("get", "storage.k8s.io", "volumeattachments", "", "va1"),
        allowed()
    );
    assert_eq!(
        ask("get", "storage.k8s.io", "volumeattachments", "", "va2"),
        no_relationship("n1")
    );
    assert_eq!(
        ask("get", "resource.k8s.io", "resourceclaims", "ns", "claim-1"),
        allowed()
    );
    assert_eq!(
        ask("get", "resource.k8s.io", "resourceclaims", "ns", "claim-2"),
        no_relationship("n1")
    );
    assert_eq!(
        ask("update", "resource.k8s.io", "resourceslices", "", "slice-1"),
        allowed()
    );
    assert_eq!(
        ask("delete", "resource.k8s.io", "resourceslices", "", "slice-2"),
        no_relationship("n1")
    );
    assert_eq!(
        ask("create", "resource.k8s.io", "resourceslices", "", ""),
        allowed()
    );
    assert_eq!(
        ask("escalate", "resource.k8s.io", "resourceslices", "", "slice-1"),
        Decision::NoOpinion("only the following verbs are allowed for a ResourceSlice: get, watch, list, create, update, patch, delete, deletecollection".into())
    );
    graph.write().unwrap().remove_volume_attachment("va1");
    graph.write().unwrap().apply_resource_slice("slice-1", "");
    assert_eq!(
        ask("get", "storage.k8s.io", "volumeattachments", "", "va1"),
        no_relationship("n1")
    );
    assert_eq!(
        ask("get", "resource.k8s.io", "resourceslices", "", "slice-1"),
        no_relationship("n1")
    );
    graph.write().unwrap().apply_resource_slice("slice-3", "n1");
    graph.write().unwrap().remove_resource_slice("slice-3");
    assert_eq!(
        ask("get", "resource.k8s.io", "resourceslices", "", "slice-3"),
        no_relationship("n1")
    );
}

#[test]
fn leases_csinodes_and_node_rules() {
    let (_, authz) = setup();
    let n1 = node_user("n1");
    let ask = |a: Attributes| authz.authorize(&a);
    let lease = |verb: &str, ns: &str, name: &str| {
        req(&n1, verb, "coordination.k8s.io", "leases", ns, name)
    };
    let cases = vec![
        (
            "own lease",
            ask(lease("update", "kube-node-lease", "n1")),
            allowed(),
        ),
        (
            "create a lease",
            ask(lease("create", "kube-node-lease", "")),
            allowed(),
        ),
        (
            "another node's lease",
            ask(lease("get", "kube-node-lease", "n2")),
            Decision::NoOpinion(
                "can only access node lease with the same name as the requesting node".into(),
            ),
        ),
        (
            "lease elsewhere",
            ask(lease("get", "kube-system", "n1")),
            Decision::NoOpinion(
                "can only access leases in the \"kube-node-lease\" system namespace".into(),
            ),
        ),
        (
            "list leases",
            ask(lease("list", "kube-node-lease", "")),
            Decision::NoOpinion(
                "can only get, create, update, patch, or delete a node lease".into(),
            ),
        ),
        (
            "own CSINode",
            ask(req(&n1, "patch", "storage.k8s.io", "csinodes", "", "n1")),
            allowed(),
        ),
        (
            "other CSINode",
            ask(req(&n1, "get", "storage.k8s.io", "csinodes", "", "n2")),
            Decision::NoOpinion(
                "can only access CSINode with the same name as the requesting node".into(),
            ),
        ),
        (
            "CSINode subresource",
            ask(sub(
                req(&n1, "get", "storage.k8s.io", "csinodes", "", "n1"),
                "status",
            )),
            Decision::NoOpinion("cannot authorize CSINode subresources".into()),
        ),
        (
            "node status",
            ask(sub(req(&n1, "update", "", "nodes", "", "n1"), "status")),
            allowed(),
        ),
        (
            "register",
            ask(req(&n1, "create", "", "nodes", "", "")),
            allowed(),
        ),
        (
            "watch pods",
            ask(req(&n1, "watch", "", "pods", "", "")),
            allowed(),
        ),
        (
            "pod status",
            ask(sub(req(&n1, "patch", "", "pods", "ns", "p"), "status")),
            allowed(),
        ),
        (
            "events",
            ask(req(&n1, "create", "", "events", "ns", "")),
            allowed(),
        ),
        (
            "endpoints",
            ask(req(&n1, "get", "", "endpoints", "ns", "e")),
            allowed(),
        ),
        (
            "csr",
            ask(req(
                &n1,
                "create",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "",
                "",
            )),
            allowed(),
        ),
        (
            "no node deletes",
            ask(req(&n1, "delete", "", "nodes", "", "n1")),
            Decision::NoOpinion(String::new()),
        ),
        (
            "no deployments",
            ask(req(&n1, "get", "apps", "deployments", "ns", "d")),
            Decision::NoOpinion(String::new()),
        ),
        (
            "no paths",
            ask(Attributes::non_resource(n1.clone(), "get", "/metrics")),
            Decision::NoOpinion(String::new()),
        ),
    ];
    for (what, got, want) in cases {
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn only_nodes_are_judged() {
    let (graph, authz) = setup();
    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "web", Some("n1")));
    let others = [
        UserInfo::authenticated("alice", &[]),
        UserInfo::anonymous(),
        // The node's name outside the nodes group.
        UserInfo::authenticated("system:node:n1", &[]),
        // In the nodes group under another name.
        UserInfo::authenticated("kubelet", &[NODES]),
    ];
    for user in &others {
        for attributes in [
            req(user, "get", "", "secrets", "ns", "s-web"),
            sub(req(user, "update", "", "nodes", "", "n1"), "status"),
        ] {
            assert_eq!(
                authz.authorize(&attributes),
                Decision::NoOpinion(String::new()),
                "{}",
                user.name
            );
        }
        assert!(!authz.rules_for(user, "ns").incomplete);
    }
    let nameless = UserInfo::authenticated("system:node:", &[NODES]);
    assert_eq!(
        authz.authorize(&req(&nameless, "get", "", "nodes", "", "")),
        Decision::NoOpinion("unknown node for user \"system:node:\"".into())
    );
    let rules = authz.rules_for(&node_user("n1"), "ns");
    assert!(rules.incomplete && rules.resource_rules.is_empty());
}

#[test]
fn a_poisoned_graph_lock_still_answers() {
    let (graph, authz) = setup();
    graph
        .write()
        .unwrap()
        .apply_pod(&pod("ns", "web", Some("n1")));
    let poisoner = graph.clone();
    let _ = std::thread::spawn(move || {
        let _guard = poisoner.write().unwrap();
        panic!("poison the lock");
    })
    .join();
    assert!(graph.is_poisoned());
    assert!(
        authz
            .authorize(&req(&node_user("n1"), "get", "", "secrets", "ns", "s-web"))
            .is_allowed()
    );
}

//! NodeRestriction against kubelet requests.

use super::*;
use ironclad_auth::user::UserInfo;
use serde_json::json;

fn node_req(
    op: Operation,
    group: &str,
    resource: &str,
    sub: &str,
    ns: &str,
    name: &str,
) -> Request {
    let mut r = Request::new(op, group, resource);
    r.subresource = sub.into();
    r.namespace = ns.into();
    r.name = name.into();
    r.user = UserInfo::authenticated("system:node:n1", &[NODES]);
    r
}

fn mirror(node: &str) -> Value {
    json!({
        "metadata": {"name": "etcd-n1", "namespace": "kube-system",
            "annotations": {MIRROR_POD: "abc"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": "uid-n1", "controller": true}]},
        "spec": {"nodeName": node, "containers": [{"name": "etcd", "image": "etcd"}]}
    })
}

const MIRROR_POD: &str = crate::serviceaccount::MIRROR_POD_ANNOTATION;

fn node_obj() -> Value {
    json!({"metadata": {"name": "n1", "uid": "uid-n1"}})
}

fn lookups() -> NodeLookups<'static> {
    NodeLookups::default()
}

fn msg(r: Result<(), AdmissionError>) -> Option<String> {
    r.err().map(|e| e.message)
}

#[test]
fn other_users_pass() {
    let mut r = node_req(Operation::Delete, "", "nodes", "", "", "n2");
    r.user = UserInfo::authenticated("alice", &[]);
    assert!(admit(&r, None, None, &lookups()).is_ok());
    // The node name prefix without the group is not a node.
    r.user = UserInfo::authenticated("system:node:n1", &[]);
    assert!(admit(&r, None, None, &lookups()).is_ok());
    // In the group with an empty name: refused.
    r.user = UserInfo::authenticated("system:node:", &[NODES]);
    assert_eq!(
        msg(admit(&r, None, None, &lookups())),
        Some(
            r#"nodes "n2" is forbidden: could not determine node from user "system:node:""#.into()
        )
    );
}

#[test]
fn mirror_pod_creates() {
    let node = node_obj();
    let l = NodeLookups {
        node: Some(&node),
        ..lookups()
    };
    let r = node_req(Operation::Create, "", "pods", "", "kube-system", "etcd-n1");
    assert!(admit(&r, Some(&mirror("n1")), None, &l).is_ok());

    let edit = |f: &dyn Fn(&mut Value)| {
        let mut p = mirror("n1");
        f(&mut p);
        p
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            edit(&|p| p["metadata"]["annotations"] = json!({})),
            r#"pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods"#,
        ),
        (
            edit(&|p| p["spec"]["nodeName"] = json!("n2")),
            r#"node "n1" can only create pods with spec.nodeName set to itself"#,
        ),
        (
            edit(&|p| p["metadata"]["ownerReferences"] = json!([])),
            r#"node "n1" can only create pods with an owner reference set to itself"#,
        ),
        (
            edit(&|p| {
                let o = p["metadata"]["ownerReferences"][0].clone();
                p["metadata"]["ownerReferences"] = json!([o.clone(), o]);
            }),
            r#"node "n1" can only create pods with a single owner reference set to itself"#,
        ),
        (
            edit(&|p| p["metadata"]["ownerReferences"][0]["name"] = json!("n2")),
            r#"node "n1" can only create pods with an owner reference set to itself"#,
        ),
        (
            edit(&|p| p["metadata"]["ownerReferences"][0]["controller"] = json!(false)),
            r#"node "n1" can only create pods with a controller owner reference set to itself"#,
        ),
        (
            edit(&|p| p["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] = json!(true)),
            r#"node "n1" must not set blockOwnerDeletion on an owner reference"#,
        ),
        (
            edit(&|p| p["metadata"]["ownerReferences"][0]["uid"] = json!("other")),
            "node n1 UID mismatch: expected other got uid-n1",
        ),
        (
            edit(&|p| p["spec"]["serviceAccountName"] = json!("default")),
            r#"node "n1" can not create pods that reference a service account"#,
        ),
        (
            edit(&|p| p["spec"]["volumes"] = json!([{"name": "s", "secret": {"secretName": "x"}}])),
            r#"node "n1" can not create pods that reference secrets"#,
        ),
        (
            edit(&|p| {
                p["spec"]["containers"][0]["envFrom"] = json!([{"configMapRef": {"name": "x"}}])
            }),
            r#"node "n1" can not create pods that reference configmaps"#,
        ),
        (
            edit(
                &|p| p["spec"]["volumes"] = json!([{"name": "b", "projected": {"sources": [{"clusterTrustBundle": {"name": "x", "path": "b"}}]}}]),
            ),
            r#"node "n1" can not create pods that reference clustertrustbundles"#,
        ),
        (
            edit(&|p| {
                p["spec"]["volumes"] =
                    json!([{"name": "d", "persistentVolumeClaim": {"claimName": "x"}}])
            }),
            r#"node "n1" can not create pods that reference persistentvolumeclaims"#,
        ),
    ];
    for (pod, want) in cases {
        assert_eq!(
            msg(admit(&r, Some(&pod), None, &l)),
            Some(format!(r#"pods "etcd-n1" is forbidden: {want}"#)),
            "{pod}"
        );
    }
    // The node object is needed to check the owner's uid.
    let e = admit(&r, Some(&mirror("n1")), None, &lookups()).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, r#"nodes "n1" not found"#)
    );
    // A body that is not an object.
    assert_eq!(
        msg(admit(&r, Some(&json!("pod")), None, &l)),
        Some(r#"pods "etcd-n1" is forbidden: unexpected type string"#.into())
    );
}

#[test]
fn pod_deletes_updates_status_and_evictions() {
    let mine =
        json!({"metadata": {"name": "p", "labels": {"app": "a"}}, "spec": {"nodeName": "n1"}});
    let theirs = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n2"}});
    let del = node_req(Operation::Delete, "", "pods", "", "ns", "p");
    assert!(admit(&del, None, Some(&mine), &lookups()).is_ok());
    assert_eq!(
        msg(admit(&del, None, Some(&theirs), &lookups())),
        Some(r#"pods "p" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself"#.into())
    );
    assert_eq!(admit(&del, None, None, &lookups()).unwrap_err().code, 404);

    let upd = node_req(Operation::Update, "", "pods", "", "ns", "p");
    assert_eq!(
        msg(admit(&upd, Some(&mine), Some(&mine), &lookups())),
        Some(r#"pods "p" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods"#.into())
    );

    let status = node_req(Operation::Update, "", "pods", "status", "ns", "p");
    assert!(admit(&status, Some(&mine), Some(&mine), &lookups()).is_ok());
    assert!(
        msg(admit(&status, Some(&theirs), Some(&theirs), &lookups()))
            .unwrap()
            .ends_with(
                r#"node "n1" can only update pod status for pods with spec.nodeName set to itself"#
            )
    );
    let mut relabeled = mine.clone();
    relabeled["metadata"]["labels"]["app"] = json!("b");
    assert!(
        msg(admit(&status, Some(&relabeled), Some(&mine), &lookups()))
            .unwrap()
            .ends_with(r#"node "n1" cannot update labels through pod status"#)
    );
    let mut claimed = mine.clone();
    claimed["status"] =
        json!({"resourceClaimStatuses": [{"name": "gpu", "resourceClaimName": "p-gpu"}]});
    assert!(
        msg(admit(&status, Some(&claimed), Some(&mine), &lookups()))
            .unwrap()
            .ends_with(r#"node "n1" cannot update resource claim statues"#)
    );
    assert_eq!(
        msg(admit(&status, Some(&mine), None, &lookups())),
        Some(r#"pods "p" is forbidden: unexpected type <nil>"#.into())
    );

    let evict = node_req(Operation::Create, "", "pods", "eviction", "ns", "p");
    let eviction =
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}});
    let l = NodeLookups {
        pod: Some(&mine),
        ..lookups()
    };
    assert!(admit(&evict, Some(&eviction), None, &l).is_ok());
    let l2 = NodeLookups {
        pod: Some(&theirs),
        ..lookups()
    };
    assert_eq!(
        msg(admit(&evict, Some(&eviction), None, &l2)),
        Some(r#"pods "p" is forbidden: node n1 can only evict pods with spec.nodeName set to itself"#.into())
    );
    assert_eq!(
        admit(&evict, Some(&eviction), None, &lookups())
            .unwrap_err()
            .code,
        404
    );
    let mut unnamed = evict.clone();
    unnamed.name.clear();
    assert!(
        msg(admit(&unnamed, Some(&json!({"metadata": {}})), None, &l))
            .unwrap()
            .ends_with("could not determine pod from request data")
    );

    let exec = node_req(Operation::Create, "", "pods", "exec", "ns", "p");
    assert!(
        msg(admit(&exec, None, None, &lookups()))
            .unwrap()
            .ends_with(
                r#"unexpected pod subresource "exec", only 'status' and 'eviction' are allowed"#
            )
    );
    // Connects are not this plugin's business.
    let mut connect = exec;
    connect.operation = Operation::Connect;
    assert!(admit(&connect, None, None, &lookups()).is_ok());
}

#[test]
fn nodes() {
    let create = node_req(Operation::Create, "", "nodes", "", "", "n1");
    let node = |labels: Value| json!({"metadata": {"name": "n1", "labels": labels}, "spec": {}});
    let ok_labels = json!({
        "kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m5",
        "topology.kubernetes.io/zone": "a", "node.kubernetes.io/windows-build": "x",
        "kubelet.kubernetes.io/x": "y", "example.com/team": "infra", "plain": "1"
    });
    assert!(admit(&create, Some(&node(ok_labels.clone())), None, &lookups()).is_ok());
    assert_eq!(
        msg(admit(&create, Some(&node(json!({"node-restriction.kubernetes.io/pool": "a", "foo.k8s.io/x": "y", "kubernetes.io/hostname": "n1"}))), None, &lookups())),
        Some(r#"nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: foo.k8s.io/x, node-restriction.kubernetes.io/pool"#.into())
    );
    let mut with_config = node(json!({}));
    with_config["spec"]["configSource"] = json!({"configMap": {"name": "c"}});
    assert!(
        msg(admit(&create, Some(&with_config), None, &lookups()))
            .unwrap()
            .ends_with(r#"node "n1" is not allowed to create pods with a non-nil configSource"#)
    );

    let other = node_req(Operation::Update, "", "nodes", "status", "", "n2");
    assert_eq!(
        msg(admit(&other, None, None, &lookups())),
        Some(r#"nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2""#.into())
    );
    let del_other = node_req(Operation::Delete, "", "nodes", "", "", "n2");
    assert!(admit(&del_other, None, None, &lookups()).is_err());
    assert!(
        admit(
            &node_req(Operation::Delete, "", "nodes", "", "", "n1"),
            None,
            None,
            &lookups()
        )
        .is_ok()
    );

    let update = node_req(Operation::Update, "", "nodes", "", "", "n1");
    let old = node(ok_labels.clone());
    let mut new = old.clone();
    new["metadata"]["labels"]["kubernetes.io/hostname"] = json!("renamed");
    new["status"] = json!({"conditions": [{"type": "Ready", "status": "True"}]});
    assert!(admit(&update, Some(&new), Some(&old), &lookups()).is_ok());
    let mut tainted = old.clone();
    tainted["spec"]["taints"] = json!([{"key": "k", "effect": "NoSchedule"}]);
    assert!(
        msg(admit(&update, Some(&old), Some(&tainted), &lookups()))
            .unwrap()
            .ends_with(r#"node "n1" is not allowed to modify taints"#)
    );
    // Empty and missing taints are the same.
    let mut empty_taints = old.clone();
    empty_taints["spec"]["taints"] = json!([]);
    assert!(admit(&update, Some(&empty_taints), Some(&old), &lookups()).is_ok());
    let mut removed = old.clone();
    removed["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .insert("node-role.kubernetes.io/control-plane".into(), json!(""));
    assert_eq!(
        msg(admit(&update, Some(&old), Some(&removed), &lookups())),
        Some(r#"nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane"#.into())
    );
    let mut configured = old.clone();
    configured["spec"]["configSource"] = json!({"configMap": {"name": "c"}});
    assert!(
        msg(admit(&update, Some(&configured), Some(&old), &lookups()))
            .unwrap()
            .ends_with("is not allowed to update configSource to a new non-nil configSource")
    );
    // Keeping the same config source (or dropping it) is fine.
    assert!(admit(&update, Some(&configured), Some(&configured), &lookups()).is_ok());
    assert!(admit(&update, Some(&old), Some(&configured), &lookups()).is_ok());
    assert!(is_kubelet_label("x.node.kubernetes.io/y"));
    assert!(!is_kubelet_label("node-role.kubernetes.io/worker"));
}

#[test]
fn claims_status() {
    let r = node_req(
        Operation::Update,
        "",
        "persistentvolumeclaims",
        "status",
        "ns",
        "c",
    );
    let old = json!({"metadata": {"name": "c", "resourceVersion": "1"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}});
    let mut new = old.clone();
    new["metadata"]["resourceVersion"] = json!("2");
    new["status"]["capacity"]["storage"] = json!("2Gi");
    new["status"]["conditions"] = json!([{"type": "Resizing", "status": "True"}]);
    new["status"]["allocatedResources"] = json!({"storage": "2Gi"});
    assert!(admit(&r, Some(&new), Some(&old), &lookups()).is_ok());
    let mut relabeled = new.clone();
    relabeled["metadata"]["labels"] = json!({"a": "b"});
    relabeled["status"]["phase"] = json!("Lost");
    assert_eq!(
        msg(admit(&r, Some(&relabeled), Some(&old), &lookups())),
        Some(r#"persistentvolumeclaims "c" is forbidden: node "n1" is not allowed to update fields other than status.quantity and status.conditions: metadata.labels, status.phase"#.into())
    );
    let spec = node_req(
        Operation::Update,
        "",
        "persistentvolumeclaims",
        "",
        "ns",
        "c",
    );
    assert!(
        msg(admit(&spec, Some(&new), Some(&old), &lookups()))
            .unwrap()
            .ends_with("may only update PVC status")
    );
    let create = node_req(
        Operation::Create,
        "",
        "persistentvolumeclaims",
        "status",
        "ns",
        "c",
    );
    assert!(
        msg(admit(&create, Some(&new), None, &lookups()))
            .unwrap()
            .ends_with(r#"unexpected operation "CREATE""#)
    );
}

#[test]
fn tokens() {
    let r = node_req(
        Operation::Create,
        "",
        "serviceaccounts",
        "token",
        "ns",
        "builder",
    );
    let tr = |audiences: Value, uid: &str| json!({"spec": {"audiences": audiences, "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": uid}}});
    let pod = json!({"metadata": {"name": "p", "uid": "u1"}, "spec": {"nodeName": "n1", "volumes": [
        {"name": "kube-api-access-x", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "vault", "projected": {"sources": [{"serviceAccountToken": {"path": "t", "audience": "vault"}}]}}
    ]}});
    let l = NodeLookups {
        pod: Some(&pod),
        ..lookups()
    };
    assert!(admit(&r, Some(&tr(json!([]), "u1")), None, &l).is_ok());
    assert!(admit(&r, Some(&tr(json!(["vault"]), "u1")), None, &l).is_ok());
    let cases = [
        (
            tr(json!(["other"]), "u1"),
            r#"audience "other" not found in pod spec volume, system:node:n1 is not authorized to request tokens for this audience"#,
        ),
        (
            tr(json!(["a", "b"]), "u1"),
            "node may only request 0 or 1 audiences",
        ),
        (
            tr(json!([]), "u2"),
            "the UID in the bound object reference (u2) does not match the UID in record. The object might have been deleted and then recreated",
        ),
        (
            tr(json!([]), ""),
            "node requested token with a pod binding without a uid",
        ),
        (
            json!({"spec": {}}),
            "node requested token not bound to a pod",
        ),
        (
            json!({"spec": {"boundObjectRef": {"apiVersion": "v1", "kind": "Secret", "name": "s", "uid": "u"}}}),
            "node requested token not bound to a pod",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(
            msg(admit(&r, Some(&body), None, &l)),
            Some(format!(r#"serviceaccounts "builder" is forbidden: {want}"#)),
            "{body}"
        );
    }
    // Audiences of CSI drivers, or granted by the authorizer, are fine.
    let csi = ["other".to_string()];
    let with_csi = NodeLookups {
        csi_audiences: &csi,
        ..l
    };
    assert!(admit(&r, Some(&tr(json!(["other"]), "u1")), None, &with_csi).is_ok());
    let granted = NodeLookups {
        audience_authorized: true,
        ..l
    };
    assert!(admit(&r, Some(&tr(json!(["other"]), "u1")), None, &granted).is_ok());
    // Pods on other nodes, and missing pods.
    let elsewhere = json!({"metadata": {"uid": "u1"}, "spec": {"nodeName": "n2"}});
    let l2 = NodeLookups {
        pod: Some(&elsewhere),
        ..lookups()
    };
    assert!(
        msg(admit(&r, Some(&tr(json!([]), "u1")), None, &l2))
            .unwrap()
            .ends_with("node requested token bound to a pod scheduled on a different node")
    );
    assert_eq!(
        admit(&r, Some(&tr(json!([]), "u1")), None, &lookups())
            .unwrap_err()
            .code,
        404
    );
    // Other service account writes are not restricted here.
    let upd = node_req(
        Operation::Update,
        "",
        "serviceaccounts",
        "",
        "ns",
        "builder",
    );
    assert!(admit(&upd, Some(&json!({})), None, &lookups()).is_ok());
}

#[test]
fn leases_csinodes_and_slices() {
    let lease =
        |op, ns: &str, name: &str| node_req(op, "coordination.k8s.io", "leases", "", ns, name);
    let body = |name: &str| json!({"metadata": {"name": name}});
    assert!(
        admit(
            &lease(Operation::Create, NODE_LEASE_NAMESPACE, ""),
            Some(&body("n1")),
            None,
            &lookups()
        )
        .is_ok()
    );
    assert!(
        msg(admit(
            &lease(Operation::Create, NODE_LEASE_NAMESPACE, ""),
            Some(&body("n2")),
            None,
            &lookups()
        ))
        .unwrap()
        .ends_with("can only access node lease with the same name as the requesting node")
    );
    assert!(
        admit(
            &lease(Operation::Update, NODE_LEASE_NAMESPACE, "n1"),
            Some(&body("n1")),
            None,
            &lookups()
        )
        .is_ok()
    );
    assert!(
        admit(
            &lease(Operation::Delete, NODE_LEASE_NAMESPACE, "n2"),
            None,
            None,
            &lookups()
        )
        .is_err()
    );
    assert!(
        msg(admit(
            &lease(Operation::Update, "default", "n1"),
            Some(&body("n1")),
            None,
            &lookups()
        ))
        .unwrap()
        .ends_with(r#"can only access leases in the "kube-node-lease" system namespace"#)
    );

    let csinode = |op, name: &str| node_req(op, "storage.k8s.io", "csinodes", "", "", name);
    assert!(
        admit(
            &csinode(Operation::Create, ""),
            Some(&body("n1")),
            None,
            &lookups()
        )
        .is_ok()
    );
    assert!(
        msg(admit(
            &csinode(Operation::Update, "n2"),
            Some(&body("n2")),
            None,
            &lookups()
        ))
        .unwrap()
        .ends_with("can only access CSINode with the same name as the requesting node")
    );

    let slice =
        |node: &str| json!({"metadata": {"name": "s"}, "spec": {"nodeName": node, "driver": "d"}});
    let create = node_req(
        Operation::Create,
        "resource.k8s.io",
        "resourceslices",
        "",
        "",
        "s",
    );
    assert!(admit(&create, Some(&slice("n1")), None, &lookups()).is_ok());
    assert!(
        msg(admit(&create, Some(&slice("n2")), None, &lookups()))
            .unwrap()
            .ends_with(
                "can only create ResourceSlice with the same NodeName as the requesting node"
            )
    );
    let del = node_req(
        Operation::Delete,
        "resource.k8s.io",
        "resourceslices",
        "",
        "",
        "s",
    );
    assert!(
        msg(admit(&del, None, Some(&slice("n2")), &lookups()))
            .unwrap()
            .ends_with(
                "can only delete ResourceSlice with the same NodeName as the requesting node"
            )
    );
    let upd = node_req(
        Operation::Update,
        "resource.k8s.io",
        "resourceslices",
        "",
        "",
        "s",
    );
    assert!(admit(&upd, Some(&slice("n2")), Some(&slice("n2")), &lookups()).is_ok());

    // Unrelated resources pass.
    let cm = node_req(Operation::Create, "", "configmaps", "", "ns", "c");
    assert!(admit(&cm, Some(&body("c")), None, &lookups()).is_ok());
}

fn csr_body(cn: &str, signer: &str) -> Value {
    use base64::Engine;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "system:nodes");
    let key = rcgen::KeyPair::generate().unwrap();
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    json!({"metadata": {"generateName": "csr-"}, "spec": {
        "signerName": signer,
        "usages": ["client auth"],
        "request": base64::engine::general_purpose::STANDARD.encode(pem)
    }})
}

#[test]
fn certificate_signing_requests() {
    let r = node_req(
        Operation::Create,
        "certificates.k8s.io",
        "certificatesigningrequests",
        "",
        "",
        "",
    );
    let client = csr::KUBELET_CLIENT_SIGNER;
    assert!(
        admit(
            &r,
            Some(&csr_body("system:node:n1", client)),
            None,
            &lookups()
        )
        .is_ok()
    );
    assert!(
        admit(
            &r,
            Some(&csr_body("system:node:n1", csr::KUBELET_SERVING_SIGNER)),
            None,
            &lookups()
        )
        .is_ok()
    );
    assert_eq!(
        msg(admit(&r, Some(&csr_body("system:node:n2", client)), None, &lookups())),
        Some(r#"certificatesigningrequests.certificates.k8s.io "csr-" is forbidden: can only create a node CSR with CN=system:node:n1"#.into())
    );
    // Other signers are the signer's business.
    assert!(
        admit(
            &r,
            Some(&csr_body("anything", "example.com/signer")),
            None,
            &lookups()
        )
        .is_ok()
    );
    let garbage = json!({"metadata": {"name": "x"}, "spec": {"signerName": client, "request": "bm90IGEgcGVt"}});
    assert!(
        msg(admit(&r, Some(&garbage), None, &lookups()))
            .unwrap()
            .ends_with("unable to parse csr: PEM block type must be CERTIFICATE REQUEST")
    );
    let not_b64 =
        json!({"metadata": {"name": "x"}, "spec": {"signerName": client, "request": "%%%"}});
    assert!(
        msg(admit(&r, Some(&not_b64), None, &lookups()))
            .unwrap()
            .contains("unable to parse csr")
    );
}

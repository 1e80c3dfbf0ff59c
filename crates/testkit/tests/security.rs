//! The security layer against a real API server, through real clients:
//! secrets encrypted in the store, service-account tokens, what a kubelet
//! identity may read and write (Node authorizer and NodeRestriction),
//! ResourceQuota under concurrent creates, ServiceAccount and LimitRanger
//! admission, and RBAC escalation checks.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::time::{Duration, SystemTime};

use ironclad_auth::authn::serviceaccount::{TokenSigner, TokenSpec};
use ironclad_testkit::{TestCluster, eventually, fake_node};
use k8s_openapi::api::authentication::v1::{SelfSubjectReview, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{
    LimitRange, Namespace, Node, Pod, ResourceQuota, Secret, ServiceAccount,
};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

fn code(err: kube::Error) -> (u16, String) {
    match err {
        kube::Error::Api(s) => (s.code, s.message),
        other => panic!("expected an API error, got {other}"),
    }
}

async fn namespace(cluster: &TestCluster, name: &str) {
    let ns: Api<Namespace> = Api::all(cluster.client().unwrap());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn secrets_are_ciphertext_in_the_store() {
    let cluster = TestCluster::start().await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(cluster.client().unwrap(), "default");
    let plaintext = "correct-horse-battery-staple";
    let s: Secret = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "stringData": {"password": plaintext},
    }))
    .unwrap();
    secrets.create(&PostParams::default(), &s).await.unwrap();
    let raw = cluster
        .store
        .get(b"/registry/core/secrets/default/db")
        .await
        .unwrap()
        .unwrap();
    assert!(
        raw.value.starts_with(b"k8s:enc:aescbc:v1:ironclad-1:"),
        "{:?}",
        &raw.value[..40]
    );
    let hay = String::from_utf8_lossy(&raw.value);
    assert!(!hay.contains(plaintext));
    assert!(!hay.contains("Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ"));
    assert!(!hay.contains("\"name\":\"db\""));
    // Clients read it back in clear; other resources are stored as they are.
    let back = secrets.get("db").await.unwrap();
    assert_eq!(back.data.unwrap()["password"].0, plaintext.as_bytes());
    let ns = cluster
        .store
        .get(b"/registry/core/namespaces/default")
        .await
        .unwrap()
        .unwrap();
    assert!(ns.value.starts_with(b"{"));
}

#[tokio::test]
async fn service_account_tokens_authenticate_and_bad_ones_do_not() {
    let cluster = TestCluster::start().await.unwrap();
    let admin = cluster.client().unwrap();
    let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), "default");
    let sa = sas
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "robot"}})).unwrap(),
        )
        .await
        .unwrap();
    let req = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![],
            expiration_seconds: Some(3600),
            ..Default::default()
        },
        ..Default::default()
    };
    let issued = sas
        .create_token_request("robot", &PostParams::default(), &req)
        .await
        .unwrap();
    let token = issued.status.unwrap().token;
    let who = Api::<SelfSubjectReview>::all(cluster.client_with_token(&token).unwrap())
        .create(&PostParams::default(), &Default::default())
        .await
        .unwrap();
    let info = who.status.unwrap().user_info.unwrap();
    assert_eq!(
        info.username.as_deref(),
        Some("system:serviceaccount:default:robot")
    );
    assert!(
        info.groups
            .unwrap()
            .contains(&"system:serviceaccounts:default".to_string())
    );

    // Too short a lifetime is refused with the field named.
    let short = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(60),
            ..Default::default()
        },
        ..Default::default()
    };
    let (c, msg) = code(
        sas.create_token_request("robot", &PostParams::default(), &short)
            .await
            .unwrap_err(),
    );
    assert_eq!(c, 422, "{msg}");
    assert!(msg.contains("spec.expirationSeconds"), "{msg}");

    // Expired: signed with the cluster key two hours ago for one hour.
    let key = cluster.service_account_key().unwrap();
    let signer = TokenSigner::new(&key.private_pem, ironclad_testkit::ISSUER).unwrap();
    let spec = TokenSpec {
        namespace: "default".into(),
        service_account_name: "robot".into(),
        service_account_uid: sa.metadata.uid.clone().unwrap(),
        audiences: vec![ironclad_testkit::ISSUER.into()],
        expiration_seconds: 3600,
        ..Default::default()
    };
    let (expired, _) = signer
        .sign(&spec, SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    let (fresh, _) = signer.sign(&spec, SystemTime::now()).unwrap();
    let try_token = |t: String| {
        let c = cluster.client_with_token(&t).unwrap();
        async move { Api::<Namespace>::all(c).get("default").await }
    };
    assert_eq!(code(try_token(expired).await.unwrap_err()).0, 401);
    // Tampered: one character of the payload changed.
    let mut parts: Vec<String> = fresh.split('.').map(str::to_string).collect();
    let mut payload = parts[1].clone().into_bytes();
    payload[10] = if payload[10] == b'A' { b'B' } else { b'A' };
    parts[1] = String::from_utf8(payload).unwrap();
    assert_eq!(code(try_token(parts.join(".")).await.unwrap_err()).0, 401);
    // A fresh token works until its account is deleted.
    let c = cluster.client_with_token(&fresh).unwrap();
    let who = Api::<SelfSubjectReview>::all(c.clone())
        .create(&PostParams::default(), &Default::default())
        .await
        .unwrap();
    assert!(who.status.is_some());
    sas.delete("robot", &Default::default()).await.unwrap();
    let err = Api::<SelfSubjectReview>::all(c)
        .create(&PostParams::default(), &Default::default())
        .await
        .unwrap_err();
    assert_eq!(code(err).0, 401);
}

fn pod(name: &str, node: &str, secret: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "image": "busybox:1.35"}],
            "volumes": [{"name": "s", "secret": {"secretName": secret}}],
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn a_kubelet_reads_only_its_pods_secrets_and_writes_only_its_node() {
    let cluster = TestCluster::start().await.unwrap();
    let admin = cluster.client().unwrap();
    for n in ["n1", "n2"] {
        fake_node(&admin, n, "4", "8Gi").await.unwrap();
    }
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), "default");
    for s in ["mine", "theirs"] {
        let obj: Secret =
            serde_json::from_value(json!({"metadata": {"name": s}, "stringData": {"k": "v"}}))
                .unwrap();
        secrets.create(&PostParams::default(), &obj).await.unwrap();
    }
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "default");
    pods.create(&PostParams::default(), &pod("p1", "n1", "mine"))
        .await
        .unwrap();
    pods.create(&PostParams::default(), &pod("p2", "n2", "theirs"))
        .await
        .unwrap();

    let kubelet = cluster
        .client_as("system:node:n1", &["system:nodes"])
        .unwrap();
    let as_n1: Api<Secret> = Api::namespaced(kubelet.clone(), "default");
    eventually(
        "the kubelet reads its pod's secret",
        Duration::from_secs(10),
        || async { as_n1.get("mine").await.ok() },
    )
    .await;
    let (c, msg) = code(as_n1.get("theirs").await.unwrap_err());
    assert_eq!(c, 403, "{msg}");
    assert!(msg.contains("system:node:n1"), "{msg}");
    let (c, _) = code(as_n1.list(&Default::default()).await.unwrap_err());
    assert_eq!(c, 403);

    // Its own node's status, yes; another node, no.
    let nodes: Api<Node> = Api::all(kubelet.clone());
    let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok", "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
    nodes
        .patch_status("n1", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let (c, msg) = code(
        nodes
            .patch_status("n2", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_err(),
    );
    assert_eq!(c, 403, "{msg}");
    let (c, msg) = code(
        nodes
            .patch(
                "n2",
                &PatchParams::default(),
                &Patch::Merge(&json!({"metadata": {"labels": {"x": "y"}}})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(c, 403, "{msg}");
    // Pods bound elsewhere cannot be deleted by it; its own can.
    let its_pods: Api<Pod> = Api::namespaced(kubelet, "default");
    let (c, msg) = code(
        its_pods
            .delete("p2", &Default::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(c, 403, "{msg}");
    // As a kubelet does once the containers are gone: no grace period.
    let now = kube::api::DeleteParams {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    its_pods.delete("p1", &now).await.unwrap();
    // Once its pod is gone, so is its access to the secret.
    eventually(
        "the kubelet loses the secret",
        Duration::from_secs(10),
        || async {
            matches!(as_n1.get("mine").await, Err(kube::Error::Api(s)) if s.code == 403)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn quota_holds_under_fifty_concurrent_creates() {
    let cluster = TestCluster::start().await.unwrap();
    namespace(&cluster, "q").await;
    let admin = cluster.client().unwrap();
    let quotas: Api<ResourceQuota> = Api::namespaced(admin.clone(), "q");
    let q: ResourceQuota = serde_json::from_value(json!({
        "metadata": {"name": "cm"},
        "spec": {"hard": {"configmaps": "5"}},
    }))
    .unwrap();
    quotas.create(&PostParams::default(), &q).await.unwrap();
    // What the quota controller does first: publish hard and used.
    quotas
        .patch_status(
            "cm",
            &PatchParams::default(),
            &Patch::Merge(
                &json!({"status": {"hard": {"configmaps": "5"}, "used": {"configmaps": "0"}}}),
            ),
        )
        .await
        .unwrap();
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(admin.clone(), "q");
    for i in 0..4 {
        let c = serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        cms.create(&PostParams::default(), &c).await.unwrap();
    }
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..50 {
        let cms = cms.clone();
        racers.spawn(async move {
            let c =
                serde_json::from_value(json!({"metadata": {"name": format!("race{i}")}})).unwrap();
            cms.create(&PostParams::default(), &c).await
        });
    }
    let (mut won, mut refused) = (0, 0);
    while let Some(r) = racers.join_next().await {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(e) => {
                let (c, msg) = code(e);
                assert_eq!(c, 403, "{msg}");
                assert!(msg.contains("exceeded quota: cm"), "{msg}");
                refused += 1;
            }
        }
    }
    assert_eq!((won, refused), (1, 49));
    assert_eq!(cms.list(&Default::default()).await.unwrap().items.len(), 5);
    let used = quotas
        .get("cm")
        .await
        .unwrap()
        .status
        .unwrap()
        .used
        .unwrap();
    assert_eq!(used["configmaps"].0, "5");
}

#[tokio::test]
async fn pods_get_a_service_account_token_volume_and_limit_range_defaults() {
    let cluster = TestCluster::start().await.unwrap();
    let admin = cluster.client().unwrap();
    let ranges: Api<LimitRange> = Api::namespaced(admin.clone(), "default");
    let lr: LimitRange = serde_json::from_value(json!({
        "metadata": {"name": "defaults"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"}, "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"}}]},
    }))
    .unwrap();
    ranges.create(&PostParams::default(), &lr).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "default");
    let p: Pod = serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}})).unwrap();
    let created = pods.create(&PostParams::default(), &p).await.unwrap();
    let spec = created.spec.unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("default"));
    let volume = spec
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name.starts_with("kube-api-access-"))
        .unwrap();
    assert!(volume.projected.is_some());
    let c = &spec.containers[0];
    let mount = c
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.name == volume.name)
        .unwrap();
    assert_eq!(
        mount.mount_path,
        "/var/run/secrets/kubernetes.io/serviceaccount"
    );
    let res = c.resources.as_ref().unwrap();
    assert_eq!(res.limits.as_ref().unwrap()["cpu"].0, "500m");
    assert_eq!(res.requests.as_ref().unwrap()["cpu"].0, "100m");
    assert_eq!(res.requests.as_ref().unwrap()["memory"].0, "256Mi");
    // Over the maximum: refused with upstream's message.
    let big: Pod = serde_json::from_value(json!({"metadata": {"name": "big"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35", "resources": {"limits": {"cpu": "2"}}}]}})).unwrap();
    let (c, msg) = code(pods.create(&PostParams::default(), &big).await.unwrap_err());
    assert_eq!(c, 403, "{msg}");
    assert!(
        msg.contains("maximum cpu usage per Container is 1, but limit is 2"),
        "{msg}"
    );
    // A namespace that does not exist: 404; the kubelet may not create a
    // non-mirror pod.
    let nowhere: Api<Pod> = Api::namespaced(admin, "nowhere");
    assert_eq!(
        code(
            nowhere
                .create(&PostParams::default(), &p)
                .await
                .unwrap_err()
        )
        .0,
        404
    );
}

#[tokio::test]
async fn nobody_grants_permissions_they_do_not_hold() {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let cluster = TestCluster::start().await.unwrap();
    let admin = cluster.client().unwrap();
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": "binder"},
        "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings", "roles"], "verbs": ["create", "get", "list"]}],
    }))
    .unwrap();
    Api::<Role>::namespaced(admin.clone(), "default")
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding = |name: &str, kind: &str, role: &str| -> RoleBinding {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
        }))
        .unwrap()
    };
    Api::<RoleBinding>::namespaced(admin, "default")
        .create(
            &PostParams::default(),
            &binding("alice-binder", "Role", "binder"),
        )
        .await
        .unwrap();
    let alice = cluster.client_as("alice", &[]).unwrap();
    let as_alice: Api<RoleBinding> = Api::namespaced(alice.clone(), "default");
    // She may bind what she holds (eventually: RBAC follows a watch)...
    eventually(
        "alice may create bindings",
        Duration::from_secs(10),
        || async {
            as_alice
                .create(&PostParams::default(), &binding("again", "Role", "binder"))
                .await
                .ok()
        },
    )
    .await;
    // ...but not cluster-admin, nor a role with more than she has.
    let (c, msg) = code(
        as_alice
            .create(
                &PostParams::default(),
                &binding("grab", "ClusterRole", "cluster-admin"),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(c, 403, "{msg}");
    assert!(
        msg.contains("attempting to grant RBAC permissions not currently held"),
        "{msg}"
    );
    let wider: Role = serde_json::from_value(json!({
        "metadata": {"name": "wider"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    }))
    .unwrap();
    let (c, msg) = code(
        Api::<Role>::namespaced(alice, "default")
            .create(&PostParams::default(), &wider)
            .await
            .unwrap_err(),
    );
    assert_eq!(c, 403, "{msg}");
    assert!(msg.contains("not currently held"), "{msg}");
}

//! The ServiceAccount plugin against realistic pods and accounts.

use super::*;
use serde_json::json;

fn create_req() -> Request {
    let mut r = Request::new(Operation::Create, "", "pods");
    r.namespace = "ns".into();
    r.name = "web".into();
    r
}

fn sa(body: Value) -> ServiceAccount {
    serde_json::from_value(body).unwrap()
}

fn default_sa() -> ServiceAccount {
    sa(json!({"metadata": {"name": "default", "namespace": "ns"}}))
}

fn pod() -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [
                {"name": "app", "image": "nginx", "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                {"name": "side", "image": "envoy"}
            ],
            "volumes": [{"name": "data", "emptyDir": {}}]
        }
    })
}

#[test]
fn defaults_account_and_mounts_token() {
    let mut p = pod();
    admit_pod(&mut p, &create_req(), Some(&default_sa()), "abcde", false).unwrap();
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    let volumes = p["spec"]["volumes"].as_array().unwrap();
    assert_eq!(volumes.len(), 2);
    assert_eq!(volumes[1], token_volume("kube-api-access-abcde"));
    assert_eq!(volumes[1]["projected"]["defaultMode"], 420);
    assert_eq!(
        volumes[1]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
        3607
    );
    let want_mount =
        json!({"name": "kube-api-access-abcde", "readOnly": true, "mountPath": TOKEN_MOUNT_PATH});
    assert_eq!(
        p["spec"]["initContainers"][0]["volumeMounts"][0],
        want_mount
    );
    assert_eq!(p["spec"]["containers"][0]["volumeMounts"][1], want_mount);
    assert_eq!(p["spec"]["containers"][1]["volumeMounts"][0], want_mount);
    assert!(p["spec"].get("imagePullSecrets").is_none());
}

#[test]
fn automount_choices() {
    // (pod's choice, account's choice, mounted?)
    for (pod_says, sa_says, mounted) in [
        (None, None, true),
        (Some(false), None, false),
        (None, Some(false), false),
        (Some(true), Some(false), true),
        (Some(false), Some(true), false),
    ] {
        let mut p = pod();
        if let Some(b) = pod_says {
            p["spec"]["automountServiceAccountToken"] = json!(b);
        }
        let mut account = default_sa();
        account.automount_service_account_token = sa_says;
        admit_pod(&mut p, &create_req(), Some(&account), "x1y2z", false).unwrap();
        let has = p["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "kube-api-access-x1y2z");
        assert_eq!(has, mounted, "{pod_says:?} {sa_says:?}");
    }
}

#[test]
fn existing_mounts_and_volumes_are_kept() {
    let mut p = pod();
    p["spec"]["containers"][1]["volumeMounts"] =
        json!([{"name": "mine", "mountPath": TOKEN_MOUNT_PATH}]);
    p["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "kube-api-access-old12", "projected": {"sources": []}}));
    admit_pod(&mut p, &create_req(), Some(&default_sa()), "abcde", false).unwrap();
    // The existing token volume is reused, none added.
    assert_eq!(p["spec"]["volumes"].as_array().unwrap().len(), 2);
    assert_eq!(
        p["spec"]["containers"][0]["volumeMounts"][1]["name"],
        "kube-api-access-old12"
    );
    // The container that mounts the path itself is left alone.
    assert_eq!(
        p["spec"]["containers"][1]["volumeMounts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Every container mounts the path already: no volume at all.
    let mut p = json!({"spec": {"containers": [{"name": "a", "volumeMounts": [{"name": "v", "mountPath": TOKEN_MOUNT_PATH}]}]}});
    admit_pod(&mut p, &create_req(), Some(&default_sa()), "abcde", false).unwrap();
    assert!(p["spec"].get("volumes").is_none());
}

#[test]
fn missing_account() {
    let mut p = pod();
    p["spec"]["serviceAccountName"] = json!("builder");
    let e = admit_pod(&mut p, &create_req(), None, "abcde", true).unwrap_err();
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        r#"pods "web" is forbidden: error looking up service account ns/builder: serviceaccount "builder" not found"#
    );

    let mut p = pod();
    let e = admit_pod(&mut p, &create_req(), None, "abcde", false).unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "web" is forbidden: error looking up service account ns/default: serviceaccount "default" not found"#
    );

    // A young namespace may admit before its default account exists.
    let mut p = pod();
    admit_pod(&mut p, &create_req(), None, "abcde", true).unwrap();
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    assert_eq!(p["spec"]["volumes"][1]["name"], "kube-api-access-abcde");
}

#[test]
fn image_pull_secrets_come_from_the_account() {
    let account = sa(json!({
        "metadata": {"name": "default"},
        "imagePullSecrets": [{"name": "regcred"}, {"name": "other"}]
    }));
    let mut p = pod();
    admit_pod(&mut p, &create_req(), Some(&account), "abcde", false).unwrap();
    assert_eq!(
        p["spec"]["imagePullSecrets"],
        json!([{"name": "regcred"}, {"name": "other"}])
    );
    let mut p = pod();
    p["spec"]["imagePullSecrets"] = json!([{"name": "own"}]);
    admit_pod(&mut p, &create_req(), Some(&account), "abcde", false).unwrap();
    assert_eq!(p["spec"]["imagePullSecrets"], json!([{"name": "own"}]));
}

#[test]
fn mountable_secrets_are_enforced_when_asked() {
    let account = sa(json!({
        "metadata": {"name": "default", "annotations": {ENFORCE_MOUNTABLE_SECRETS_ANNOTATION: "true"}},
        "secrets": [{"name": "allowed"}],
        "imagePullSecrets": [{"name": "pull"}]
    }));
    let cases = [
        (
            json!({"containers": [{"name": "c", "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "allowed", "key": "k"}}}]}]}),
            None,
        ),
        (
            json!({"volumes": [{"name": "v", "secret": {"secretName": "other"}}], "containers": [{"name": "c"}]}),
            Some(
                r#"volume with secret.secretName="other" is not allowed because service account default does not reference that secret"#,
            ),
        ),
        (
            json!({"containers": [{"name": "c", "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "other", "key": "k"}}}]}]}),
            Some(
                r#"container c with envVar A referencing secret.secretName="other" is not allowed because service account default does not reference that secret"#,
            ),
        ),
        (
            json!({"initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "other"}}]}], "containers": [{"name": "c"}]}),
            Some(
                r#"init container i with envFrom referencing secret.secretName="other" is not allowed because service account default does not reference that secret"#,
            ),
        ),
        (
            json!({"containers": [{"name": "c"}], "imagePullSecrets": [{"name": "pull"}, {"name": "nope"}]}),
            Some(
                r#"imagePullSecrets[1].name="nope" is not allowed because service account default does not reference that imagePullSecret"#,
            ),
        ),
    ];
    for (spec, want) in cases {
        let mut p = json!({"metadata": {"name": "web"}, "spec": spec});
        let got = admit_pod(&mut p, &create_req(), Some(&account), "abcde", false)
            .err()
            .map(|e| e.message);
        assert_eq!(
            got,
            want.map(|w| format!(r#"pods "web" is forbidden: {w}"#)),
            "{spec}"
        );
    }
    // "false" or junk does not enforce.
    for v in ["false", "yes", ""] {
        let mut account = account.clone();
        account
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert(ENFORCE_MOUNTABLE_SECRETS_ANNOTATION.into(), v.into());
        let mut p = json!({"spec": {"volumes": [{"name": "v", "secret": {"secretName": "other"}}], "containers": [{"name": "c"}]}});
        admit_pod(&mut p, &create_req(), Some(&account), "abcde", false).unwrap();
    }
}

#[test]
fn mirror_pods() {
    let mirror = |spec: Value| json!({"metadata": {"name": "static-web", "annotations": {MIRROR_POD_ANNOTATION: "hash"}}, "spec": spec});
    let mut ok = mirror(json!({"containers": [{"name": "c"}], "nodeName": "n1"}));
    let before = ok.clone();
    admit_pod(&mut ok, &create_req(), None, "abcde", false).unwrap();
    assert_eq!(ok, before, "mirror pods are never changed");
    assert_eq!(account_to_look_up(&create_req(), &ok), None);

    for (spec, want) in [
        (
            json!({"serviceAccountName": "default", "containers": [{"name": "c"}]}),
            "a mirror pod may not reference service accounts",
        ),
        (
            json!({"containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "s"}}]}]}),
            "a mirror pod may not reference secrets",
        ),
        (
            json!({"containers": [{"name": "c"}], "volumes": [{"name": "t", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}]}),
            "a mirror pod may not use ServiceAccountToken volume projections",
        ),
    ] {
        let mut p = mirror(spec);
        let e = admit_pod(&mut p, &create_req(), None, "abcde", false).unwrap_err();
        assert_eq!(e.message, format!(r#"pods "web" is forbidden: {want}"#));
    }
}

#[test]
fn ephemeral_container_updates() {
    let mut req = create_req();
    req.operation = Operation::Update;
    req.subresource = "ephemeralcontainers".into();
    let account = sa(json!({
        "metadata": {"name": "runner", "annotations": {ENFORCE_MOUNTABLE_SECRETS_ANNOTATION: "true"}},
        "secrets": [{"name": "allowed"}]
    }));
    let mut p = json!({"metadata": {"name": "web"}, "spec": {
        "serviceAccountName": "runner",
        "containers": [{"name": "c"}],
        "ephemeralContainers": [{"name": "debug", "env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "other"}}}]}]
    }});
    assert_eq!(account_to_look_up(&req, &p).as_deref(), Some("runner"));
    let e = admit_pod(&mut p, &req, Some(&account), "abcde", false).unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "web" is forbidden: ephemeral container debug with envVar T referencing secret.secretName="other" is not allowed because service account runner does not reference that secret"#
    );
    p["spec"]["ephemeralContainers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"] =
        json!("allowed");
    let before = p.clone();
    admit_pod(&mut p, &req, Some(&account), "abcde", false).unwrap();
    assert_eq!(p, before);

    let mut no_sa = json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c"}]}});
    let e = admit_pod(&mut no_sa, &req, None, "abcde", false).unwrap_err();
    assert_eq!(
        e.message,
        r#"pods "web" is forbidden: no service account specified for pod ns/web"#
    );
}

#[test]
fn other_requests_and_bad_input_pass_untouched() {
    let mut update = create_req();
    update.operation = Operation::Update;
    let mut status = create_req();
    status.subresource = "status".into();
    let svc = Request::new(Operation::Create, "", "services");
    for r in [update, status, svc] {
        let mut p = pod();
        admit_pod(&mut p, &r, None, "abcde", false).unwrap();
        assert_eq!(p, pod());
    }
    for mut v in [json!(null), json!("pod"), json!([1, 2])] {
        admit_pod(&mut v, &create_req(), None, "abcde", false).unwrap();
    }
    // An object without a spec still gets its account defaulted.
    let mut v = json!({"metadata": {"name": "x"}});
    admit_pod(&mut v, &create_req(), Some(&default_sa()), "abcde", false).unwrap();
    assert_eq!(v["spec"]["serviceAccountName"], "default");
    // Containers that are not objects are skipped.
    let mut v = json!({"spec": {"containers": ["junk", {"name": "c", "volumeMounts": "junk"}]}});
    admit_pod(&mut v, &create_req(), Some(&default_sa()), "abcde", false).unwrap();
    assert_eq!(v["spec"]["containers"][0], "junk");
    assert_eq!(
        v["spec"]["containers"][1]["volumeMounts"][0]["mountPath"],
        TOKEN_MOUNT_PATH
    );
}

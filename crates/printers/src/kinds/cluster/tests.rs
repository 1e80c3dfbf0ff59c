use serde_json::json;

use crate::column_definitions;
use crate::tests::{ago, cells, column_names, info, wide_columns};

#[test]
fn leases() {
    let l = info("coordination.k8s.io", "leases");
    assert_eq!(column_names(l), ["Name", "Holder", "Age"]);
    let lease = json!({"metadata": {"name": "kube-scheduler", "creationTimestamp": ago(86400 * 3)},
                       "spec": {"holderIdentity": "cp-1_1a2b", "leaseDurationSeconds": 15}});
    assert_eq!(
        cells(l, lease),
        [json!("kube-scheduler"), json!("cp-1_1a2b"), json!("3d")]
    );
    assert_eq!(cells(l, json!({"metadata": {"name": "x"}}))[1], "");
}

#[test]
fn role_bindings() {
    let rb = info("rbac.authorization.k8s.io", "rolebindings");
    assert_eq!(
        column_names(rb),
        ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"]
    );
    assert_eq!(wide_columns(rb), ["Users", "Groups", "ServiceAccounts"]);
    let binding = json!({
        "metadata": {"name": "devs-edit", "namespace": "team", "creationTimestamp": ago(45)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "User", "name": "bob"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "team"},
            {"kind": "Robot", "name": "r2"},
        ],
    });
    assert_eq!(
        cells(rb, binding.clone()),
        [
            json!("devs-edit"),
            json!("ClusterRole/edit"),
            json!("45s"),
            json!("alice, bob"),
            json!("devs"),
            json!("team/ci"),
        ]
    );
    let crb = info("rbac.authorization.k8s.io", "clusterrolebindings");
    assert_eq!(column_names(crb), column_names(rb));
    assert_eq!(
        column_definitions(crb)[3]["description"],
        "Users in the clusterRoleBinding"
    );
    assert_eq!(
        column_definitions(rb)[3]["description"],
        "Users in the roleBinding"
    );
    assert_eq!(cells(crb, binding)[1], "ClusterRole/edit");
}

#[test]
fn the_generic_table_prints_the_creation_time() {
    let roles = info("rbac.authorization.k8s.io", "roles");
    let defs = column_definitions(roles);
    assert_eq!(defs[1]["name"], "Created At");
    assert_eq!(defs[1]["type"], "date");
    let role =
        json!({"metadata": {"name": "pod-reader", "creationTimestamp": "2024-01-02T03:04:05Z"}});
    assert_eq!(
        cells(roles, role),
        [json!("pod-reader"), json!("2024-01-02T03:04:05Z")]
    );
    let offset =
        json!({"metadata": {"name": "r", "creationTimestamp": "2024-01-02T05:04:05.5+02:00"}});
    assert_eq!(cells(roles, offset)[1], "2024-01-02T03:04:05Z");
    assert_eq!(cells(roles, json!({}))[1], "0001-01-01T00:00:00Z");
    let limits = info("", "limitranges");
    let lr = json!({"metadata": {"name": "mem-limits", "creationTimestamp": ago(10)}});
    assert_eq!(cells(limits, lr)[0], "mem-limits");
}

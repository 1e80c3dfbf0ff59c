//! The ClusterRole aggregation controller (upstream's
//! clusterrole-aggregation): a ClusterRole with an `aggregationRule` gets
//! as `rules` the union of the rules of every other ClusterRole that one of
//! its `clusterRoleSelectors` matches, roles taken by name, each rule once,
//! in order of first appearance. Any ClusterRole change re-runs every
//! aggregating role; the rules are written (server-side apply, as
//! upstream, forced) only when they differ.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, stream};
use ironclad_api::selector::LabelSelector;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Config as ApplierConfig, applier};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::{Context, Error, Result};

/// The field manager of the aggregated rules.
pub const FIELD_MANAGER: &str = "clusterrole-aggregation-controller";

struct State {
    client: Client,
    roles: Store<ClusterRole>,
}

/// Runs the controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let api: Api<ClusterRole> = Api::all(ctx.client.clone());
    let (roles, writer) = reflector::store::<ClusterRole>();
    let state = Arc::new(State {
        client: ctx.client.clone(),
        roles: roles.clone(),
    });
    // Every change (deletions too) may change what an aggregating role
    // selects: each one queues every aggregating role, once the cache is
    // complete.
    let queue = {
        let roles = roles.clone();
        reflector::reflector(writer, watcher(api, watcher::Config::default()))
            .default_backoff()
            .filter_map(move |event| {
                let roles = roles.clone();
                async move {
                    match event {
                        Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_))
                        | Ok(watcher::Event::InitDone) => Some(stream::iter(aggregating(&roles))),
                        Ok(_) => None,
                        Err(e) => {
                            tracing::warn!(error = %e, "clusterrole-aggregation: watch");
                            None
                        }
                    }
                }
            })
            .flatten()
            .map(Ok::<_, Infallible>)
    };
    applier(
        |role, state| Box::pin(reconcile(role, state)),
        |role, e, _| {
            tracing::warn!(clusterrole = %role.name_any(), error = %e, "clusterrole-aggregation: retrying");
            Action::requeue(Duration::from_secs(1))
        },
        state,
        roles,
        queue,
        ApplierConfig::default(),
    )
    .for_each(|r| async move {
        match r {
            Ok(_) | Err(kube::runtime::controller::Error::ObjectNotFound(_)) => {}
            Err(e) => tracing::debug!(error = %e, "clusterrole-aggregation"),
        }
    })
    .await;
    Err(Error::Invalid(
        "clusterrole-aggregation: the watch ended".into(),
    ))
}

/// The roles that aggregate others.
fn aggregating(roles: &Store<ClusterRole>) -> Vec<ObjectRef<ClusterRole>> {
    roles
        .state()
        .iter()
        .filter(|r| r.aggregation_rule.is_some())
        .map(|r| ObjectRef::from_obj(&**r))
        .collect()
}

async fn reconcile(role: Arc<ClusterRole>, state: Arc<State>) -> Result<Action> {
    let all = state.roles.state();
    let Some(rules) = aggregate(&role, all.iter().map(|r| &**r))? else {
        return Ok(Action::await_change());
    };
    if same_rules(&rules, role.rules.as_deref().unwrap_or_default()) {
        return Ok(Action::await_change());
    }
    let name = role.name_any();
    let apply = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    });
    Api::<ClusterRole>::all(state.client.clone())
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(apply),
        )
        .await?;
    tracing::debug!(clusterrole = %name, rules = rules.len(), "aggregated rules written");
    Ok(Action::await_change())
}

/// The rules `role` aggregates from `roles` (`None` if it aggregates
/// nothing), as `ironclad_auth` computes them for upstream's controller;
/// a selector that does not parse is an error here rather than matching
/// nothing, so the controller reports it.
pub fn aggregate<'a>(
    role: &ClusterRole,
    roles: impl Iterator<Item = &'a ClusterRole> + Clone,
) -> Result<Option<Vec<PolicyRule>>> {
    let Some(rule) = &role.aggregation_rule else {
        return Ok(None);
    };
    let name = role.name_any();
    for sel in rule.cluster_role_selectors.iter().flatten() {
        LabelSelector::from_k8s(sel)
            .map_err(|e| Error::Invalid(format!("clusterrole {name}: {e}")))?;
    }
    let all: Vec<ClusterRole> = roles.cloned().collect();
    Ok(Some(ironclad_auth::authz::rbac::aggregate_rules(
        role, &all,
    )))
}

fn same_rules(a: &[PolicyRule], b: &[PolicyRule]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| ironclad_auth::authz::rbac::same_rule(x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn role(v: Value) -> ClusterRole {
        serde_json::from_value(v).unwrap()
    }

    fn rule(verb: &str, resource: &str) -> Value {
        json!({"apiGroups": [""], "resources": [resource], "verbs": [verb]})
    }

    #[test]
    fn unions_matching_roles_by_name_without_repeats() {
        let agg = role(
            json!({"metadata": {"name": "view", "labels": {"to-view": "true"}},
            "aggregationRule": {"clusterRoleSelectors": [
                {"matchLabels": {"to-view": "true"}},
                {"matchLabels": {"extra": "yes"}}]},
            "rules": [rule("delete", "everything")]}),
        );
        let roles = [
            agg.clone(),
            role(
                json!({"metadata": {"name": "b", "labels": {"to-view": "true"}},
                "rules": [rule("get", "pods"), rule("list", "pods")]}),
            ),
            role(
                json!({"metadata": {"name": "a", "labels": {"to-view": "true", "extra": "yes"}},
                "rules": [rule("get", "pods"), {"apiGroups": [""], "resources": ["secrets"],
                          "verbs": ["get"], "resourceNames": []}]}),
            ),
            role(json!({"metadata": {"name": "c", "labels": {"other": "x"}},
                "rules": [rule("get", "nodes")]})),
        ];
        let got = aggregate(&agg, roles.iter()).unwrap().unwrap();
        let want: Vec<PolicyRule> = serde_json::from_value(json!([
            rule("get", "pods"),
            rule("get", "secrets"),
            rule("list", "pods")
        ]))
        .unwrap();
        // Equal as upstream compares rules: an empty list is an absent one.
        assert!(!same_rules(&got, agg.rules.as_deref().unwrap()));
        assert!(same_rules(&got, &want));
    }

    #[test]
    fn roles_without_a_rule_are_left_alone() {
        let plain = role(json!({"metadata": {"name": "p"}, "rules": [rule("get", "pods")]}));
        assert_eq!(aggregate(&plain, [plain.clone()].iter()).unwrap(), None);
        // An aggregation rule without selectors aggregates nothing.
        let empty = role(json!({"metadata": {"name": "e"}, "aggregationRule": {}}));
        assert_eq!(aggregate(&empty, [plain].iter()).unwrap(), Some(Vec::new()));
        let bad = role(
            json!({"metadata": {"name": "x"}, "aggregationRule": {"clusterRoleSelectors": [
            {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}]}}),
        );
        assert!(aggregate(&bad, std::iter::empty()).is_err());
    }
}

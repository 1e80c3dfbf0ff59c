//! Deleting everything in a namespace (upstream's
//! `namespacedResourcesDeleter.deleteAllContent`): for every namespaced
//! resource that can be deleted, delete the collection (or each object)
//! in the background, then list what is left.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PropagationPolicy};
use kube::discovery::verbs;

use super::conditions::Findings;
use crate::gc::resources::{Resource, Resources};

/// How long to wait for objects that finalizers hold (upstream: 15 s).
const FINALIZER_ESTIMATE_SECONDS: i64 = 15;

/// The result of one pass.
#[derive(Debug, Default)]
pub struct Pass {
    /// What was found, for the conditions.
    pub findings: Findings,
    /// Seconds to wait before looking again when objects are left (0: left
    /// without a reason, an error).
    pub estimate: i64,
}

impl Pass {
    /// Whether nothing is left and nothing failed.
    pub fn done(&self) -> bool {
        self.findings.remaining.is_empty()
            && self.findings.delete_errors.is_empty()
            && self.findings.discovery_error.is_none()
    }
}

/// Deletes everything in `namespace` (deleted at `deleted_at`).
pub async fn delete_all(client: &Client, namespace: &str, deleted_at: Timestamp) -> Pass {
    let mut pass = Pass::default();
    let resources = match Resources::discover(client).await {
        Ok(r) => r,
        Err(e) => {
            pass.findings.discovery_error = Some(e.to_string());
            return pass;
        }
    };
    for r in resources.namespaced_deletable() {
        if !r.supports(verbs::DELETE) {
            continue;
        }
        match delete_resource(client, r, namespace, deleted_at).await {
            Ok(left) => {
                if left.remaining > 0 {
                    let name = format!("{}.{}", r.api.plural, r.api.group);
                    pass.findings.remaining.insert(name, left.remaining);
                    for (f, n) in left.finalizers {
                        *pass.findings.finalizers.entry(f).or_default() += n;
                    }
                }
                pass.estimate = pass.estimate.max(left.estimate);
            }
            Err(e) => pass.findings.delete_errors.push(e),
        }
    }
    pass
}

/// What is left of one resource.
#[derive(Debug, Default)]
struct Left {
    remaining: usize,
    finalizers: BTreeMap<String, usize>,
    estimate: i64,
}

async fn delete_resource(
    client: &Client,
    r: &Resource,
    namespace: &str,
    deleted_at: Timestamp,
) -> Result<Left, String> {
    let fail = |what: &str, e: kube::Error| {
        format!(
            "failed to {what} {}.{} in namespace {namespace}: {e}",
            r.api.plural, r.api.group
        )
    };
    let estimate = if r.api.group.is_empty() && r.api.plural == "pods" {
        pods_estimate(client, namespace, deleted_at)
            .await
            .map_err(|e| fail("estimate the termination of", e))?
    } else {
        0
    };
    let api = r.api(client, Some(namespace));
    let background = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    };
    if r.supports(verbs::DELETE_COLLECTION) {
        ignore_gone(
            api.delete_collection(&background, &ListParams::default())
                .await,
        )
        .map_err(|e| fail("delete", e))?;
    } else {
        let list = api
            .list_metadata(&ListParams::default())
            .await
            .map_err(|e| fail("list", e))?;
        for item in list.items {
            if let Some(name) = item.metadata.name.as_deref() {
                ignore_gone(api.delete(name, &background).await).map_err(|e| fail("delete", e))?;
            }
        }
    }
    let left = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(|e| fail("list", e))?;
    if left.items.is_empty() {
        return Ok(Left::default());
    }
    let mut finalizers = BTreeMap::new();
    for item in &left.items {
        for f in item.metadata.finalizers.iter().flatten() {
            *finalizers.entry(f.clone()).or_default() += 1;
        }
    }
    let remaining = left.items.len();
    if estimate > 0 {
        return Ok(Left {
            remaining,
            finalizers,
            estimate,
        });
    }
    if !finalizers.is_empty() {
        return Ok(Left {
            remaining,
            finalizers,
            estimate: FINALIZER_ESTIMATE_SECONDS,
        });
    }
    Err(format!(
        "unexpected items still remain in namespace: {namespace} for gvr: {}/{}, Resource={}",
        r.api.group, r.api.version, r.api.plural
    ))
}

/// How long pods still running may take to stop: the longest grace period
/// of those not finished, unless that much time has passed since the
/// namespace was deleted.
async fn pods_estimate(
    client: &Client,
    namespace: &str,
    deleted_at: Timestamp,
) -> Result<i64, kube::Error> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut estimate = 0;
    for p in pods.list(&ListParams::default()).await?.items {
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            continue;
        }
        if let Some(g) = p
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
        {
            estimate = estimate.max(g);
        }
    }
    let elapsed = Timestamp::now().duration_since(deleted_at);
    if elapsed >= SignedDuration::from_secs(estimate) {
        estimate = 0;
    }
    Ok(estimate)
}

fn ignore_gone<T>(r: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 405 => Ok(()),
        Err(e) => Err(e),
    }
}

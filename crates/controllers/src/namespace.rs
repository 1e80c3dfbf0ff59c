//! The namespace controller (upstream's namespace lifecycle controller): a
//! deleted namespace (deletionTimestamp, phase Terminating, `kubernetes`
//! in spec.finalizers) is emptied — every namespaced resource discovery
//! lists is deleted in the background — and its status conditions say
//! what is left; once nothing is, `kubernetes` is removed through
//! `namespaces/{name}/finalize`, and the API server deletes the namespace
//! when no finalizer is left.

pub mod conditions;
pub mod content;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use crate::{Context, Error, Result};

/// The spec finalizer this controller owns.
pub const FINALIZER: &str = "kubernetes";
/// How many namespaces are emptied at once (upstream: 10).
const CONCURRENCY: u16 = 5;
/// How many times a write is retried on conflicts.
const CONFLICT_RETRIES: usize = 5;

/// Shared by the reconciles.
struct State {
    client: Client,
    /// Consecutive failures per namespace, for the backoff.
    failures: Mutex<HashMap<String, u32>>,
}

/// Runs the controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let api: Api<Namespace> = Api::all(ctx.client.clone());
    let state = Arc::new(State {
        client: ctx.client.clone(),
        failures: Mutex::new(HashMap::new()),
    });
    Controller::new(api, watcher::Config::default())
        .with_config(controller::Config::default().concurrency(CONCURRENCY))
        .run(reconcile, error_policy, state)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "namespace controller");
            }
        })
        .await;
    Ok(())
}

async fn reconcile(ns: Arc<Namespace>, state: Arc<State>) -> Result<Action> {
    if ns.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let action = terminate(&state.client, &name).await?;
    state
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&name);
    Ok(action)
}

fn error_policy(ns: Arc<Namespace>, e: &Error, state: Arc<State>) -> Action {
    let name = ns.name_any();
    let mut failures = state.failures.lock().unwrap_or_else(|e| e.into_inner());
    let n = failures.entry(name.clone()).or_insert(0);
    let delay = Duration::from_millis(100)
        .saturating_mul(2u32.saturating_pow(*n))
        .min(Duration::from_secs(60));
    *n = n.saturating_add(1);
    tracing::info!(namespace = %name, error = %e, ?delay, "namespace deletion: retrying");
    Action::requeue(delay)
}

/// One pass over a terminating namespace (upstream's deleter `Delete`).
async fn terminate(client: &Client, name: &str) -> Result<Action> {
    let api: Api<Namespace> = Api::all(client.clone());
    // Others edit terminating namespaces too: work from the latest.
    let Some(mut ns) = api.get_opt(name).await? else {
        return Ok(Action::await_change());
    };
    let Some(deleted_at) = ns.metadata.deletion_timestamp.clone() else {
        return Ok(Action::await_change());
    };
    let status = ns.status.get_or_insert_with(Default::default);
    if status.phase.as_deref() != Some("Terminating") {
        status.phase = Some("Terminating".into());
        ns = api
            .replace_status(name, &PostParams::default(), &ns)
            .await?;
    }
    if !has_finalizer(&ns) {
        return Ok(Action::await_change());
    }
    let pass = content::delete_all(client, name, deleted_at.0).await;
    let mut status = ns.status.clone().unwrap_or_default();
    if pass
        .findings
        .update(&mut status, Time(k8s_openapi::jiff::Timestamp::now()))
    {
        ns.status = Some(status);
        if let Err(e) = api.replace_status(name, &PostParams::default(), &ns).await {
            tracing::warn!(namespace = name, error = %e, "could not update the namespace's conditions");
        }
    }
    if !pass.done() {
        if pass.findings.delete_errors.is_empty()
            && pass.findings.discovery_error.is_none()
            && pass.estimate > 0
        {
            let wait = pass.estimate.unsigned_abs() / 2 + 1;
            tracing::debug!(namespace = name, remaining = ?pass.findings.remaining, wait, "namespace content remaining");
            return Ok(Action::requeue(Duration::from_secs(wait)));
        }
        let mut why = pass.findings.delete_errors.clone();
        why.extend(pass.findings.discovery_error.clone());
        return Err(Error::Invalid(format!(
            "namespace {name} is not empty yet: {}",
            why.join("; ")
        )));
    }
    finalize(&api, name).await?;
    tracing::info!(namespace = name, "namespace emptied and finalized");
    Ok(Action::await_change())
}

fn has_finalizer(ns: &Namespace) -> bool {
    ns.spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|x| x == FINALIZER))
}

/// Removes [`FINALIZER`] from spec.finalizers through `finalize`.
async fn finalize(api: &Api<Namespace>, name: &str) -> Result<()> {
    for _ in 0..CONFLICT_RETRIES {
        let Some(mut ns) = api.get_opt(name).await? else {
            return Ok(());
        };
        if !has_finalizer(&ns) {
            return Ok(());
        }
        if let Some(spec) = ns.spec.as_mut() {
            let mut kept: Vec<String> = spec
                .finalizers
                .take()
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != FINALIZER)
                .collect();
            kept.sort();
            kept.dedup();
            spec.finalizers = Some(kept);
        }
        match api
            .replace_subresource::<Namespace>("finalize", name, &PostParams::default(), &ns)
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Invalid(format!(
        "namespace {name} kept changing while finalizing it"
    )))
}

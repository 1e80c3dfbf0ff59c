//! The serviceaccount controller (upstream's serviceaccounts controller):
//! every Active namespace has a ServiceAccount `default`, created when the
//! namespace appears and again whenever it is deleted. Terminating
//! namespaces are left alone (the API server refuses new content there
//! anyway). Tokens are not this controller's business.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use crate::{Context, Error, Result};

/// The service accounts every namespace gets.
pub const ENSURED: &[&str] = &["default"];

/// Runs the controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(ctx.client.clone());
    let accounts: Api<ServiceAccount> = Api::all(ctx.client.clone());
    Controller::new(namespaces, watcher::Config::default())
        .watches(
            accounts,
            watcher::Config::default(),
            |sa: ServiceAccount| {
                // A change to an ensured account (its deletion above all) is a
                // reason to look at its namespace again.
                let ns = sa.namespace()?;
                ENSURED
                    .contains(&sa.name_any().as_str())
                    .then(|| ObjectRef::new(&ns))
            },
        )
        .run(reconcile, error_policy, Arc::new(ctx.client.clone()))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "serviceaccount controller");
            }
        })
        .await;
    Ok(())
}

async fn reconcile(ns: Arc<Namespace>, client: Arc<Client>) -> Result<Action> {
    let active = ns.metadata.deletion_timestamp.is_none()
        && ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Active");
    if !active {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let accounts: Api<ServiceAccount> = Api::namespaced((*client).clone(), &name);
    let mut failures = Vec::new();
    for account in ENSURED {
        if accounts.get_opt(account).await?.is_some() {
            continue;
        }
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(account.to_string()),
                namespace: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        match accounts.create(&PostParams::default(), &sa).await {
            Ok(_) => tracing::debug!(namespace = %name, account, "service account created"),
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            // The namespace started terminating meanwhile.
            Err(kube::Error::Api(s)) if s.code == 403 && terminating(&s) => {}
            Err(e) => failures.push(format!("{account}: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(Action::await_change())
    } else {
        Err(Error::Invalid(format!(
            "creating service accounts in {name}: {}",
            failures.join("; ")
        )))
    }
}

fn terminating(s: &kube::core::Status) -> bool {
    s.details
        .as_ref()
        .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
}

fn error_policy(ns: Arc<Namespace>, e: &Error, _: Arc<Client>) -> Action {
    tracing::warn!(namespace = %ns.name_any(), error = %e, "serviceaccount controller: retrying");
    Action::requeue(Duration::from_secs(1))
}

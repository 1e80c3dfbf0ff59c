//! The root CA publisher (upstream's root-ca-cert-publisher): every
//! namespace has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the
//! cluster CA's certificate, so that pods can verify the API server. It is
//! created when a namespace appears and put back when it is deleted or
//! changed. Without a CA ([`crate::Config::root_ca_pem`]) the controller
//! does nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use crate::{Context, Result};

/// The ConfigMap's name.
pub const CONFIG_MAP_NAME: &str = "kube-root-ca.crt";
/// The key of the certificate in it.
pub const CA_KEY: &str = "ca.crt";
/// The annotation describing it.
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
/// What the annotation says (upstream's text).
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

struct State {
    client: Client,
    ca: String,
}

/// Runs the controller until aborted (at once when there is no CA).
pub async fn run(ctx: Context) -> Result<()> {
    let Some(ca) = ctx.config.root_ca_pem.clone() else {
        tracing::info!("root-ca-cert-publisher: no cluster CA configured; not publishing");
        return Ok(());
    };
    let namespaces: Api<Namespace> = Api::all(ctx.client.clone());
    let maps: Api<ConfigMap> = Api::all(ctx.client.clone());
    let state = Arc::new(State {
        client: ctx.client.clone(),
        ca,
    });
    Controller::new(namespaces, watcher::Config::default())
        .watches(
            maps,
            watcher::Config::default().fields(&format!("metadata.name={CONFIG_MAP_NAME}")),
            |cm: ConfigMap| Some(ObjectRef::new(&cm.namespace()?)),
        )
        .run(reconcile, error_policy, state)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "root-ca-cert-publisher");
            }
        })
        .await;
    Ok(())
}

/// The data the ConfigMap must hold.
fn wanted(ca: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(CA_KEY.to_string(), ca.to_string())])
}

async fn reconcile(ns: Arc<Namespace>, state: Arc<State>) -> Result<Action> {
    if ns.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let api: Api<ConfigMap> = Api::namespaced(state.client.clone(), &name);
    let data = wanted(&state.ca);
    let Some(mut cm) = api.get_opt(CONFIG_MAP_NAME).await? else {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(CONFIG_MAP_NAME.into()),
                namespace: Some(name.clone()),
                annotations: Some(BTreeMap::from([(
                    DESCRIPTION_ANNOTATION.to_string(),
                    DESCRIPTION.to_string(),
                )])),
                ..Default::default()
            },
            data: Some(data),
            ..Default::default()
        };
        return match api.create(&PostParams::default(), &cm).await {
            Ok(_) => {
                tracing::debug!(namespace = %name, "root CA ConfigMap created");
                Ok(Action::await_change())
            }
            // Gone or terminating meanwhile: nothing to publish into. A
            // conflict means another write won; its watch event comes.
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {
                Ok(Action::await_change())
            }
            Err(kube::Error::Api(s)) if s.code == 403 && terminating(&s) => {
                Ok(Action::await_change())
            }
            Err(e) => Err(e.into()),
        };
    };
    let described = cm
        .annotations()
        .get(DESCRIPTION_ANNOTATION)
        .is_some_and(|d| !d.is_empty());
    if cm.data.as_ref() == Some(&data) && described {
        return Ok(Action::await_change());
    }
    cm.data = Some(data);
    cm.annotations_mut()
        .insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
    api.replace(CONFIG_MAP_NAME, &PostParams::default(), &cm)
        .await?;
    tracing::debug!(namespace = %name, "root CA ConfigMap restored");
    Ok(Action::await_change())
}

fn terminating(s: &kube::core::Status) -> bool {
    s.details
        .as_ref()
        .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
}

fn error_policy(ns: Arc<Namespace>, e: &crate::Error, _: Arc<State>) -> Action {
    tracing::warn!(namespace = %ns.name_any(), error = %e, "root-ca-cert-publisher: retrying");
    Action::requeue(Duration::from_secs(1))
}

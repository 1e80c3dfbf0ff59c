//! Pods made from a controller's pod template (upstream's
//! `GetPodFromTemplate` and `RealPodControl.CreatePods`).

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, PostParams};

use crate::{Error, Result};

/// The pod `template` describes, named `<owner>-<random>` by the API
/// server, with the template's labels, annotations and finalizers and
/// `controller_ref` as its controller.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    owner_name: &str,
    controller_ref: OwnerReference,
) -> Pod {
    let tmeta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name_prefix(owner_name)),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![controller_ref]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// `<name>-`, or the name alone when the dash would make the prefix of a
/// generated name too long to be valid (upstream's `getPodsPrefix`).
fn generate_name_prefix(owner_name: &str) -> String {
    let prefix = format!("{owner_name}-");
    // A generated name is the prefix and five characters; the server
    // truncates long prefixes, upstream's check only refuses names that
    // could never be valid (longer than a DNS subdomain).
    if prefix.len() > 253 {
        owner_name.to_string()
    } else {
        prefix
    }
}

/// Creates the pod for `template` in `namespace`. A template without
/// labels is refused before asking the server, as upstream refuses it:
/// such a pod could never be found again by its controller.
pub async fn create_pod(
    pods: &Api<Pod>,
    template: &PodTemplateSpec,
    owner_name: &str,
    controller_ref: OwnerReference,
) -> Result<Pod> {
    let pod = pod_from_template(template, owner_name, controller_ref);
    if pod.metadata.labels.as_ref().is_none_or(|l| l.is_empty()) {
        return Err(Error::Invalid(
            "unable to create pods, no labels".to_string(),
        ));
    }
    Ok(pods.create(&PostParams::default(), &pod).await?)
}

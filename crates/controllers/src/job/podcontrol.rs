//! The Job controller's writes to pods: new pods from the Job's template,
//! deletions, and the patches that move the tracking finalizer and the
//! controller reference (upstream's `PodControl` and `ControllerRefManager`
//! as the Job controller uses them).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, ObjectFieldSelector, Pod, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use super::pods::{COMPLETION_INDEX_ANNOTATION, TRACKING_FINALIZER};

/// Longest prefix a generated name keeps (upstream's
/// `MaxGeneratedNameLength`: 63 less the 5 random characters).
const MAX_GENERATED_NAME_LENGTH: usize = 58;
/// The characters of generated name suffixes (upstream's, without vowels
/// and look-alikes).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// The environment variable holding an Indexed Job pod's index.
const COMPLETION_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// The controller reference a Job puts on its pods.
pub(crate) fn controller_ref(job: &Job) -> OwnerReference {
    OwnerReference {
        api_version: Job::api_version(&()).into_owned(),
        kind: Job::kind(&()).into_owned(),
        name: job.name_any(),
        uid: job.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `prefix` + 5 random characters, as the API server generates names. The
/// controller picks the name itself (keeping `generateName` on the pod) so
/// that it knows which pod to expect before the create returns.
pub(crate) fn generate_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut bits = h.finish();
    let base: String = prefix.chars().take(MAX_GENERATED_NAME_LENGTH).collect();
    let mut name = base;
    for _ in 0..5 {
        let i = usize::try_from(bits % ALPHANUMS.len() as u64).unwrap_or(0);
        name.push(char::from(ALPHANUMS[i]));
        bits /= ALPHANUMS.len() as u64;
    }
    name
}

/// The `generateName` of a Job's pods: `<job>-`, or `<job>-<index>-` for
/// an Indexed Job (the job name cut so the index stays).
pub(crate) fn pod_prefix(job: &str, index: Option<i32>) -> String {
    match index {
        None => format!("{job}-"),
        Some(ix) => {
            let suffix = format!("-{ix}-");
            let prefix = format!("{job}{suffix}");
            if prefix.len() > MAX_GENERATED_NAME_LENGTH {
                let keep = MAX_GENERATED_NAME_LENGTH.saturating_sub(suffix.len());
                format!("{}{suffix}", job.chars().take(keep).collect::<String>())
            } else {
                prefix
            }
        }
    }
}

/// A new pod of `job` (for completion `index` if Indexed): the template's
/// labels, annotations, finalizers (plus the tracking finalizer) and spec,
/// owned by the Job.
pub(crate) fn new_pod(job: &Job, index: Option<i32>) -> Pod {
    let template: PodTemplateSpec = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let tm = template.metadata.unwrap_or_default();
    let mut labels = tm.labels.unwrap_or_default();
    let mut annotations = tm.annotations.unwrap_or_default();
    let mut finalizers = tm.finalizers.unwrap_or_default();
    if !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
        finalizers.push(TRACKING_FINALIZER.to_string());
    }
    let mut spec = template.spec.unwrap_or_default();
    let prefix = pod_prefix(&job.name_any(), index);
    if let Some(ix) = index {
        for c in spec
            .init_containers
            .iter_mut()
            .flatten()
            .chain(spec.containers.iter_mut())
        {
            add_index_env(c);
        }
        annotations.insert(COMPLETION_INDEX_ANNOTATION.into(), ix.to_string());
        labels.insert(COMPLETION_INDEX_ANNOTATION.into(), ix.to_string());
        spec.hostname = Some(format!("{}-{ix}", job.name_any()));
    }
    let opt = |m: BTreeMap<String, String>| (!m.is_empty()).then_some(m);
    Pod {
        metadata: ObjectMeta {
            name: Some(generate_name(&prefix)),
            generate_name: Some(prefix),
            namespace: job.namespace(),
            labels: opt(labels),
            annotations: opt(annotations),
            finalizers: Some(finalizers),
            owner_references: Some(vec![controller_ref(job)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

fn add_index_env(c: &mut Container) {
    let env = c.env.get_or_insert_with(Vec::new);
    if env.iter().any(|e| e.name == COMPLETION_INDEX_ENV) {
        return;
    }
    env.push(EnvVar {
        name: COMPLETION_INDEX_ENV.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: format!("metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"),
            }),
            ..Default::default()
        }),
    });
}

/// Pod writes in one namespace.
pub(crate) struct PodControl {
    api: Api<Pod>,
}

// === impl PodControl ===

impl PodControl {
    /// Pods of `namespace`.
    pub fn new(client: Client, namespace: &str) -> PodControl {
        PodControl {
            api: Api::namespaced(client, namespace),
        }
    }

    /// Creates `pod`.
    pub async fn create(&self, pod: &Pod) -> kube::Result<Pod> {
        self.api.create(&PostParams::default(), pod).await
    }

    /// Deletes the pod `name` (its own grace period); gone already is fine.
    pub async fn delete(&self, name: &str) -> kube::Result<()> {
        match self.api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Removes the tracking finalizer (a strategic merge patch deleting the
    /// one list element, as upstream).
    pub async fn remove_tracking_finalizer(&self, name: &str) -> kube::Result<()> {
        let patch =
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}});
        self.api
            .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
            .await
            .map(|_| ())
    }

    /// Makes `job` the pod's controller and adds the tracking finalizer.
    pub async fn adopt(&self, pod: &Pod, job: &Job) -> kube::Result<()> {
        let patch = json!({"metadata": {
            "ownerReferences": [controller_ref(job)],
            "uid": pod.metadata.uid,
            "finalizers": [TRACKING_FINALIZER],
        }});
        self.api
            .patch(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Strategic(patch),
            )
            .await
            .map(|_| ())
    }

    /// Drops `job`'s reference from a pod it no longer selects.
    pub async fn release(&self, pod: &Pod, job: &Job) -> kube::Result<()> {
        let patch = json!({"metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": job.metadata.uid}],
            "uid": pod.metadata.uid,
        }});
        self.api
            .patch(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Strategic(patch),
            )
            .await
            .map(|_| ())
    }
}

/// A 404 from the API.
pub(crate) fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// A 409 from the API.
pub(crate) fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::api::core::v1::PodSpec;

    use super::*;

    fn job() -> Job {
        Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                namespace: Some("ns".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(JobSpec {
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(BTreeMap::from([("job-name".into(), "pi".into())])),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "c".into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn pods_carry_the_owner_finalizer_and_a_generated_name() {
        let p = new_pod(&job(), None);
        let m = &p.metadata;
        assert_eq!(m.generate_name.as_deref(), Some("pi-"));
        let name = m.name.as_deref().unwrap();
        assert!(name.starts_with("pi-") && name.len() == 8, "{name}");
        assert_eq!(
            m.finalizers.as_deref(),
            Some(&[TRACKING_FINALIZER.to_string()][..])
        );
        let owner = &m.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Job", "u1"));
        assert_eq!(
            (owner.controller, owner.block_owner_deletion),
            (Some(true), Some(true))
        );
        assert_ne!(generate_name("pi-"), generate_name("pi-"));
    }

    #[test]
    fn indexed_pods_get_index_annotation_label_hostname_and_env() {
        let p = new_pod(&job(), Some(3));
        assert_eq!(p.metadata.generate_name.as_deref(), Some("pi-3-"));
        assert_eq!(p.annotations()[COMPLETION_INDEX_ANNOTATION], "3");
        assert_eq!(p.labels()[COMPLETION_INDEX_ANNOTATION], "3");
        let spec = p.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("pi-3"));
        let env = spec.containers[0].env.as_ref().unwrap();
        assert_eq!(env[0].name, COMPLETION_INDEX_ENV);
        let long = "x".repeat(60);
        assert_eq!(pod_prefix(&long, Some(12)).len(), MAX_GENERATED_NAME_LENGTH);
        assert!(pod_prefix(&long, Some(12)).ends_with("-12-"));
    }
}

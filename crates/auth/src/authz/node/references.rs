//! What a pod or a persistent volume refers to, as upstream's
//! `VisitPodSecretNames`, `VisitPodConfigmapNames` and
//! `VisitPVSecretNames` find it: the objects a kubelet running the pod (or
//! mounting the volume) needs to read.

use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, EphemeralContainer, PersistentVolume, Pod, SecretReference,
};

/// The annotation of a mirror pod (a static pod's copy in the API).
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The objects, in the pod's namespace, that a pod refers to. Each list
/// holds every name once, in the order first met.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodReferences {
    /// Secrets: image pull secrets, env and envFrom of every container
    /// (init and ephemeral ones too), and volumes.
    pub secrets: Vec<String>,
    /// ConfigMaps: env, envFrom, and volumes.
    pub config_maps: Vec<String>,
    /// PersistentVolumeClaims: claims of volumes, and the claims of generic
    /// ephemeral volumes (`<pod>-<volume>`).
    pub claims: Vec<String>,
    /// ResourceClaims (dynamic resource allocation).
    pub resource_claims: Vec<String>,
    /// The service account.
    pub service_account: Option<String>,
}

impl PodReferences {
    /// What `pod` refers to. A mirror pod refers to nothing: a node creates
    /// mirror pods, and must not gain access to anything by doing so.
    pub fn of(pod: &Pod) -> PodReferences {
        let mut refs = PodReferences::default();
        let is_mirror = pod
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION));
        let Some(spec) = pod.spec.as_ref().filter(|_| !is_mirror) else {
            return refs;
        };
        refs.service_account = spec
            .service_account_name
            .as_ref()
            .or(spec.service_account.as_ref())
            .filter(|s| !s.is_empty())
            .cloned();
        for secret in spec.image_pull_secrets.iter().flatten() {
            push(&mut refs.secrets, &secret.name);
        }
        let containers = spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers);
        for container in containers {
            refs.env(container_env(container));
        }
        for container in spec.ephemeral_containers.iter().flatten() {
            refs.env(ephemeral_env(container));
        }
        let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
        for volume in spec.volumes.iter().flatten() {
            if let Some(s) = &volume.azure_file {
                push(&mut refs.secrets, &s.secret_name);
            }
            let local_refs = [
                volume.cephfs.as_ref().and_then(|s| s.secret_ref.as_ref()),
                volume.cinder.as_ref().and_then(|s| s.secret_ref.as_ref()),
                volume
                    .flex_volume
                    .as_ref()
                    .and_then(|s| s.secret_ref.as_ref()),
                volume.rbd.as_ref().and_then(|s| s.secret_ref.as_ref()),
                volume.scale_io.as_ref().map(|s| &s.secret_ref),
                volume.iscsi.as_ref().and_then(|s| s.secret_ref.as_ref()),
                volume
                    .storageos
                    .as_ref()
                    .and_then(|s| s.secret_ref.as_ref()),
                volume
                    .csi
                    .as_ref()
                    .and_then(|s| s.node_publish_secret_ref.as_ref()),
            ];
            for reference in local_refs.into_iter().flatten() {
                push(&mut refs.secrets, &reference.name);
            }
            if let Some(name) = volume.secret.as_ref().and_then(|s| s.secret_name.as_ref()) {
                push(&mut refs.secrets, name);
            }
            if let Some(config_map) = &volume.config_map {
                push(&mut refs.config_maps, &config_map.name);
            }
            let sources = volume.projected.as_ref().and_then(|p| p.sources.as_ref());
            for source in sources.into_iter().flatten() {
                if let Some(secret) = &source.secret {
                    push(&mut refs.secrets, &secret.name);
                }
                if let Some(config_map) = &source.config_map {
                    push(&mut refs.config_maps, &config_map.name);
                }
            }
            if let Some(claim) = &volume.persistent_volume_claim {
                push(&mut refs.claims, &claim.claim_name);
            } else if volume.ephemeral.is_some() {
                push(&mut refs.claims, &format!("{pod_name}-{}", volume.name));
            }
        }
        for claim in spec.resource_claims.iter().flatten() {
            if let Some(name) = resource_claim_name(pod, claim) {
                push(&mut refs.resource_claims, &name);
            }
        }
        refs
    }

    fn env<'a>(&mut self, (env, env_from): (&'a [EnvVar], &'a [EnvFromSource])) {
        for var in env {
            let Some(source) = &var.value_from else {
                continue;
            };
            if let Some(secret) = &source.secret_key_ref {
                push(&mut self.secrets, &secret.name);
            }
            if let Some(config_map) = &source.config_map_key_ref {
                push(&mut self.config_maps, &config_map.name);
            }
        }
        for source in env_from {
            if let Some(secret) = &source.secret_ref {
                push(&mut self.secrets, &secret.name);
            }
            if let Some(config_map) = &source.config_map_ref {
                push(&mut self.config_maps, &config_map.name);
            }
        }
    }
}

fn container_env(c: &Container) -> (&[EnvVar], &[EnvFromSource]) {
    (
        c.env.as_deref().unwrap_or_default(),
        c.env_from.as_deref().unwrap_or_default(),
    )
}

fn ephemeral_env(c: &EphemeralContainer) -> (&[EnvVar], &[EnvFromSource]) {
    (
        c.env.as_deref().unwrap_or_default(),
        c.env_from.as_deref().unwrap_or_default(),
    )
}

/// The ResourceClaim a pod's claim entry stands for: its own name, or the
/// claim generated from its template as the pod's status records it (none
/// yet, or none needed, otherwise).
fn resource_claim_name(
    pod: &Pod,
    claim: &k8s_openapi::api::core::v1::PodResourceClaim,
) -> Option<String> {
    if let Some(name) = &claim.resource_claim_name {
        return Some(name.clone());
    }
    claim.resource_claim_template_name.as_ref()?;
    pod.status
        .as_ref()?
        .resource_claim_statuses
        .as_ref()?
        .iter()
        .find(|s| s.name == claim.name)?
        .resource_claim_name
        .clone()
}

fn push(list: &mut Vec<String>, name: &str) {
    if !name.is_empty() && !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

/// The secrets (namespace, name) a kubelet mounting `pv` reads: those of
/// its volume source that the node uses (not the controller-side CSI
/// secrets). A reference without a namespace defaults to the bound
/// claim's.
pub fn pv_secrets(pv: &PersistentVolume) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let Some(spec) = &pv.spec else {
        return out;
    };
    let claim_namespace = spec
        .claim_ref
        .as_ref()
        .and_then(|c| c.namespace.clone())
        .unwrap_or_default();
    let mut add = |namespace: &str, name: &str| {
        let entry = (namespace.to_string(), name.to_string());
        if !name.is_empty() && !out.contains(&entry) {
            out.push(entry);
        }
    };
    let defaulted = |reference: &SecretReference| -> (String, String) {
        let namespace = reference
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| claim_namespace.clone());
        (namespace, reference.name.clone().unwrap_or_default())
    };
    if let Some(azure) = &spec.azure_file {
        let namespace = azure
            .secret_namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| claim_namespace.clone());
        add(&namespace, &azure.secret_name);
    }
    let with_defaults = [
        spec.cephfs.as_ref().and_then(|s| s.secret_ref.as_ref()),
        spec.cinder.as_ref().and_then(|s| s.secret_ref.as_ref()),
        spec.flex_volume
            .as_ref()
            .and_then(|s| s.secret_ref.as_ref()),
        spec.rbd.as_ref().and_then(|s| s.secret_ref.as_ref()),
        spec.scale_io.as_ref().map(|s| &s.secret_ref),
        spec.iscsi.as_ref().and_then(|s| s.secret_ref.as_ref()),
    ];
    for reference in with_defaults.into_iter().flatten() {
        let (namespace, name) = defaulted(reference);
        add(&namespace, &name);
    }
    if let Some(reference) = spec.storageos.as_ref().and_then(|s| s.secret_ref.as_ref()) {
        add(
            reference.namespace.as_deref().unwrap_or_default(),
            reference.name.as_deref().unwrap_or_default(),
        );
    }
    if let Some(csi) = &spec.csi {
        let node_side = [
            &csi.node_publish_secret_ref,
            &csi.node_stage_secret_ref,
            &csi.node_expand_secret_ref,
        ];
        for reference in node_side.into_iter().flatten() {
            add(
                reference.namespace.as_deref().unwrap_or_default(),
                reference.name.as_deref().unwrap_or_default(),
            );
        }
    }
    out
}

//! The Kubernetes vendor extensions that k8s-openapi's generated schemas
//! leave out: patch strategies and merge keys (kubectl's client-side apply
//! builds its strategic merge patches from them, and the server must merge
//! with the same keys), list and map types (server-side apply), and atomic
//! structs. Transcribed from the `patchStrategy`/`patchMergeKey` tags and
//! `+listType`/`+listMapKey`/`+mapType`/`+structType` markers of the
//! Kubernetes 1.33 API types, for the definitions ironclad serves.

use serde_json::{Map, Value};

/// One line per property (`<definition>.<property> key=value...`) or per
/// atomic struct (`<definition> struct=atomic`). Definitions are named
/// without their `io.k8s.api.` prefix (`meta.` stands for
/// `io.k8s.apimachinery.pkg.apis.meta.`). Keys: `patch` strategy, merge
/// `key`, `list` type, list map `keys` (comma separated), `map` type.
const TABLE: &str = "
apps.v1.DeploymentSpec.strategy patch=retainKeys
apps.v1.DeploymentStatus.conditions patch=merge key=type list=map keys=type
apps.v1.ReplicaSetStatus.conditions patch=merge key=type list=map keys=type
authentication.v1.TokenRequestSpec.audiences list=atomic
authentication.v1.UserInfo.groups list=atomic
authorization.v1.FieldSelectorAttributes.requirements list=atomic
authorization.v1.LabelSelectorAttributes.requirements list=atomic
authorization.v1.NonResourceRule.verbs list=atomic
authorization.v1.NonResourceRule.nonResourceURLs list=atomic
authorization.v1.ResourceRule.verbs list=atomic
authorization.v1.ResourceRule.apiGroups list=atomic
authorization.v1.ResourceRule.resources list=atomic
authorization.v1.ResourceRule.resourceNames list=atomic
authorization.v1.SubjectAccessReviewSpec.groups list=atomic
authorization.v1.SubjectRulesReviewStatus.resourceRules list=atomic
authorization.v1.SubjectRulesReviewStatus.nonResourceRules list=atomic
batch.v1.CronJobStatus.active list=atomic
batch.v1.JobStatus.conditions patch=merge key=type list=atomic
batch.v1.PodFailurePolicy.rules list=atomic
batch.v1.PodFailurePolicyOnExitCodesRequirement.values list=set
batch.v1.PodFailurePolicyRule.onPodConditions list=atomic
batch.v1.SuccessPolicy.rules list=atomic
batch.v1.UncountedTerminatedPods.succeeded list=set
batch.v1.UncountedTerminatedPods.failed list=set
core.v1.Capabilities.add list=atomic
core.v1.Capabilities.drop list=atomic
core.v1.CephFSVolumeSource.monitors list=atomic
core.v1.ConfigMapProjection.items list=atomic
core.v1.ConfigMapVolumeSource.items list=atomic
core.v1.Container.command list=atomic
core.v1.Container.args list=atomic
core.v1.Container.ports patch=merge key=containerPort list=map keys=containerPort,protocol
core.v1.Container.envFrom list=atomic
core.v1.Container.env patch=merge key=name list=map keys=name
core.v1.Container.resizePolicy list=atomic
core.v1.Container.volumeMounts patch=merge key=mountPath list=map keys=mountPath
core.v1.Container.volumeDevices patch=merge key=devicePath list=map keys=devicePath
core.v1.ContainerImage.names list=atomic
core.v1.ContainerStatus.volumeMounts patch=merge key=mountPath list=map keys=mountPath
core.v1.ContainerStatus.allocatedResourcesStatus patch=merge key=name list=map keys=name
core.v1.DownwardAPIProjection.items list=atomic
core.v1.DownwardAPIVolumeSource.items list=atomic
core.v1.EndpointSubset.addresses list=atomic
core.v1.EndpointSubset.notReadyAddresses list=atomic
core.v1.EndpointSubset.ports list=atomic
core.v1.Endpoints.subsets list=atomic
core.v1.EphemeralContainer.command list=atomic
core.v1.EphemeralContainer.args list=atomic
core.v1.EphemeralContainer.ports patch=merge key=containerPort list=map keys=containerPort,protocol
core.v1.EphemeralContainer.envFrom list=atomic
core.v1.EphemeralContainer.env patch=merge key=name list=map keys=name
core.v1.EphemeralContainer.resizePolicy list=atomic
core.v1.EphemeralContainer.volumeMounts patch=merge key=mountPath list=map keys=mountPath
core.v1.EphemeralContainer.volumeDevices patch=merge key=devicePath list=map keys=devicePath
core.v1.ExecAction.command list=atomic
core.v1.FCVolumeSource.targetWWNs list=atomic
core.v1.FCVolumeSource.wwids list=atomic
core.v1.HTTPGetAction.httpHeaders list=atomic
core.v1.HostAlias.hostnames list=atomic
core.v1.ISCSIVolumeSource.portals list=atomic
core.v1.LimitRangeSpec.limits list=atomic
core.v1.LinuxContainerUser.supplementalGroups list=atomic
core.v1.LoadBalancerIngress.ports list=atomic
core.v1.LoadBalancerStatus.ingress list=atomic
core.v1.NamespaceSpec.finalizers list=atomic
core.v1.NamespaceStatus.conditions patch=merge key=type list=map keys=type
core.v1.NodeAffinity.preferredDuringSchedulingIgnoredDuringExecution list=atomic
core.v1.NodeSelector.nodeSelectorTerms list=atomic
core.v1.NodeSelectorRequirement.values list=atomic
core.v1.NodeSelectorTerm.matchExpressions list=atomic
core.v1.NodeSelectorTerm.matchFields list=atomic
core.v1.NodeSpec.podCIDRs patch=merge list=set
core.v1.NodeSpec.taints list=atomic
core.v1.NodeStatus.conditions patch=merge key=type list=map keys=type
core.v1.NodeStatus.addresses patch=merge key=type list=map keys=type
core.v1.NodeStatus.images list=atomic
core.v1.NodeStatus.volumesInUse list=atomic
core.v1.NodeStatus.volumesAttached list=atomic
core.v1.NodeStatus.runtimeHandlers list=atomic
core.v1.PersistentVolumeClaimSpec.accessModes list=atomic
core.v1.PodAffinity.requiredDuringSchedulingIgnoredDuringExecution list=atomic
core.v1.PodAffinity.preferredDuringSchedulingIgnoredDuringExecution list=atomic
core.v1.PodAffinityTerm.namespaces list=atomic
core.v1.PodAffinityTerm.matchLabelKeys list=atomic
core.v1.PodAffinityTerm.mismatchLabelKeys list=atomic
core.v1.PodAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution list=atomic
core.v1.PodAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution list=atomic
core.v1.PodDNSConfig.nameservers list=atomic
core.v1.PodDNSConfig.searches list=atomic
core.v1.PodDNSConfig.options list=atomic
core.v1.PodSecurityContext.supplementalGroups list=atomic
core.v1.PodSecurityContext.sysctls list=atomic
core.v1.PodSpec.volumes patch=merge,retainKeys key=name list=map keys=name
core.v1.PodSpec.initContainers patch=merge key=name list=map keys=name
core.v1.PodSpec.containers patch=merge key=name list=map keys=name
core.v1.PodSpec.ephemeralContainers patch=merge key=name list=map keys=name
core.v1.PodSpec.nodeSelector map=atomic
core.v1.PodSpec.imagePullSecrets patch=merge key=name list=map keys=name
core.v1.PodSpec.tolerations list=atomic
core.v1.PodSpec.hostAliases patch=merge key=ip list=map keys=ip
core.v1.PodSpec.readinessGates list=atomic
core.v1.PodSpec.topologySpreadConstraints patch=merge key=topologyKey list=map keys=topologyKey,whenUnsatisfiable
core.v1.PodSpec.schedulingGates patch=merge key=name list=map keys=name
core.v1.PodSpec.resourceClaims patch=merge,retainKeys key=name list=map keys=name
core.v1.PodStatus.conditions patch=merge key=type list=map keys=type
core.v1.PodStatus.hostIPs patch=merge key=ip list=atomic
core.v1.PodStatus.podIPs patch=merge key=ip list=map keys=ip
core.v1.PodStatus.initContainerStatuses list=atomic
core.v1.PodStatus.containerStatuses list=atomic
core.v1.PodStatus.ephemeralContainerStatuses list=atomic
core.v1.PodStatus.resourceClaimStatuses patch=merge,retainKeys key=name list=map keys=name
core.v1.ProjectedVolumeSource.sources list=atomic
core.v1.RBDVolumeSource.monitors list=atomic
core.v1.ReplicationControllerSpec.selector map=atomic
core.v1.ReplicationControllerStatus.conditions patch=merge key=type list=map keys=type
core.v1.ResourceQuotaSpec.scopes list=atomic
core.v1.ResourceRequirements.claims list=map keys=name
core.v1.ResourceStatus.resources list=map keys=resourceID
core.v1.ScopeSelector.matchExpressions list=atomic
core.v1.ScopedResourceSelectorRequirement.values list=atomic
core.v1.SecretProjection.items list=atomic
core.v1.SecretVolumeSource.items list=atomic
core.v1.ServiceAccount.secrets patch=merge key=name list=map keys=name
core.v1.ServiceAccount.imagePullSecrets list=atomic
core.v1.ServiceSpec.ports patch=merge key=port list=map keys=port,protocol
core.v1.ServiceSpec.selector map=atomic
core.v1.ServiceSpec.clusterIPs list=atomic
core.v1.ServiceSpec.externalIPs list=atomic
core.v1.ServiceSpec.loadBalancerSourceRanges list=atomic
core.v1.ServiceSpec.ipFamilies list=atomic
core.v1.ServiceStatus.conditions patch=merge key=type list=map keys=type
core.v1.TopologySpreadConstraint.matchLabelKeys list=atomic
discovery.v1.Endpoint.addresses list=set
discovery.v1.EndpointHints.forZones list=atomic
discovery.v1.EndpointHints.forNodes list=atomic
discovery.v1.EndpointSlice.endpoints list=atomic
discovery.v1.EndpointSlice.ports list=atomic
networking.v1.HTTPIngressRuleValue.paths list=atomic
networking.v1.IngressLoadBalancerIngress.ports list=atomic
networking.v1.IngressLoadBalancerStatus.ingress list=atomic
networking.v1.IngressSpec.tls list=atomic
networking.v1.IngressSpec.rules list=atomic
networking.v1.IngressTLS.hosts list=atomic
rbac.v1.AggregationRule.clusterRoleSelectors list=atomic
rbac.v1.ClusterRole.rules list=atomic
rbac.v1.ClusterRoleBinding.subjects list=atomic
rbac.v1.PolicyRule.verbs list=atomic
rbac.v1.PolicyRule.apiGroups list=atomic
rbac.v1.PolicyRule.resources list=atomic
rbac.v1.PolicyRule.resourceNames list=atomic
rbac.v1.PolicyRule.nonResourceURLs list=atomic
rbac.v1.Role.rules list=atomic
rbac.v1.RoleBinding.subjects list=atomic
meta.v1.DeleteOptions.dryRun list=atomic
meta.v1.FieldSelectorRequirement.values list=atomic
meta.v1.LabelSelector.matchExpressions list=atomic
meta.v1.LabelSelectorRequirement.values list=atomic
meta.v1.ObjectMeta.ownerReferences patch=merge key=uid list=map keys=uid
meta.v1.ObjectMeta.finalizers patch=merge list=set
meta.v1.ObjectMeta.managedFields list=atomic
core.v1.ConfigMapKeySelector struct=atomic
core.v1.EndpointAddress struct=atomic
core.v1.EndpointPort struct=atomic
core.v1.LocalObjectReference struct=atomic
core.v1.NodeSelector struct=atomic
core.v1.NodeSelectorTerm struct=atomic
core.v1.ObjectFieldSelector struct=atomic
core.v1.ObjectReference struct=atomic
core.v1.ResourceFieldSelector struct=atomic
core.v1.ScopeSelector struct=atomic
core.v1.SecretKeySelector struct=atomic
core.v1.TypedLocalObjectReference struct=atomic
discovery.v1.EndpointPort struct=atomic
networking.v1.ServiceBackendPort struct=atomic
rbac.v1.RoleRef struct=atomic
rbac.v1.Subject struct=atomic
meta.v1.LabelSelector struct=atomic
meta.v1.OwnerReference struct=atomic
";

/// The full definition name of a table name.
fn definition_name(short: &str) -> String {
    match short.strip_prefix("meta.") {
        Some(rest) => format!("io.k8s.apimachinery.pkg.apis.meta.{rest}"),
        None => format!("io.k8s.api.{short}"),
    }
}

/// One parsed table line: the definition, the property (None for a
/// struct-level entry) and the extensions to set.
struct Entry {
    definition: String,
    property: Option<String>,
    extensions: Map<String, Value>,
}

fn entries() -> impl Iterator<Item = Entry> {
    TABLE.lines().filter(|l| !l.trim().is_empty()).map(|line| {
        let mut tokens = line.split_whitespace();
        let name = tokens.next().unwrap_or_default();
        let mut extensions = Map::new();
        let mut is_struct = false;
        for token in tokens {
            let Some((key, value)) = token.split_once('=') else {
                continue;
            };
            let (name, value) = match key {
                "patch" => ("x-kubernetes-patch-strategy", Value::from(value)),
                "key" => ("x-kubernetes-patch-merge-key", Value::from(value)),
                "list" => ("x-kubernetes-list-type", Value::from(value)),
                "keys" => (
                    "x-kubernetes-list-map-keys",
                    Value::from(value.split(',').collect::<Vec<_>>()),
                ),
                "map" => ("x-kubernetes-map-type", Value::from(value)),
                "struct" => {
                    is_struct = true;
                    ("x-kubernetes-map-type", Value::from(value))
                }
                _ => continue,
            };
            extensions.insert(name.to_string(), value);
        }
        let (definition, property) = match name.rsplit_once('.') {
            Some((def, prop)) if !is_struct => (definition_name(def), Some(prop.to_string())),
            _ => (definition_name(name), None),
        };
        Entry {
            definition,
            property,
            extensions,
        }
    })
}

/// Adds the extensions to the definitions they belong to. Returns the
/// table entries that found no definition or property (none, when the
/// table matches the generated schemas).
pub(crate) fn annotate(definitions: &mut Map<String, Value>) -> Vec<String> {
    let mut unmatched = Vec::new();
    for entry in entries() {
        let target = definitions
            .get_mut(&entry.definition)
            .and_then(|def| match &entry.property {
                Some(prop) => def.get_mut("properties").and_then(|p| p.get_mut(prop)),
                None => Some(def),
            })
            .and_then(Value::as_object_mut);
        match target {
            Some(schema) => schema.extend(entry.extensions),
            None => unmatched.push(format!(
                "{}.{}",
                entry.definition,
                entry.property.unwrap_or_default()
            )),
        }
    }
    unmatched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schemas;

    #[test]
    fn every_entry_lands_on_a_generated_definition() {
        let mut definitions = Schemas::get().definitions().clone();
        assert_eq!(annotate(&mut definitions), Vec::<String>::new());
    }

    #[test]
    fn the_shared_schemas_carry_merge_keys() {
        let s = Schemas::get();
        let spec = s.definition("io.k8s.api.core.v1.PodSpec").unwrap();
        let containers = &spec["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-list-map-keys"][0], "name");
        let ports = &s.definition("io.k8s.api.core.v1.Container").unwrap()["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-list-map-keys"][1], "protocol");
        let owner = s.definition("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference");
        assert_eq!(owner.unwrap()["x-kubernetes-map-type"], "atomic");
    }
}

//! Validation of objects on create and update, following upstream's
//! `pkg/apis/*/validation`: first the object must decode into its typed
//! form (a mistyped field is reported with its path and nothing else is
//! checked), then the metadata rules every kind shares, then the kind's own
//! rules, and on update what may not change.
//!
//! Objects are validated after defaulting ([`crate::defaults::apply`]),
//! as upstream validates the defaulted object.

pub mod api_service;
pub mod batch;
pub mod certificates;
pub mod cluster;
pub mod config;
pub mod container;
pub mod cron;
pub mod daemon_set;
pub mod endpoints;
pub mod error;
pub mod events;
pub mod fields;
pub mod limits;
pub mod meta;
pub mod names;
pub mod net;
pub mod networking;
pub mod pod;
pub mod pod_update;
pub mod probe;
pub mod quantity;
pub mod rbac;
pub mod resources;
pub mod reviews;
pub mod rolling;
pub mod selector;
pub mod service;
pub mod stateful_set;
pub mod typecheck;
pub mod volume;
pub mod workloads;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_apps;
#[cfg(test)]
mod tests_kinds;
#[cfg(test)]
mod tests_update;
#[cfg(test)]
mod tests_workloads;

use k8s_openapi::Metadata;
use k8s_openapi::api::{
    apps::v1 as apps, authorization::v1 as authz, batch::v1 as batchv1,
    certificates::v1 as certificatesv1, coordination::v1 as coordination, core::v1 as core,
    discovery::v1 as discovery, events::v1 as eventsv1, networking::v1 as networkingv1,
    rbac::v1 as rbacv1,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use batch::{job_name_labels, job_selector_labels};
pub use error::{ErrorKind, FieldError, Path};
pub use names::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_qualified_name,
    is_valid_label_value,
};
pub use quantity::{Quantity, QuantityError};

use crate::registry::ResourceInfo;

/// Validates an object about to be created (after name generation and
/// defaulting). An empty list means the object is valid.
pub fn validate_create(info: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    validate(info, obj, None)
}

/// Validates an update: everything [`validate_create`] checks on the new
/// object, plus the fields that may not change from `old`.
pub fn validate_update(info: &ResourceInfo, obj: &Value, old: &Value) -> Vec<FieldError> {
    validate(info, obj, Some(old))
}

type CreateFn<T> = fn(&T, &ResourceInfo, bool) -> Vec<FieldError>;
type UpdateFn<T> = fn(&T, &T) -> Vec<FieldError>;

fn no_update<T>(_: &T, _: &T) -> Vec<FieldError> {
    Vec::new()
}

/// Decodes, then runs the kind's checks; on update also the metadata
/// update rules and the kind's update rules (when the old object decodes).
fn run<T>(
    info: &ResourceInfo,
    obj: &Value,
    old: Option<&Value>,
    create: CreateFn<T>,
    update: UpdateFn<T>,
) -> Vec<FieldError>
where
    T: DeserializeOwned + Metadata<Ty = ObjectMeta>,
{
    let new: T = match typecheck::decode(obj) {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    // Decoding stops at the first bad quantity, as upstream's does.
    if let Some(q) = typecheck::quantity_errors(info, obj).into_iter().next() {
        return vec![q];
    }
    let mut errs = Vec::new();
    if let Some(old) = old.and_then(|o| typecheck::decode::<T>(o).ok()) {
        errs.extend(meta::validate_object_meta_update(
            new.metadata(),
            old.metadata(),
            &Path::new("metadata"),
        ));
        errs.extend(update(&new, &old));
    }
    errs.extend(create(&new, info, old.is_none()));
    errs
}

/// Objects of kinds without rules of their own: the metadata rules only.
fn metadata_only(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let meta_of =
        |v: &Value| typecheck::decode::<ObjectMeta>(v.get("metadata").unwrap_or(&Value::Null));
    let new = match meta_of(obj) {
        Ok(m) => m,
        Err(mut e) => {
            e.field = Path::new("metadata")
                .child(&e.field)
                .to_string()
                .trim_end_matches('.')
                .to_string();
            return vec![e];
        }
    };
    let mut errs = Vec::new();
    if let Some(Ok(o)) = old.map(meta_of) {
        errs.extend(meta::validate_object_meta_update(
            &new,
            &o,
            &Path::new("metadata"),
        ));
    }
    errs.extend(meta::validate_object_meta(
        &new,
        info.namespaced,
        names::name_is_dns_subdomain,
        &Path::new("metadata"),
    ));
    errs
}

fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    match (info.group, info.kind) {
        ("", "Pod") => run::<core::Pod>(
            info,
            obj,
            old,
            |p, i, create| pod::validate_pod(p, i.namespaced, create),
            |n, o| {
                let (ns, os) = (
                    pod::spec_or_default(n.spec.as_ref()),
                    pod::spec_or_default(o.spec.as_ref()),
                );
                pod_update::validate_pod_spec_update(&ns, &os)
            },
        ),
        ("", "PodTemplate") => run::<core::PodTemplate>(
            info,
            obj,
            old,
            |p, i, _| workloads::validate_pod_template(p, i.namespaced),
            no_update,
        ),
        ("", "ReplicationController") => run::<core::ReplicationController>(
            info,
            obj,
            old,
            |r, i, _| workloads::validate_replication_controller(r, i.namespaced),
            no_update,
        ),
        ("apps", "Deployment") => {
            let errs = run::<apps::Deployment>(
                info,
                obj,
                old,
                |d, i, _| workloads::validate_deployment(d, i.namespaced),
                workloads::validate_deployment_update,
            );
            with_raw_selector(errs, obj, true)
        }
        ("apps", "ReplicaSet") => {
            let errs = run::<apps::ReplicaSet>(
                info,
                obj,
                old,
                |r, i, _| workloads::validate_replica_set(r, i.namespaced),
                workloads::validate_replica_set_update,
            );
            with_raw_selector(errs, obj, true)
        }
        ("apps", "DaemonSet") => {
            let errs = run::<apps::DaemonSet>(
                info,
                obj,
                old,
                |d, i, _| daemon_set::validate_daemon_set(d, i.namespaced),
                daemon_set::validate_daemon_set_update,
            );
            // Upstream requires no selector here; a missing one just
            // matches no template.
            with_raw_selector(errs, obj, false)
        }
        ("apps", "StatefulSet") => {
            let errs = run::<apps::StatefulSet>(
                info,
                obj,
                old,
                |s, i, _| stateful_set::validate_stateful_set(s, i.namespaced),
                stateful_set::validate_stateful_set_update,
            );
            with_raw_selector(errs, obj, true)
        }
        ("apiregistration.k8s.io", "APIService") => run::<apiregistration::APIService>(
            info,
            obj,
            old,
            |a, _, _| {
                let mut errs = api_service::validate_api_service(a);
                errs.extend(api_service::validate_api_service_status(a));
                errs
            },
            no_update,
        ),
        ("apps", "ControllerRevision") => run::<apps::ControllerRevision>(
            info,
            obj,
            old,
            |c, i, _| workloads::validate_controller_revision(c, i.namespaced),
            workloads::validate_controller_revision_update,
        ),
        ("batch", "Job") => run::<batchv1::Job>(
            info,
            obj,
            old,
            |j, i, create| batch::validate_job(j, i.namespaced, create),
            batch::validate_job_update,
        ),
        ("batch", "CronJob") => run::<batchv1::CronJob>(
            info,
            obj,
            old,
            |c, i, create| batch::validate_cron_job(c, i.namespaced, create),
            no_update,
        ),
        ("", "Service") => run::<core::Service>(
            info,
            obj,
            old,
            |s, i, _| service::validate_service(s, i.namespaced),
            service::validate_service_update,
        ),
        ("", "Endpoints") => run::<core::Endpoints>(
            info,
            obj,
            old,
            |e, i, _| endpoints::validate_endpoints(e, i.namespaced),
            no_update,
        ),
        ("discovery.k8s.io", "EndpointSlice") => run::<discovery::EndpointSlice>(
            info,
            obj,
            old,
            |e, i, _| endpoints::validate_endpoint_slice(e, i.namespaced),
            endpoints::validate_endpoint_slice_update,
        ),
        ("", "ConfigMap") => run::<core::ConfigMap>(
            info,
            obj,
            old,
            |c, i, _| config::validate_config_map(c, i.namespaced),
            config::validate_config_map_update,
        ),
        ("", "Secret") => run::<core::Secret>(
            info,
            obj,
            old,
            |s, i, _| config::validate_secret(s, i.namespaced),
            config::validate_secret_update,
        ),
        ("", "ServiceAccount") => run::<core::ServiceAccount>(
            info,
            obj,
            old,
            |s, i, _| config::validate_service_account(s, i.namespaced),
            no_update,
        ),
        ("", "Namespace") => run::<core::Namespace>(
            info,
            obj,
            old,
            |n, _, _| cluster::validate_namespace(n),
            no_update,
        ),
        ("", "Node") => run::<core::Node>(
            info,
            obj,
            old,
            |n, _, _| cluster::validate_node(n),
            cluster::validate_node_update,
        ),
        ("", "LimitRange") => run::<core::LimitRange>(
            info,
            obj,
            old,
            |l, i, _| limits::validate_limit_range(l, i.namespaced),
            no_update,
        ),
        ("", "ResourceQuota") => run::<core::ResourceQuota>(
            info,
            obj,
            old,
            |r, i, _| limits::validate_resource_quota(r, i.namespaced),
            no_update,
        ),
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            run::<certificatesv1::CertificateSigningRequest>(
                info,
                obj,
                old,
                |c, _, _| certificates::validate_csr(c),
                certificates::validate_csr_update,
            )
        }
        ("coordination.k8s.io", "Lease") => run::<coordination::Lease>(
            info,
            obj,
            old,
            |l, i, _| cluster::validate_lease(l, i.namespaced),
            no_update,
        ),
        ("", "Event") => run::<core::Event>(
            info,
            obj,
            old,
            |e, i, _| events::validate_core_event(e, i.namespaced),
            no_update,
        ),
        ("events.k8s.io", "Event") => run::<eventsv1::Event>(
            info,
            obj,
            old,
            |e, i, creating| events::validate_event(e, i.namespaced, creating),
            events::validate_event_update,
        ),
        ("networking.k8s.io", "Ingress") => run::<networkingv1::Ingress>(
            info,
            obj,
            old,
            |g, i, _| networking::validate_ingress(g, i.namespaced),
            no_update,
        ),
        ("rbac.authorization.k8s.io", "Role") => run::<rbacv1::Role>(
            info,
            obj,
            old,
            |r, i, _| rbac::validate_role(r, i.namespaced),
            no_update,
        ),
        ("rbac.authorization.k8s.io", "ClusterRole") => run::<rbacv1::ClusterRole>(
            info,
            obj,
            old,
            |r, i, _| rbac::validate_cluster_role(r, i.namespaced),
            no_update,
        ),
        ("rbac.authorization.k8s.io", "RoleBinding") => run::<rbacv1::RoleBinding>(
            info,
            obj,
            old,
            |b, i, _| rbac::validate_role_binding(b, i.namespaced),
            |n, o| rbac::validate_role_ref_update(&n.role_ref, &o.role_ref),
        ),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => run::<rbacv1::ClusterRoleBinding>(
            info,
            obj,
            old,
            |b, i, _| rbac::validate_cluster_role_binding(b, i.namespaced),
            |n, o| rbac::validate_role_ref_update(&n.role_ref, &o.role_ref),
        ),
        ("authorization.k8s.io", "SelfSubjectAccessReview") => {
            run::<authz::SelfSubjectAccessReview>(
                info,
                obj,
                None,
                |r, _, _| reviews::validate_self_subject_access_review(r),
                no_update,
            )
        }
        ("authorization.k8s.io", "SubjectAccessReview") => run::<authz::SubjectAccessReview>(
            info,
            obj,
            None,
            |r, _, _| reviews::validate_subject_access_review(r),
            no_update,
        ),
        ("authorization.k8s.io", "LocalSubjectAccessReview") => {
            run::<authz::LocalSubjectAccessReview>(
                info,
                obj,
                None,
                |r, _, _| reviews::validate_local_subject_access_review(r),
                no_update,
            )
        }
        ("authorization.k8s.io", "SelfSubjectRulesReview") => {
            run::<authz::SelfSubjectRulesReview>(info, obj, None, |_, _, _| Vec::new(), no_update)
        }
        ("authentication.k8s.io", "TokenReview") => {
            run::<k8s_openapi::api::authentication::v1::TokenReview>(
                info,
                obj,
                None,
                |_, _, _| Vec::new(),
                no_update,
            )
        }
        ("authentication.k8s.io", "SelfSubjectReview") => {
            run::<k8s_openapi::api::authentication::v1::SelfSubjectReview>(
                info,
                obj,
                None,
                |_, _, _| Vec::new(),
                no_update,
            )
        }
        ("", "Binding") => run::<core::Binding>(
            info,
            obj,
            None,
            |b, _, _| reviews::validate_binding(b),
            no_update,
        ),
        _ => metadata_only(info, obj, old),
    }
}

/// The typed selector cannot tell a missing `spec.selector` from an empty
/// one; the raw object can. A missing one is not the empty selector: it is
/// `Required` (unless `required` is false, as for DaemonSets), and (as
/// upstream's nil selector matches nothing) the template's labels do not
/// match it.
fn with_raw_selector(errs: Vec<FieldError>, raw: &Value, required: bool) -> Vec<FieldError> {
    if !raw.pointer("/spec/selector").is_none_or(Value::is_null) {
        return errs;
    }
    let mut out = Vec::with_capacity(errs.len() + 1);
    for e in errs {
        if e.field == "spec.selector" && e.detail.starts_with("empty selector is invalid for ") {
            if required {
                out.push(FieldError::required(
                    &Path::new("spec").child("selector"),
                    "",
                ));
            }
            let labels = raw
                .pointer("/spec/template/metadata/labels")
                .filter(|l| l.is_object())
                .cloned()
                .unwrap_or_else(|| Value::Object(Default::default()));
            out.push(FieldError::invalid(
                &Path::new("spec.template.metadata.labels"),
                labels,
                "`selector` does not match template `labels`",
            ));
            continue;
        }
        out.push(e);
    }
    out
}

//! The computed, never-stored request kinds: access reviews and pod
//! Bindings. Their metadata carries no name, so the object-metadata rules
//! do not apply.

use k8s_openapi::api::authorization::v1::{
    LocalSubjectAccessReview, NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview,
    SubjectAccessReview,
};
use k8s_openapi::api::core::v1::Binding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::error::{FieldError, Path};
use super::meta::s;

fn one_of_attributes(
    ra: Option<&ResourceAttributes>,
    nra: Option<&NonResourceAttributes>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match (ra, nra) {
        (Some(_), Some(n)) => errs.push(FieldError::invalid(
            &path.child("nonResourceAttributes"),
            serde_json::to_value(n).unwrap_or(Value::Null),
            "cannot be specified in combination with resourceAttributes",
        )),
        (None, None) => errs.push(FieldError::invalid(
            &path.child("resourceAttributes"),
            Value::Null,
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )),
        _ => {}
    }
    errs
}

/// Metadata of a review is empty but for what `keep` clears first.
fn empty_meta(meta: &ObjectMeta, keep_namespace: bool) -> Option<FieldError> {
    let mut m = meta.clone();
    m.managed_fields = None;
    if keep_namespace {
        m.namespace = None;
    }
    let empty = super::pod_update::prune(serde_json::to_value(&m).unwrap_or(Value::Null));
    let is_empty = empty.as_object().is_none_or(serde_json::Map::is_empty);
    (!is_empty).then(|| {
        FieldError::invalid(
            &Path::new("metadata"),
            serde_json::to_value(meta).unwrap_or(Value::Null),
            if keep_namespace {
                "must be empty except for namespace"
            } else {
                "must be empty"
            },
        )
    })
}

/// A SelfSubjectAccessReview.
pub fn validate_self_subject_access_review(r: &SelfSubjectAccessReview) -> Vec<FieldError> {
    let mut errs = one_of_attributes(
        r.spec.resource_attributes.as_ref(),
        r.spec.non_resource_attributes.as_ref(),
        &Path::new("spec"),
    );
    errs.extend(empty_meta(&r.metadata, false));
    errs
}

fn subject_errors(
    user: &Option<String>,
    groups: &Option<Vec<String>>,
    path: &Path,
) -> Option<FieldError> {
    (s(user).is_empty() && groups.as_ref().is_none_or(Vec::is_empty)).then(|| {
        FieldError::invalid(
            &path.child("user"),
            s(user),
            "at least one of user or group must be specified",
        )
    })
}

/// A SubjectAccessReview.
pub fn validate_subject_access_review(r: &SubjectAccessReview) -> Vec<FieldError> {
    let sp = Path::new("spec");
    let mut errs = one_of_attributes(
        r.spec.resource_attributes.as_ref(),
        r.spec.non_resource_attributes.as_ref(),
        &sp,
    );
    errs.extend(subject_errors(&r.spec.user, &r.spec.groups, &sp));
    errs.extend(empty_meta(&r.metadata, false));
    errs
}

/// A LocalSubjectAccessReview: namespaced, resource attributes only.
pub fn validate_local_subject_access_review(r: &LocalSubjectAccessReview) -> Vec<FieldError> {
    let sp = Path::new("spec");
    let mut errs = one_of_attributes(
        r.spec.resource_attributes.as_ref(),
        r.spec.non_resource_attributes.as_ref(),
        &sp,
    );
    errs.extend(subject_errors(&r.spec.user, &r.spec.groups, &sp));
    errs.extend(empty_meta(&r.metadata, true));
    let ns = s(&r.metadata.namespace);
    if let Some(ra) = &r.spec.resource_attributes
        && s(&ra.namespace) != ns
    {
        errs.push(FieldError::invalid(
            &Path::new("spec.resourceAttributes.namespace"),
            s(&ra.namespace),
            "must match metadata.namespace",
        ));
    }
    if let Some(nra) = &r.spec.non_resource_attributes {
        errs.push(FieldError::invalid(
            &Path::new("spec.nonResourceAttributes"),
            serde_json::to_value(nra).unwrap_or(Value::Null),
            "disallowed on this kind of request",
        ));
    }
    errs
}

/// A Binding of a pod to a node.
pub fn validate_binding(b: &Binding) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let kind = s(&b.target.kind);
    if !kind.is_empty() && kind != "Node" {
        errs.push(FieldError::not_supported(
            &Path::new("target").child("kind"),
            kind,
            &["Node", "<empty>"],
        ));
    }
    if s(&b.target.name).is_empty() {
        errs.push(FieldError::required(&Path::new("target").child("name"), ""));
    }
    errs
}

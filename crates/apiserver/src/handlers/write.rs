//! Writes: create (POST), update (PUT) and the four PATCH types, all
//! through one pipeline — type and namespace checks, unknown-field policy,
//! system metadata, defaulting, validation, managed fields, then one store
//! transaction guarded by the revision the change was computed from. The
//! pipeline works in the form of the API called; `objects::encode` stores
//! the storage form (events.k8s.io/v1 Events as core/v1 Events).

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, StatusCode, header};
use ironclad_api::{ResourceInfo, conversion, defaults, strict, validation};
use ironclad_store::{Compare, CompareOp, KeyRange, Op, RangeRequest, Revision, Txn};
use serde_json::Value;

use super::read::must_read;
use super::{Ctx, respond};
use crate::admission;
use crate::error::{ApiError, Result};
use crate::machinery;
use crate::objects::{self, meta_str};
use crate::request::{FieldValidation, Target};
use crate::response::{render_object, shape};
use crate::server::AppState;
use ironclad_admission::Operation;

/// How many times a write computed from a stale read is recomputed before
/// giving up with a Conflict (only when the client did not pin a version).
const RETRIES: usize = 16;

/// Options of a write.
#[derive(Debug, Clone)]
pub(crate) struct WriteOpts {
    /// Validate and answer, store nothing.
    pub dry_run: bool,
    /// Who makes the change (managedFields).
    pub manager: String,
    /// Unknown-field policy.
    pub validation: FieldValidation,
    /// managedFields were computed by server-side apply: record no update.
    pub applied: bool,
    /// Who asks (None: the server itself), for admission.
    pub user: Option<ironclad_auth::UserInfo>,
}

impl WriteOpts {
    /// From the request.
    pub fn from_request(ctx: &Ctx<'_>) -> Result<WriteOpts> {
        Ok(WriteOpts {
            dry_run: ctx.params.dry_run()?,
            manager: manager(ctx.params.field_manager.as_deref(), ctx.headers),
            validation: ctx.params.field_validation()?,
            applied: false,
            user: Some(ctx.user.clone()),
        })
    }

    /// For the server's own writes.
    pub fn system(manager: &str) -> WriteOpts {
        WriteOpts {
            dry_run: false,
            manager: manager.to_string(),
            validation: FieldValidation::Ignore,
            applied: false,
            user: None,
        }
    }
}

/// The field manager: the parameter, else the client's product name from
/// User-Agent (upstream's default: `kubectl/v1.32 (...)` -> `kubectl`).
fn manager(param: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(m) = param.filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .map(|s| s.trim().chars().take(128).collect::<String>())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// What a write produced.
pub(crate) struct Written {
    /// The stored object (with its resourceVersion).
    pub object: Value,
    /// Whether it was created.
    pub created: bool,
    /// Warnings for the client.
    pub warnings: Vec<String>,
}

/// Decodes a JSON, YAML or protobuf request body.
pub(crate) fn decode_body(ctx: &Ctx<'_>) -> Result<Value> {
    let ct = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = ironclad_wire::format_of(ct).ok_or_else(|| {
        ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {})",
            ct.unwrap_or("none")
        ))
    })?;
    if ctx.body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    ironclad_wire::decode(format, &ctx.body).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Applies the unknown-field policy: Strict refuses, Warn returns warnings,
/// and both Warn and Ignore drop the unknown fields (upstream decodes into
/// typed objects, which drops them).
pub(crate) fn check_fields(
    info: &ResourceInfo,
    obj: &mut Value,
    policy: FieldValidation,
    duplicates: Vec<String>,
) -> Result<Vec<String>> {
    let unknown = strict::unknown_fields(info, obj);
    let mut problems: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    problems.extend(
        duplicates
            .iter()
            .map(|f| format!("duplicate field \"{f}\"")),
    );
    if problems.is_empty() {
        return Ok(Vec::new());
    }
    match policy {
        FieldValidation::Strict => Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            problems.join(", ")
        ))),
        FieldValidation::Warn | FieldValidation::Ignore => {
            for f in &unknown {
                crate::prune::remove_path(obj, f);
            }
            Ok(if policy == FieldValidation::Warn {
                problems
            } else {
                Vec::new()
            })
        }
    }
}

/// Refuses field errors as a 422 Invalid Status.
pub(crate) fn invalid(
    info: &ResourceInfo,
    obj: &Value,
    errors: Vec<validation::FieldError>,
) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let name = meta_str(obj, "name").unwrap_or_default().to_string();
    let causes = errors
        .iter()
        .map(|e| {
            let text = e.to_string();
            let msg = text
                .strip_prefix(&format!("{}: ", e.field))
                .unwrap_or(&text)
                .to_string();
            (e.reason().to_string(), e.field.clone(), msg)
        })
        .collect();
    Err(ApiError::invalid(info.kind, info.group, &name, causes))
}

/// Checks that the namespace of a new object exists and is not terminating.
pub(crate) async fn check_namespace_open(
    state: &AppState,
    info: &ResourceInfo,
    ns: Option<&str>,
) -> Result<()> {
    let Some(ns) = ns.filter(|_| info.namespaced) else {
        return Ok(());
    };
    let ns_info = ironclad_api::registry::lookup("", "v1", "namespaces")
        .ok_or_else(|| ApiError::internal("namespaces are not registered"))?;
    let key = objects::key(ns_info, None, ns);
    let resp = state
        .store
        .range(RangeRequest::new(KeyRange::key(key.into_bytes())))
        .await?;
    let Some(kv) = resp.kvs.first() else {
        return Err(ApiError::not_found(crate::error::Target {
            group: "",
            resource: "namespaces",
            name: ns,
        }));
    };
    let obj = objects::decode(kv)?;
    if obj.pointer("/metadata/deletionTimestamp").is_some()
        || obj.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
    {
        return Err(ApiError::forbidden(format!(
            "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            info.plural,
            meta_str(&obj, "name").unwrap_or(ns)
        ))
        .with_details(serde_json::json!({"causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]})));
    }
    Ok(())
}

/// Creates an object (HTTP create and the server's own objects).
pub(crate) async fn create_object(
    state: &Arc<AppState>,
    info: &'static ResourceInfo,
    ns: Option<&str>,
    mut obj: Value,
    opts: &WriteOpts,
    mut warnings: Vec<String>,
) -> Result<Written> {
    machinery::check_type(info, info.kind, &info.api_version(), &mut obj)?;
    machinery::check_namespace(info, ns, &mut obj)?;
    machinery::prepare_create(info, &mut obj);
    defaults::apply(info, &mut obj);
    match info.kind {
        "Job" => crate::kinds::job_selector(info, &mut obj),
        "Pod" => crate::kinds::pod_initial_status(&mut obj),
        "DaemonSet" => crate::kinds::daemon_set_template_generation(&mut obj, None),
        "APIService" => crate::kinds::api_service_initial_status(&mut obj),
        "CertificateSigningRequest" => {
            let requester = opts
                .user
                .as_ref()
                .map(|u| ironclad_api::certificates::Requester {
                    username: u.name.clone(),
                    uid: u.uid.clone(),
                    groups: u.groups.clone(),
                    extra: u.extra.clone(),
                });
            ironclad_api::certificates::set_requester(&mut obj, requester.as_ref());
        }
        _ => {}
    }
    let admission_req = opts.user.as_ref().map(|u| {
        admission::request(
            Operation::Create,
            info,
            None,
            ns,
            &admission::new_name(&obj),
            u,
            opts.dry_run,
        )
    });
    // NamespaceLifecycle comes first, as upstream orders admission.
    check_namespace_open(state, info, ns).await?;
    if let Some(req) = &admission_req {
        admission::admit_create(state, req, &mut obj).await?;
    }
    invalid(info, &obj, validation::validate_create(info, &obj))?;
    let name = meta_str(&obj, "name").unwrap_or_default().to_string();
    let key = objects::key(info, ns, &name);
    let target = crate::error::Target {
        group: info.group,
        resource: info.plural,
        name: &name,
    };
    if !opts.applied {
        ironclad_patch::record_update(None, &mut obj, &opts.manager, None, &machinery::now());
    }
    let exists = || async {
        let r = state
            .store
            .range(RangeRequest::new(KeyRange::key(key.clone().into_bytes())).count_only())
            .await?;
        Ok::<bool, ApiError>(r.count > 0)
    };
    for _ in 0..RETRIES {
        let mut obj = obj.clone();
        // An existing object is AlreadyExists, whatever else is wrong.
        if info.kind == "Service" && exists().await? {
            return Err(ApiError::already_exists(target));
        }
        let extra = if info.kind == "Service" {
            state.services.allocate(&mut obj).await?
        } else {
            Default::default()
        };
        if opts.dry_run {
            return Ok(Written {
                object: obj,
                created: true,
                warnings,
            });
        }
        let bytes = objects::encode(&obj)?;
        ironclad_store::check_value_size(key.as_bytes(), &bytes).map_err(ApiError::from)?;
        // Quota is charged in the same transaction as the create.
        let (quota_compares, quota_ops) = match &admission_req {
            Some(req) => admission::quota_charge(state, req, &obj).await?,
            None => Default::default(),
        };
        let txn = Txn::new()
            .when(
                std::iter::once(Compare::absent(key.clone().into_bytes()))
                    .chain(extra.compares)
                    .chain(quota_compares),
            )
            .and_then(
                std::iter::once(Op::put(key.clone().into_bytes(), bytes))
                    .chain(extra.ops)
                    .chain(quota_ops),
            );
        let resp = state.store.txn(txn).await?;
        if resp.succeeded {
            objects::set_resource_version(&mut obj, resp.revision);
            return Ok(Written {
                object: obj,
                created: true,
                warnings: std::mem::take(&mut warnings),
            });
        }
        let exists = state
            .store
            .range(RangeRequest::new(KeyRange::key(key.clone().into_bytes())).count_only())
            .await?;
        if exists.count > 0 {
            return Err(ApiError::already_exists(target));
        }
        // An allocation or a quota charge raced another write: again.
    }
    Err(ApiError::conflict(
        target,
        "could not allocate after repeated conflicts; try again",
    ))
}

/// POST on a collection.
pub(crate) async fn create(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let opts = WriteOpts::from_request(ctx)?;
    let mut obj = decode_body(ctx)?;
    let dups = duplicates(ctx);
    let warnings = check_fields(t.info, &mut obj, opts.validation, dups)?;
    let w = create_object(
        ctx.state,
        t.info,
        t.namespace.as_deref(),
        obj,
        &opts,
        warnings,
    )
    .await?;
    let body = render_object(t.info, shape(ctx.headers, &ctx.params), w.object);
    Ok(respond(StatusCode::CREATED, &body, &w.warnings))
}

fn duplicates(ctx: &Ctx<'_>) -> Vec<String> {
    let ct = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match ironclad_wire::format_of(ct) {
        Some(ironclad_wire::BodyFormat::Json) => ironclad_wire::duplicate_fields(&ctx.body),
        _ => Vec::new(),
    }
}

/// PUT of an object (main resource or `/status`).
pub(crate) async fn update(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let opts = WriteOpts::from_request(ctx)?;
    let mut body = decode_body(ctx)?;
    machinery::check_type(t.info, t.info.kind, &t.info.api_version(), &mut body)?;
    machinery::check_namespace(t.info, t.namespace.as_deref(), &mut body)?;
    match meta_str(&body, "name") {
        Some(n) if n == t.name() => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({})",
                t.name()
            )));
        }
        None => {
            return Err(invalid(
                t.info,
                &body,
                vec![validation::FieldError {
                    kind: validation::ErrorKind::Required,
                    field: "metadata.name".into(),
                    value: None,
                    detail: "name or generateName is required".into(),
                }],
            )
            .err()
            .unwrap_or_else(|| ApiError::bad_request("name is required")));
        }
    }
    let warnings = check_fields(t.info, &mut body, opts.validation, duplicates(ctx))?;
    let w = update_object(ctx.state, t, &opts, |_| Ok(body.clone())).await?;
    let body = render_object(t.info, shape(ctx.headers, &ctx.params), w.object);
    Ok(respond(
        StatusCode::OK,
        &body,
        &[warnings, w.warnings].concat(),
    ))
}

/// Reads, changes (through `mutate`) and writes one object, retrying on
/// conflicts unless the new object pins a resourceVersion. `mutate` sees
/// the stored object without its resourceVersion, so that only a version
/// the request itself names (a PUT body's, or one a patch sets) pins the
/// write: patches that name none are retried on conflicts, as upstream.
pub(crate) async fn update_object(
    state: &Arc<AppState>,
    t: &Target,
    opts: &WriteOpts,
    mut mutate: impl FnMut(&Value) -> Result<Value>,
) -> Result<Written> {
    let key = objects::key(t.info, t.namespace.as_deref(), t.name());
    for _ in 0..RETRIES {
        let (old, rev) = must_read_state(state, t).await?;
        // Patches, validation and managedFields work in the form of the API
        // called; encoding stores the storage form.
        let old = conversion::to_served(t.info, old);
        let mut base = old.clone();
        if let Some(m) = base.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
        }
        let mut new = mutate(&base)?;
        let pinned = meta_str(&new, "resourceVersion")
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        if let Some(p) = &pinned
            && *p != rev.to_string()
        {
            return Err(ApiError::stale(t.err()));
        }
        // Changed underneath: read again. A pinned resourceVersion (from
        // the body or the patch) then no longer matches and the write
        // fails as stale; an object that merely kept the version it was
        // read at (a patch without one) is retried, as upstream retries.
        match finish_update(state, t, opts, &key, old, rev, &mut new).await? {
            Some(w) => return Ok(w),
            None => continue,
        }
    }
    Err(ApiError::stale(t.err()))
}

async fn must_read_state(state: &Arc<AppState>, t: &Target) -> Result<(Value, Revision)> {
    let key = objects::key(t.info, t.namespace.as_deref(), t.name());
    let resp = state
        .store
        .range(RangeRequest::new(KeyRange::key(key.into_bytes())))
        .await?;
    match resp.kvs.first() {
        Some(kv) => Ok((objects::decode(kv)?, kv.mod_revision)),
        None => Err(ApiError::not_found(t.err())),
    }
}

/// The update pipeline after the new object is computed. `None` means the
/// object changed underneath (retry).
async fn finish_update(
    state: &Arc<AppState>,
    t: &Target,
    opts: &WriteOpts,
    key: &str,
    old: Value,
    rev: Revision,
    new: &mut Value,
) -> Result<Option<Written>> {
    let info = t.info;
    machinery::check_type(info, info.kind, &info.api_version(), new)?;
    machinery::check_namespace(info, t.namespace.as_deref(), new)?;
    machinery::prepare_update(info, new, &old, t.subresource.as_deref());
    defaults::apply(info, new);
    if let Some(user) = &opts.user {
        let req = admission::request(
            Operation::Update,
            info,
            t.subresource.as_deref(),
            t.namespace.as_deref(),
            t.name(),
            user,
            opts.dry_run,
        );
        admission::rbac_escalation(state, &req, new).await?;
        admission::node_restriction(state, &req, Some(new), Some(&old)).await?;
    }
    if info.kind == "Service" && t.subresource.is_none() {
        crate::services::keep_allocations(new, &old);
    }
    if info.kind == "DaemonSet" && t.subresource.is_none() {
        crate::kinds::daemon_set_template_generation(new, Some(&old));
    }
    // pods/binding writes the pod as upstream's BindingREST does: without
    // the pod update rules (they forbid changing spec.nodeName) and
    // without a managedFields entry.
    let binding = t.subresource.as_deref() == Some("binding");
    if !binding {
        invalid(info, new, validation::validate_update(info, new, &old))?;
    }
    if !opts.applied && !binding {
        ironclad_patch::record_update(
            Some(&old),
            new,
            &opts.manager,
            t.subresource.as_deref(),
            &machinery::now(),
        );
    }
    if machinery::same_object(&old, new) {
        return Ok(Some(Written {
            object: old,
            created: false,
            warnings: Vec::new(),
        }));
    }
    // The last finalizer of an object being deleted is gone: delete it. A
    // namespace also waits for its spec finalizers (the namespace
    // controller's `kubernetes`, removed through `finalize`).
    let finalized = new.pointer("/metadata/deletionTimestamp").is_some()
        && new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(|f| f.is_empty())
        && (info.kind != "Namespace"
            || new
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_none_or(|f| f.is_empty()));
    let extra = if info.kind == "Service" && t.subresource.is_none() {
        if finalized {
            state.services.release(&old)
        } else {
            state.services.reallocate(new, &old).await?
        }
    } else {
        Default::default()
    };
    if opts.dry_run {
        objects::set_resource_version(new, rev);
        return Ok(Some(Written {
            object: new.clone(),
            created: false,
            warnings: Vec::new(),
        }));
    }
    let guard = Compare::mod_revision(key.as_bytes().to_vec(), CompareOp::Equal, rev);
    let op = if finalized {
        Op::delete(key.as_bytes().to_vec())
    } else {
        let bytes = objects::encode(new)?;
        ironclad_store::check_value_size(key.as_bytes(), &bytes).map_err(ApiError::from)?;
        Op::put(key.as_bytes().to_vec(), bytes)
    };
    let txn = Txn::new()
        .when(std::iter::once(guard).chain(extra.compares))
        .and_then(std::iter::once(op).chain(extra.ops));
    let resp = state.store.txn(txn).await?;
    if !resp.succeeded {
        return Ok(None);
    }
    objects::set_resource_version(new, resp.revision);
    Ok(Some(Written {
        object: new.clone(),
        created: false,
        warnings: Vec::new(),
    }))
}

/// PATCH: JSON patch, merge patch, strategic merge patch or server-side apply.
pub(crate) async fn patch(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let w = super::patch::patch_object(ctx, t).await?;
    let code = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = render_object(t.info, shape(ctx.headers, &ctx.params), w.object);
    Ok(respond(code, &body, &w.warnings))
}

/// Reads the object a subresource write applies to.
pub(crate) async fn current(ctx: &Ctx<'_>, t: &Target) -> Result<(Value, Revision)> {
    must_read(ctx, t).await
}

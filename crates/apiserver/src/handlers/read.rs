//! GET of one object and LIST of a collection: label and field selectors,
//! paging with limit/continue at one consistent revision, and upstream's
//! resourceVersion semantics (unset: current; "0": from the watch cache;
//! N with `resourceVersionMatch=Exact`: at revision N).

use axum::response::Response;
use http::StatusCode;
use ironclad_api::ResourceInfo;
use ironclad_api::selector::{FieldSelector, LabelSelector};
use ironclad_store::{KeyRange, RangeRequest, Revision};
use serde_json::{Value, json};

use super::{Ctx, respond};
use crate::error::{ApiError, Result};
use crate::objects::{self, Continue};
use crate::request::Target;
use crate::response::{render_list, render_object, shape};

/// Reads one object from the store (current revision).
pub(crate) async fn read_object(ctx: &Ctx<'_>, t: &Target) -> Result<Option<(Value, Revision)>> {
    let key = objects::key(t.info, t.namespace.as_deref(), t.name());
    let resp = ctx
        .state
        .store
        .range(RangeRequest::new(KeyRange::key(key.into_bytes())))
        .await?;
    match resp.kvs.first() {
        Some(kv) => Ok(Some((objects::decode(kv)?, kv.mod_revision))),
        None => Ok(None),
    }
}

/// Reads one object or answers 404.
pub(crate) async fn must_read(ctx: &Ctx<'_>, t: &Target) -> Result<(Value, Revision)> {
    read_object(ctx, t)
        .await?
        .ok_or_else(|| ApiError::not_found(t.err()))
}

/// GET of one object.
pub(crate) async fn get(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let (obj, _) = must_read(ctx, t).await?;
    let body = render_object(t.info, shape(ctx.headers, &ctx.params), obj);
    Ok(respond(StatusCode::OK, &body, &[]))
}

/// The selectors of a list or watch, checked against the resource.
pub(crate) struct Filter {
    /// Namespace the request is scoped to.
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: LabelSelector,
    /// Field selector.
    pub fields: FieldSelector,
}

impl Filter {
    /// From the request's parameters.
    pub fn from_request(ctx: &Ctx<'_>, t: &Target) -> Result<Filter> {
        let labels = LabelSelector::parse(ctx.params.label_selector.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut field_text = ctx.params.field_selector.clone().unwrap_or_default();
        // A watch of one named object is a field selector on its name.
        if let Some(name) = &t.name {
            if !field_text.is_empty() {
                field_text.push(',');
            }
            field_text.push_str(&format!("metadata.name={name}"));
        }
        let fields =
            FieldSelector::parse(&field_text).map_err(|e| ApiError::bad_request(e.to_string()))?;
        fields
            .check_supported(t.info)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Filter {
            namespace: t.namespace.clone(),
            labels,
            fields,
        })
    }

    /// Whether an object passes.
    pub fn matches(&self, info: &ResourceInfo, obj: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && info.namespaced
            && objects::meta_str(obj, "namespace") != Some(ns.as_str())
        {
            return false;
        }
        self.labels.matches_object(obj) && self.fields.matches(info, obj)
    }
}

/// LIST of a collection.
pub(crate) async fn list(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let filter = Filter::from_request(ctx, t)?;
    let p = &ctx.params;
    let limit = p.limit.filter(|l| *l > 0).map(|l| l as usize);
    let rv = p.resource_version.as_deref().unwrap_or("");
    let exact = p.resource_version_match.as_deref() == Some("Exact");
    if let Some(m) = p.resource_version_match.as_deref()
        && !matches!(m, "Exact" | "NotOlderThan")
    {
        return Err(ApiError::bad_request(format!(
            "resourceVersionMatch: Unsupported value: {m:?}: supported values: \"Exact\", \"NotOlderThan\""
        )));
    }
    let (items, revision, next) = if rv == "0" && p.continue_token.is_none() && !exact {
        from_cache(ctx, t, &filter).await?
    } else {
        let at = match (&p.continue_token, rv, exact) {
            (Some(tok), _, _) => Some(Continue::decode(tok)?),
            (None, rv, true) if !rv.is_empty() => Some(Continue {
                revision: objects::parse_resource_version(rv)?,
                after: String::new(),
            }),
            _ => None,
        };
        from_store(ctx, t, &filter, limit, at).await?
    };
    let mut meta = json!({"resourceVersion": revision.to_string()});
    if let Some(c) = next {
        meta["continue"] = json!(c.encode());
    }
    let body = render_list(t.info, shape(ctx.headers, &ctx.params), items, meta);
    Ok(respond(StatusCode::OK, &body, &[]))
}

async fn from_cache(
    ctx: &Ctx<'_>,
    t: &Target,
    filter: &Filter,
) -> Result<(Vec<Value>, Revision, Option<Continue>)> {
    let cache = ctx.state.caches.get(&objects::prefix(t.info, None));
    let (objs, revision) = cache.snapshot().await?;
    let items = objs
        .into_iter()
        .filter(|o| filter.matches(t.info, o))
        .map(|o| (*o).clone())
        .collect();
    Ok((items, revision, None))
}

/// Reads pages from the store at one revision until `limit` objects pass
/// the filter (or the collection ends).
async fn from_store(
    ctx: &Ctx<'_>,
    t: &Target,
    filter: &Filter,
    limit: Option<usize>,
    at: Option<Continue>,
) -> Result<(Vec<Value>, Revision, Option<Continue>)> {
    let prefix = objects::prefix(t.info, t.namespace.as_deref());
    // A name selector reads one key instead of the whole collection.
    let range = match (
        filter.fields.exact_name(),
        t.info.namespaced,
        t.namespace.is_some(),
    ) {
        (Some(name), false, _) | (Some(name), true, true) => {
            KeyRange::key(format!("{prefix}{name}").into_bytes())
        }
        _ => KeyRange::prefix(prefix.into_bytes()),
    };
    let mut range = range;
    let mut revision = 0;
    if let Some(c) = &at {
        revision = c.revision;
        if !c.after.is_empty() {
            range = range.continue_after(c.after.as_bytes());
        }
    }
    let page = limit.map(|l| l.clamp(1, 1000)).unwrap_or(1000);
    let mut items = Vec::new();
    loop {
        let mut req = RangeRequest::new(range.clone()).with_limit(page);
        if revision > 0 {
            req = req.at_revision(revision);
        }
        let resp = ctx.state.store.range(req.clone()).await?;
        // The first read fixes the revision every later page reads at (the
        // store reports its current revision for reads in the past).
        if revision == 0 {
            revision = resp.revision;
        }
        let mut last_key = None;
        for kv in &resp.kvs {
            let obj = objects::decode(kv)?;
            last_key = Some(String::from_utf8_lossy(&kv.key).into_owned());
            if filter.matches(t.info, &obj) {
                items.push(obj);
                if let Some(l) = limit
                    && items.len() >= l
                {
                    let more = resp.more
                        || kv.key != resp.kvs.last().map(|k| k.key.clone()).unwrap_or_default();
                    let next = more.then(|| Continue {
                        revision,
                        after: last_key.clone().unwrap_or_default(),
                    });
                    return Ok((items, revision, next));
                }
            }
        }
        match (resp.more, last_key) {
            (true, Some(k)) => range = range.continue_after(k.as_bytes()),
            _ => return Ok((items, revision, None)),
        }
    }
}

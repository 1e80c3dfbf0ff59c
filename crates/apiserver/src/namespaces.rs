//! Namespace termination: a deleted namespace is marked Terminating; this
//! loop deletes everything in it and then the namespace itself. (The
//! controller-manager's namespace controller will take this over; until it
//! exists the API server does it, so that a deleted namespace really goes.)

use std::sync::{Arc, Weak};
use std::time::Duration;

use ironclad_api::Storage;
use ironclad_api::registry::{RESOURCES, lookup, storage_resource};
use ironclad_store::{Compare, CompareOp, KeyRange, Op, RangeRequest, Txn};
use serde_json::Value;

use crate::error::Result;
use crate::handlers::{DeleteOptions, delete_object};
use crate::objects::{self, meta_str};
use crate::request::Target;
use crate::server::AppState;

/// Runs until the server is dropped.
pub async fn run(state: Weak<AppState>) {
    loop {
        let Some(s) = state.upgrade() else { return };
        let more = match sweep(&s).await {
            Ok(more) => more,
            Err(e) => {
                tracing::warn!(error = %e, "namespace cleanup failed; retrying");
                true
            }
        };
        let wait = if more {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(5)
        };
        let signal = s.namespace_signal();
        drop(s);
        let _ = tokio::time::timeout(wait, signal.notified()).await;
    }
}

/// One pass over terminating namespaces; true if some are still emptying.
async fn sweep(state: &Arc<AppState>) -> Result<bool> {
    let Some(ns_info) = lookup("", "v1", "namespaces") else {
        return Ok(false);
    };
    let resp = state
        .store
        .range(RangeRequest::new(KeyRange::prefix(
            objects::prefix(ns_info, None).into_bytes(),
        )))
        .await?;
    let mut pending = false;
    for kv in &resp.kvs {
        let ns = objects::decode(kv)?;
        if ns.pointer("/metadata/deletionTimestamp").is_none() {
            continue;
        }
        let name = meta_str(&ns, "name").unwrap_or_default().to_string();
        if !empty_namespace(state, &name).await? {
            pending = true;
            continue;
        }
        let has_finalizers = ns
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let other_spec_finalizers = ns
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x != "kubernetes"));
        if has_finalizers || other_spec_finalizers {
            pending = true;
            continue;
        }
        let txn = Txn::new()
            .when([Compare::mod_revision(
                kv.key.clone(),
                CompareOp::Equal,
                kv.mod_revision,
            )])
            .and_then([Op::delete(kv.key.clone())]);
        if !state.store.txn(txn).await?.succeeded {
            pending = true;
        }
    }
    Ok(pending)
}

/// Deletes what is left in a namespace; true once nothing is.
async fn empty_namespace(state: &Arc<AppState>, ns: &str) -> Result<bool> {
    let mut empty = true;
    let mut seen = Vec::new();
    let opts = DeleteOptions {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    for info in RESOURCES
        .iter()
        .filter(|r| r.namespaced && r.storage == Storage::Stored)
    {
        let storage = storage_resource(info);
        if seen.contains(&storage) {
            continue;
        }
        seen.push(storage);
        let resp = state
            .store
            .range(RangeRequest::new(KeyRange::prefix(
                objects::prefix(info, Some(ns)).into_bytes(),
            )))
            .await?;
        for kv in &resp.kvs {
            empty = false;
            let obj = objects::decode(kv)?;
            let t = Target {
                info,
                namespace: Some(ns.to_string()),
                name: meta_str(&obj, "name").map(str::to_string),
                subresource: None,
            };
            if let Err(e) = delete_object(state, &t, &opts).await
                && e.code != 404
            {
                tracing::warn!(namespace = ns, error = %e, "namespace cleanup: delete failed");
            }
        }
    }
    Ok(empty)
}

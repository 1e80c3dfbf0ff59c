//! `/healthz`, `/livez`, `/readyz` and Prometheus `/metrics` for a
//! component. Until the API server exists (it will serve these itself on the
//! API port), `ironclad server` serves them here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// What the endpoints report; updated by the component.
#[derive(Default)]
pub struct Health {
    ready: AtomicBool,
    /// The store's current revision.
    pub store_revision: Gauge<i64, AtomicI64>,
    /// 1 while this server leads its election, else 0.
    pub is_leader: Gauge<i64, AtomicI64>,
    registry: std::sync::OnceLock<Registry>,
}

impl Health {
    /// New, not ready.
    pub fn new() -> Arc<Self> {
        let h = Arc::new(Health::default());
        let mut reg = Registry::with_prefix("ironclad");
        reg.register(
            "store_revision",
            "Current revision of the cluster store",
            h.store_revision.clone(),
        );
        reg.register(
            "leader",
            "1 while this server holds the leader election",
            h.is_leader.clone(),
        );
        let _ = h.registry.set(reg);
        h
    }

    /// Marks the component ready (or not).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    /// The routes.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/livez", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(self.clone())
    }
}

async fn readyz(State(h): State<Arc<Health>>) -> impl IntoResponse {
    if h.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn metrics(State(h): State<Arc<Health>>) -> impl IntoResponse {
    let mut out = String::new();
    if let Some(reg) = h.registry.get()
        && encode(&mut out, reg).is_err()
    {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            String::new(),
        );
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
}

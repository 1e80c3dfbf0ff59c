//! The server: its configuration, shared state, and the one entry point
//! every HTTP request goes through (body limit, routing, metrics).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use ironclad_store::Store;

use crate::error::ApiError;
use crate::handlers;
use crate::metrics::Metrics;
use crate::services::ServiceAllocator;
use crate::watchcache::Caches;

/// Largest request body accepted (upstream's limit is 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Configuration of an API server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The service CIDR ClusterIPs come from (default 10.96.0.0/12).
    pub service_cidr: String,
    /// First and last NodePort (default 30000–32767).
    pub node_port_range: (u16, u16),
    /// The address other components reach this server at (the `kubernetes`
    /// Service's endpoint).
    pub advertise_address: IpAddr,
    /// The port it listens on.
    pub port: u16,
    /// Time to live of this server's entry among the `kubernetes`
    /// endpoints: a server that dies without withdrawing leaves them that
    /// long after its last renewal (upstream: 15 s).
    pub peer_lease_ttl: Duration,
    /// Authentication and authorization. `None` turns both off: every
    /// request is served as a member of `system:masters`. Only for
    /// in-process use (tests calling the router, the benchmark's
    /// auth-disabled baseline); `ironclad server` always sets it.
    pub auth: Option<crate::security::AuthConfig>,
    /// Encryption at rest: the store is wrapped so these resources are
    /// encrypted in it (None: stored as they are).
    pub encryption: Option<Arc<crate::encryption::Transformers>>,
    /// The audit log (None: no audit).
    pub audit: Option<crate::audit::AuditConfig>,
    /// Run the admission plugins on client writes (default). Off only for
    /// the benchmark's baseline without the security chain.
    pub admission: bool,
}

impl Config {
    /// Defaults for a server reachable at `address:port`.
    pub fn new(advertise_address: IpAddr, port: u16) -> Self {
        Config {
            service_cidr: "10.96.0.0/12".into(),
            node_port_range: (30000, 32767),
            advertise_address,
            port,
            peer_lease_ttl: Duration::from_secs(15),
            auth: None,
            encryption: None,
            audit: None,
            admission: true,
        }
    }
}

/// What every handler shares.
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Configuration.
    pub config: Config,
    /// Watch caches.
    pub caches: Caches,
    /// Metrics.
    pub metrics: Metrics,
    /// ClusterIP and NodePort allocation.
    pub services: ServiceAllocator,
    /// This server's entry among the API servers.
    pub peers: crate::peers::Registration,
    /// Authentication and authorization (None: off).
    pub auth: Option<Auth>,
    ready: AtomicBool,
}

/// The authenticators and authorizers of a server.
pub struct Auth {
    /// Credentials to users.
    pub authn: crate::security::authn::Authenticator,
    /// Users and requests to decisions.
    pub authz: Arc<crate::security::authz::Authorizers>,
    /// Signs service-account tokens (TokenRequest), if this server has the key.
    pub signer: Option<ironclad_auth::authn::serviceaccount::TokenSigner>,
}

/// An API server on a store.
#[derive(Clone)]
pub struct ApiServer {
    state: Arc<AppState>,
}

impl ApiServer {
    /// Creates the server and the objects every cluster has (the system
    /// namespaces and the `kubernetes` Service). Fails on a bad config.
    pub async fn new(store: Arc<dyn Store>, mut config: Config) -> Result<ApiServer, ApiError> {
        let store: Arc<dyn Store> = match config.encryption.take() {
            Some(t) => Arc::new(crate::encrypted_store::EncryptedStore::new(store, t)),
            None => store,
        };
        let services =
            ServiceAllocator::new(store.clone(), &config.service_cidr, config.node_port_range)?;
        let auth = match &config.auth {
            Some(c) => Some(Auth {
                authn: crate::security::authn::Authenticator::new(c).map_err(ApiError::internal)?,
                authz: Arc::new(
                    crate::security::authz::Authorizers::new(c).map_err(ApiError::internal)?,
                ),
                signer: match &c.service_account {
                    Some(k) => Some(
                        ironclad_auth::authn::serviceaccount::TokenSigner::new(
                            &k.signing_key_pem,
                            &k.issuer,
                        )
                        .map_err(|e| ApiError::internal(format!("service-account key: {e}")))?,
                    ),
                    None => None,
                },
            }),
            None => None,
        };
        let state = Arc::new(AppState {
            caches: Caches::new(store.clone()),
            store,
            config,
            metrics: Metrics::new(),
            services,
            peers: Default::default(),
            auth,
            ready: AtomicBool::new(false),
        });
        crate::bootstrap::run(&state).await?;
        if let Some(auth) = &state.auth {
            auth.authz.follow(&state.caches).await;
        }
        crate::peers::start(&state).await?;
        tokio::spawn(crate::peers::run(Arc::downgrade(&state)));
        state.ready.store(true, Ordering::SeqCst);
        Ok(ApiServer { state })
    }

    /// The shared state (for tests and the host process).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Metrics, where a host process can register its own.
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }

    /// Flushes and closes the audit log (before the process exits).
    pub async fn close_audit(&self) {
        if let Some(a) = &self.state.config.audit {
            a.log.close().await;
        }
    }

    /// Marks the server ready or not (`/readyz`).
    pub fn set_ready(&self, ready: bool) {
        self.state.ready.store(ready, Ordering::SeqCst);
    }

    /// Creates an object as the server itself, unless one of that name
    /// exists (the objects a cluster needs at start).
    pub async fn ensure(
        &self,
        group: &str,
        plural: &str,
        namespace: Option<&str>,
        object: serde_json::Value,
    ) -> Result<(), ApiError> {
        crate::bootstrap::ensure(&self.state, plural, group, namespace, object).await
    }

    /// Takes this server out of the `kubernetes` endpoints, before it
    /// stops.
    pub async fn withdraw(&self) -> Result<(), ApiError> {
        crate::peers::withdraw(&self.state).await
    }

    /// The HTTP service.
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(dispatch)
            .with_state(self.state.clone())
    }
}

impl AppState {
    /// Whether `/readyz` says ok.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

/// Paths anyone may read without credentials (upstream lets anonymous
/// requests reach only these when anonymous access is otherwise off).
pub(crate) fn is_health_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    ["/healthz", "/livez", "/readyz"]
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

/// Who sends the request: the members of `system:masters` when
/// authentication is off; the anonymous user on the health paths.
async fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
) -> Result<ironclad_auth::UserInfo, Response> {
    let Some(auth) = &state.auth else {
        return Ok(ironclad_auth::UserInfo::authenticated(
            "admin",
            &[ironclad_auth::user::MASTERS],
        ));
    };
    let peer = parts.extensions.get::<crate::tls::Peer>();
    match auth
        .authn
        .authenticate(state.store.as_ref(), peer, &parts.headers)
        .await
    {
        Ok(user) => crate::security::impersonation::apply(&auth.authz, user, &parts.headers)
            .map_err(IntoResponse::into_response),
        Err(_) if is_health_path(parts.uri.path()) => Ok(ironclad_auth::UserInfo::anonymous()),
        Err(e) => Err(e.into_response()),
    }
}

/// Every request: reads the body (up to the limit), routes, records metrics.
async fn dispatch(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let user = match authenticate(&state, &parts).await {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::too_large(format!(
                "the request body is larger than the limit of {MAX_BODY_BYTES} bytes"
            ))
            .into_response();
        }
    };
    let path = parts.uri.path().to_string();
    let received = chrono::Utc::now();
    let audit_body = state.config.audit.as_ref().map(|_| body.clone());
    let outcome = handlers::handle(&state, &parts, body, user).await;
    let (verb, resource) = (outcome.verb, outcome.resource);
    let mut response = outcome.response;
    if let (Some(audit), Some((attrs, allowed, reason))) =
        (&state.config.audit, outcome.authorization)
    {
        response = crate::audit_request::record(
            audit,
            &parts,
            &attrs,
            (allowed, &reason),
            audit_body.as_deref().unwrap_or_default(),
            received,
            response,
        )
        .await;
    }
    let code = response.status().as_u16();
    state
        .metrics
        .observe(verb, &resource, code, started.elapsed().as_secs_f64());
    if parts.method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    if response.status() == StatusCode::NOT_FOUND
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    tracing::debug!(method = %parts.method, %path, code, "request");
    response
}

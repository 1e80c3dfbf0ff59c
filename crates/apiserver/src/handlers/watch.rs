//! WATCH: a chunked stream of JSON lines served from the watch cache, from
//! "now" (current objects as ADDED first) or after a resourceVersion;
//! selector transitions become ADDED/DELETED as upstream sends them;
//! bookmarks only when allowed; `timeoutSeconds`; 410 Gone as an ERROR
//! event when the revision was compacted.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, StatusCode, header};
use ironclad_api::ResourceInfo;
use ironclad_store::{EventKind, KeyRange, Revision, WatchRequest};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::Ctx;
use super::read::Filter;
use crate::error::{ApiError, Result};
use crate::objects;
use crate::request::Target;
use crate::response::{Shape, render_object, shape};
use crate::watchcache::{CacheEvent, EventType, Start, line};

/// How often a bookmark is sent when the client allows them.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);
/// Longest watch when the client names no timeout (upstream picks 30–60 min).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Sends events to one client, encoding them in the shape it asked for.
struct Sink {
    info: &'static ResourceInfo,
    shape: Shape,
    filter: Filter,
    tx: mpsc::Sender<Bytes>,
}

impl Sink {
    async fn send_line(&self, b: Bytes) -> bool {
        self.tx.send(b).await.is_ok()
    }

    async fn send_object(&self, kind: &str, obj: &Value) -> bool {
        let obj = render_object(self.info, self.shape, obj.clone());
        self.send_line(line(kind, &obj)).await
    }

    /// Sends a cached event, as the client's filter sees it: an object that
    /// starts matching is ADDED, one that stops matching is DELETED.
    async fn send_event(&self, ev: &CacheEvent) -> bool {
        let now = self.filter.matches(self.info, &ev.object);
        let before = ev
            .prev
            .as_ref()
            .is_some_and(|p| self.filter.matches(self.info, p));
        let kind = match (ev.kind, before, now) {
            (EventType::Deleted, _, _) if before || now => EventType::Deleted,
            (EventType::Deleted, _, _) => return true,
            (_, true, true) => EventType::Modified,
            (_, false, true) => EventType::Added,
            (_, true, false) => EventType::Deleted,
            (_, false, false) => return true,
        };
        if kind == ev.kind && self.shape == Shape::Plain {
            return self.send_line(ev.json_line_for(self.info)).await;
        }
        self.send_object(kind.as_str(), &ev.object).await
    }

    async fn bookmark(&self, revision: Revision, initial_end: bool) -> bool {
        let mut meta = json!({"resourceVersion": revision.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.info.kind, "apiVersion": self.info.api_version(), "metadata": meta});
        self.send_line(line("BOOKMARK", &obj)).await
    }

    async fn error(&self, e: &ApiError) -> bool {
        self.send_line(line("ERROR", &e.status())).await
    }
}

/// Starts a watch.
pub(crate) async fn watch(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let filter = Filter::from_request(ctx, t)?;
    let p = &ctx.params;
    let rv = p.resource_version.as_deref().unwrap_or("");
    let initial = p.send_initial_events();
    let start = match (rv, initial) {
        (_, Some(true)) | ("" | "0", _) => Start::Now,
        (rv, _) => Start::After(objects::parse_resource_version(rv)?),
    };
    let bookmarks = p.bookmarks();
    let timeout = p
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let cache = ctx.state.caches.get(&objects::prefix(t.info, None));
    let sub = match (start, rv) {
        (Start::Now, "0") => cache.subscribe(start).await?,
        (Start::Now, _) => cache.subscribe_consistent(ctx.state.store.as_ref()).await?,
        (start, _) => cache.subscribe(start).await?,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let sink = Sink {
        info: t.info,
        shape: shape(ctx.headers, p),
        filter,
        tx,
    };
    let state = ctx.state.clone();
    let info = t.info;
    state.metrics.watchers.inc();
    tokio::spawn(async move {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let run = async {
            match sub {
                Some(sub) => {
                    for obj in &sub.initial {
                        if sink.filter.matches(info, obj) && !sink.send_object("ADDED", obj).await {
                            return;
                        }
                    }
                    if initial == Some(true) && !sink.bookmark(sub.revision, true).await {
                        return;
                    }
                    let mut last = sub.revision;
                    for ev in &sub.backlog {
                        if !sink.send_event(ev).await {
                            return;
                        }
                        last = ev.revision;
                    }
                    live(&sink, sub.live, last, bookmarks, &cache).await;
                }
                None => {
                    if let Start::After(rev) = start {
                        from_store(&sink, &state, info, rev).await;
                    }
                }
            }
        };
        tokio::select! {
            _ = run => {}
            _ = &mut deadline => {}
        }
        state.metrics.watchers.dec();
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok::<Bytes, std::io::Error>);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

async fn live(
    sink: &Sink,
    mut rx: broadcast::Receiver<Arc<CacheEvent>>,
    mut last: Revision,
    bookmarks: bool,
    cache: &crate::watchcache::Cache,
) {
    let mut tick = tokio::time::interval(BOOKMARK_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(ev) => {
                    if ev.revision <= last {
                        continue;
                    }
                    last = ev.revision;
                    if !sink.send_event(&ev).await {
                        return;
                    }
                }
                // Too slow or the cache reloaded: end the watch; the client
                // re-watches from the last resourceVersion it saw.
                Err(_) => return,
            },
            _ = tick.tick(), if bookmarks => {
                let rev = cache.revision().max(last);
                if !sink.bookmark(rev, false).await {
                    return;
                }
            }
            _ = sink.tx.closed() => return,
        }
    }
}

/// A watch from a revision older than the cache's window: straight from the
/// store, ending with a 410 ERROR event when the revision is compacted.
async fn from_store(
    sink: &Sink,
    state: &crate::server::AppState,
    info: &'static ResourceInfo,
    rev: Revision,
) {
    let req = WatchRequest::new(KeyRange::prefix(objects::prefix(info, None).into_bytes()))
        .from_revision(rev + 1)
        .with_prev_kv();
    let mut stream = match state.store.watch(req).await {
        Ok(s) => s,
        Err(e) => {
            sink.error(&ApiError::from(e)).await;
            return;
        }
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(resp) => {
                for ev in resp.events {
                    let prev = ev
                        .prev_kv
                        .as_ref()
                        .and_then(|kv| objects::decode(kv).ok())
                        .map(Arc::new);
                    let (kind, obj) = match ev.kind {
                        EventKind::Put => {
                            let Ok(obj) = objects::decode(&ev.kv) else {
                                continue;
                            };
                            let kind = if ev.kv.create_revision == ev.kv.mod_revision {
                                EventType::Added
                            } else {
                                EventType::Modified
                            };
                            (kind, obj)
                        }
                        EventKind::Delete => {
                            let Some(p) = &prev else { continue };
                            let mut last = (**p).clone();
                            objects::set_resource_version(&mut last, ev.kv.mod_revision);
                            (EventType::Deleted, last)
                        }
                    };
                    let ce = CacheEvent::detached(kind, ev.kv.mod_revision, Arc::new(obj), prev);
                    if !sink.send_event(&ce).await {
                        return;
                    }
                }
            }
            Err(e) => {
                sink.error(&ApiError::from(e)).await;
                return;
            }
        }
    }
}

//! An API server on a fresh embedded store, called in process through its
//! router (no sockets), and helpers to wait on conditions.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use ironclad_apiserver::{ApiServer, Config};
use ironclad_store_embedded::EmbeddedStore;
use serde_json::Value;
use tower::ServiceExt;

/// A running server and its store.
pub struct Server {
    pub api: ApiServer,
    pub router: Router,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path(), Default::default())
            .await
            .unwrap();
        let api = ApiServer::new(Arc::new(store), Config::new([127, 0, 0, 1].into(), 6443))
            .await
            .unwrap();
        let router = api.router();
        Server {
            api,
            router,
            _dir: dir,
        }
    }

    /// Sends a request; returns the code, the headers and the JSON body
    /// (Null when not JSON).
    pub async fn call_full(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        accept: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, http::HeaderMap, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type);
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        let resp = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let code = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (code, headers, v)
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let (c, _, v) = self
            .call_full(method, path, "application/json", None, bytes)
            .await;
        (c, v)
    }

    pub async fn patch(&self, path: &str, content_type: &str, body: &str) -> (StatusCode, Value) {
        let (c, _, v) = self
            .call_full("PATCH", path, content_type, None, body.as_bytes().to_vec())
            .await;
        (c, v)
    }

    /// Opens a watch; returns a receiver of its events.
    pub async fn watch(&self, path: &str) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
        let req = Request::builder().uri(path).body(Body::empty()).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "watch {path}");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut body = resp.into_body();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    buf.extend_from_slice(data);
                    while let Some(i) = buf.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buf.drain(..=i).collect();
                        if let Ok(v) = serde_json::from_slice::<Value>(&line)
                            && tx.send(v).is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        rx
    }
}

/// Receives the next event within a deadline.
pub async fn next_event(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no watch event within 10 s")
        .expect("watch ended")
}

/// Polls `f` until it returns Some, or panics after 15 s.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

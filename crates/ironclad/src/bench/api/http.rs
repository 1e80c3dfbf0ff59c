//! The benchmark's HTTP side: a pooled HTTP/1.1 client for the API server
//! over TLS with a client certificate (hyper-util's client on a rustls
//! connector, with TCP_NODELAY as client-go's transport sets it) and the
//! ConfigMaps it sends.

use anyhow::Context;
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::credentials::Credentials;

/// Bytes of filler in every ConfigMap (the `bench store` value size).
const PAYLOAD_BYTES: usize = 256;

/// A client of one API server. Cheap to clone (the pool is shared).
/// Connections are kept and reused, as client-go's are: a TLS handshake is
/// paid once per connection, not per request.
#[derive(Clone)]
pub struct Api {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
}

impl Api {
    /// A client of `creds.server` presenting `creds`' client certificate.
    pub fn new(creds: &Credentials) -> anyhow::Result<Api> {
        let mut tcp = HttpConnector::new();
        // Without it, Nagle's algorithm and delayed ACKs can hold small
        // writes back by tens of milliseconds, which is the client's stall,
        // not the server's.
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(creds.tls_config()?)
            .https_only()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .build(connector);
        Ok(Api {
            client,
            base: creds.server.clone(),
        })
    }

    /// Sends a request and waits for its response headers.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<http::Response<Incoming>> {
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, "ironclad-bench")
            .body(Full::new(body.unwrap_or_default()))?;
        Ok(self.client.request(req).await?)
    }

    /// Sends a request and reads the whole response; fails unless its
    /// status is `want`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        want: StatusCode,
    ) -> anyhow::Result<Bytes> {
        let what = format!("{method} {path}");
        let resp = self.send(method, path, body).await.context(what.clone())?;
        let code = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .context(what.clone())?
            .to_bytes();
        anyhow::ensure!(
            code == want,
            "{what}: {code} (wanted {want}): {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        );
        Ok(bytes)
    }

    /// Starts a streaming GET (a watch); returns its body once the server
    /// answered 200.
    pub async fn open(&self, path: &str) -> anyhow::Result<Incoming> {
        let resp = self
            .send(Method::GET, path, None)
            .await
            .with_context(|| format!("GET {path}"))?;
        anyhow::ensure!(
            resp.status() == StatusCode::OK,
            "GET {path}: {}",
            resp.status()
        );
        Ok(resp.into_body())
    }

    /// Whether `/readyz` answers 200.
    pub async fn ready(&self) -> bool {
        self.call(Method::GET, "/readyz", None, StatusCode::OK)
            .await
            .is_ok()
    }

    /// Creates a namespace.
    pub async fn create_namespace(&self, name: &str) -> anyhow::Result<()> {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        self.call(
            Method::POST,
            "/api/v1/namespaces",
            Some(Bytes::from(body.to_string())),
            StatusCode::CREATED,
        )
        .await?;
        Ok(())
    }

    /// Creates a ConfigMap; returns its resourceVersion.
    pub async fn create_configmap(
        &self,
        ns: &str,
        name: &str,
        seq: usize,
    ) -> anyhow::Result<String> {
        let resp = self
            .call(
                Method::POST,
                &collection(ns),
                Some(configmap(ns, name, seq)),
                StatusCode::CREATED,
            )
            .await?;
        let obj: Value = serde_json::from_slice(&resp).context("decode a created ConfigMap")?;
        obj.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string)
            .context("a created ConfigMap has no resourceVersion")
    }

    /// Replaces a ConfigMap (PUT without a resourceVersion: unconditional).
    pub async fn update_configmap(&self, ns: &str, name: &str, seq: usize) -> anyhow::Result<()> {
        self.call(
            Method::PUT,
            &format!("{}/{name}", collection(ns)),
            Some(configmap(ns, name, seq)),
            StatusCode::OK,
        )
        .await?;
        Ok(())
    }

    /// The bytes the server stores for a ConfigMap: its JSON without the
    /// resourceVersion (which the server keeps as the key's revision).
    pub async fn stored_bytes(&self, ns: &str, name: &str) -> anyhow::Result<Bytes> {
        let resp = self
            .call(
                Method::GET,
                &format!("{}/{name}", collection(ns)),
                None,
                StatusCode::OK,
            )
            .await?;
        let mut obj: Value = serde_json::from_slice(&resp).context("decode a ConfigMap")?;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        Ok(Bytes::from(serde_json::to_vec(&obj)?))
    }
}

/// The path of the ConfigMaps of a namespace.
pub fn collection(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps")
}

/// A ConfigMap with a sequence number (which watchers look for) and
/// [`PAYLOAD_BYTES`] of filler.
pub fn configmap(ns: &str, name: &str, seq: usize) -> Bytes {
    let body = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "ironclad-bench"}},
        "data": {"seq": seq.to_string(), "payload": "v".repeat(PAYLOAD_BYTES)},
    });
    Bytes::from(body.to_string())
}

/// The sequence number in a ConfigMap's JSON (as this module writes it and
/// the server sends it back: compact, `"seq":"<n>"`), without decoding the
/// whole object — a thousand watchers decode every event.
pub fn find_seq(json: &[u8]) -> Option<usize> {
    const NEEDLE: &[u8] = b"\"seq\":\"";
    let at = json.windows(NEEDLE.len()).position(|w| w == NEEDLE)? + NEEDLE.len();
    let digits = json[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&json[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sequence_number_of_a_configmap() {
        assert_eq!(find_seq(&configmap("ns", "a", 4711)), Some(4711));
        let event = br#"{"type":"MODIFIED","object":{"metadata":{"managedFields":[{"fieldsV1":{"f:data":{"f:seq":{}}}}]},"data":{"payload":"v","seq":"12"}}}"#;
        assert_eq!(find_seq(event), Some(12));
        assert_eq!(find_seq(b"{\"data\":{}}"), None);
    }
}

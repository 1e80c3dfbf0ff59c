//! An API server in this process, on loopback.

use std::net::SocketAddr;
use std::sync::Arc;

use ironclad_apiserver::{ApiServer, Config};
use ironclad_store::Store;
use ironclad_store_embedded::EmbeddedStore;
use kube::Client;

use crate::Error;

/// A running API server on a throwaway store, and a client for it. The
/// server stops when this is dropped.
pub struct TestCluster {
    /// Where it listens (`http://{addr}`).
    pub addr: SocketAddr,
    /// The store under it.
    pub store: Arc<dyn Store>,
    /// The server.
    pub api: ApiServer,
    serve: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl TestCluster {
    /// Starts a server on a new store, on a free loopback port.
    pub async fn start() -> Result<TestCluster, Error> {
        let setup = |what: &str, e: &dyn std::fmt::Display| Error::Setup(format!("{what}: {e}"));
        let dir = tempfile::tempdir().map_err(|e| setup("temp dir", &e))?;
        let config = ironclad_store_embedded::Config {
            // Throwaway store: no fsync per write, so tests run at memory speed.
            durable: false,
            ..Default::default()
        };
        let store: Arc<dyn Store> = Arc::new(
            EmbeddedStore::open(dir.path(), config)
                .await
                .map_err(|e| setup("open the store", &e))?,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| setup("listen", &e))?;
        let addr = listener.local_addr().map_err(|e| setup("listen", &e))?;
        let api = ApiServer::new(store.clone(), Config::new(addr.ip(), addr.port()))
            .await
            .map_err(|e| setup("start the API server", &e))?;
        let router = api.router();
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(TestCluster {
            addr,
            store,
            api,
            serve,
            _dir: dir,
        })
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new client for the server (default namespace `default`).
    pub fn client(&self) -> Result<Client, Error> {
        client_for(&self.url())
    }
}

/// A client for an API server at `url` (plain HTTP, no credentials).
pub fn client_for(url: &str) -> Result<Client, Error> {
    let uri = url
        .parse()
        .map_err(|e| Error::Setup(format!("server URL {url:?}: {e}")))?;
    let config = kube::Config::new(uri);
    Client::try_from(config).map_err(Error::Api)
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.serve.abort();
    }
}

//! Fixtures shared by the test binaries: a fresh etcd cluster per case.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;

use ironclad_store::conformance::Fixture;
use ironclad_store_etcd::{ETCD_BIN_ENV, EtcdCluster, EtcdStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts a `members`-member etcd cluster and connects a store to it.
/// Fails loudly when etcd cannot run: these tests must not pass by skipping.
pub async fn cluster(members: usize) -> (EtcdStore, EtcdCluster) {
    let cluster = EtcdCluster::start(members).await.unwrap_or_else(|e| {
        panic!(
            "cannot start a {members}-member etcd cluster: {e}\n\
             These tests need etcd v3 on PATH (scripts/setup.sh installs it) \
             or its path in {ETCD_BIN_ENV}."
        )
    });
    let store = EtcdStore::connect(&cluster.client_urls())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to etcd at {:?}: {e}", cluster.client_urls()));
    (store, cluster)
}

/// A conformance fixture on a fresh `members`-member cluster.
pub async fn fixture(members: usize) -> Fixture {
    let (store, cluster) = cluster(members).await;
    Fixture::new(Arc::new(store), cluster)
}

/// How many watchers member `url` serves, from its Prometheus metrics.
pub async fn watchers_on(url: &str) -> u64 {
    let addr = url.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to etcd's client port");
    let request = format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    conn.write_all(request.as_bytes())
        .await
        .expect("send a metrics request");
    let mut body = String::new();
    conn.read_to_string(&mut body)
        .await
        .expect("read the metrics");
    let value = body
        .lines()
        .find_map(|l| l.strip_prefix("etcd_debugging_mvcc_watcher_total "))
        .unwrap_or_else(|| panic!("no watcher gauge in {url}/metrics"));
    value.trim().parse::<f64>().expect("a number") as u64
}

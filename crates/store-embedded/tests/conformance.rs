//! The store conformance suite against the embedded backend, durable (fsync
//! on) as in production.

use std::sync::Arc;

use ironclad_store::conformance::Fixture;
use ironclad_store_embedded::{Config, EmbeddedStore};

async fn fresh() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .expect("open store");
    Fixture::new(Arc::new(store), dir)
}

ironclad_store::conformance_tests!(fresh);

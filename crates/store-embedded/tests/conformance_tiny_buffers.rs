//! The conformance suite again with 2-slot watch buffers, so that nearly
//! every watch falls off the live path and is caught up from the log: the
//! synced/catching-up hand-over must lose and duplicate nothing.

use std::sync::Arc;

use ironclad_store::conformance::Fixture;
use ironclad_store_embedded::{Config, EmbeddedStore};

async fn fresh() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        watch_buffer: 2,
        max_batch: 4,
        ..Config::default()
    };
    let store = EmbeddedStore::open(dir.path(), config)
        .await
        .expect("open store");
    Fixture::new(Arc::new(store), dir)
}

ironclad_store::conformance_tests!(fresh);

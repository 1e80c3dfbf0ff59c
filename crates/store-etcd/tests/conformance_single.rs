//! The store conformance suite on a fresh single-member etcd per case.

mod common;

async fn fresh() -> ironclad_store::conformance::Fixture {
    common::fixture(1).await
}

ironclad_store::conformance_tests!(fresh);

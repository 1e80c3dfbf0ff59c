//! The store conformance suite on a fresh three-member etcd cluster per
//! case: reads and writes spread over members, so the suite checks that
//! answers stay linearizable whichever member serves them.

mod common;

async fn fresh() -> ironclad_store::conformance::Fixture {
    common::fixture(3).await
}

ironclad_store::conformance_tests!(fresh);

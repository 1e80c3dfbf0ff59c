//! Leader election over the store.

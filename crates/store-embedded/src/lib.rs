//! ironclad's embedded store.

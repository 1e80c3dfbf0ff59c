//! The Kubernetes REST API server of ironclad.
//!
//! A request enters at [`server::ApiServer::router`]; `handlers` routes it
//! by path and verb (`request` parses both). Objects live in the store as
//! their JSON (`objects`); every write goes through the pipeline in
//! `handlers/write.rs` (machinery, defaulting, validation, managed fields,
//! one guarded transaction). Watches and `resourceVersion=0` lists are
//! served from the `watchcache`, one store watch per resource.

mod admission;
pub mod audit;
mod audit_request;
mod bootstrap;
pub mod encrypted_store;
pub mod encryption;
pub mod error;
mod go_json;
mod handlers;
mod kinds;
pub mod machinery;
pub mod metrics;
pub mod objects;
pub mod peers;
mod prune;
pub mod request;
pub mod response;
pub mod security;
pub mod server;
pub mod services;
pub mod tls;
pub mod watchcache;

pub use error::ApiError;
pub use server::{ApiServer, Config, MAX_BODY_BYTES};

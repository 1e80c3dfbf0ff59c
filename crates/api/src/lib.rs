//! The Kubernetes object model of ironclad, with no I/O: the registry of
//! resources the API server serves (`registry`), their OpenAPI schemas
//! (`schema`), and the pure logic the server applies to objects. Start with
//! [`registry::RESOURCES`].

pub mod certificates;
pub mod conversion;
pub mod defaults;
pub mod discovery;
pub mod openapi;
pub mod registry;
pub mod schema;
pub mod selector;
pub mod strict;
pub mod validation;

pub use registry::{ResourceInfo, Storage, Subresource};

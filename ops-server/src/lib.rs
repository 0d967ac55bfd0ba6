//! Shaken Fist's REST API for cluster operations, served from the ops store, so that API consumers (the
//! `shakenfist-client` among them) work unchanged: `opsctl serve` runs it; docs/operator_guide/api.md
//! lists what it serves, and docs/plans/PLAN-ops-server.md how it was built.
//!
//! The [`Server`] serves the health endpoints, `POST /auth` and bearer [`tokens`] for the namespaces'
//! [`keys`], the capabilities page, the cluster-operation reads, the object views and the asynchronous
//! network delete, the op schemas and its own OpenAPI document ([`openapi_document`]); every error in
//! Shaken Fist's shape ([`ApiError`]); and the operators' dashboard under `/dashboard`
//! (docs/operator_guide/dashboard.md), behind the same keys.

mod auth;
mod capabilities;
mod clusterops;
mod dashboard;
mod error;
mod health;
pub mod keys;
mod objects;
mod openapi;
mod ratelimit;
mod schemas;
mod server;
pub mod tokens;

pub use error::ApiError;
pub use openapi::document_json as openapi_document;
pub use ratelimit::AuthRate;
pub use server::{Server, ServerError, ServerOptions};

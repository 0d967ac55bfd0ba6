//! Shaken Fist's REST API for cluster operations, served from the ops store, so that API consumers (the
//! `shakenfist-client` among them) work unchanged. Built in phases: docs/plans/PLAN-ops-server.md.
//!
//! So far: the [`Server`] with its health endpoints and Shaken Fist's error shape ([`ApiError`]), and
//! [`keys`], the namespaces' API keys — made, hashed and checked.

mod error;
mod health;
pub mod keys;
mod server;
pub mod tokens;

pub use error::ApiError;
pub use server::{Server, ServerError, ServerOptions};

//! Shaken Fist's REST API for cluster operations, served from the ops store, so that API consumers (the
//! `shakenfist-client` among them) work unchanged. Built in phases: docs/plans/PLAN-ops-server.md.
//!
//! So far: the [`Server`] with its health endpoints, Shaken Fist's error shape ([`ApiError`]), `POST
//! /auth` and bearer [`tokens`] for the namespaces' [`keys`], the capabilities page, and
//! the cluster-operation reads, object views and the asynchronous network delete, and the op schemas.

mod auth;
mod capabilities;
mod clusterops;
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

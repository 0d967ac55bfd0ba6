//! Shaken Fist's REST API for cluster operations, served from the ops store, so that API consumers (the
//! `shakenfist-client` among them) work unchanged. Built in phases: docs/plans/PLAN-ops-server.md.
//!
//! So far: [`keys`], the namespaces' API keys — made, hashed and checked.

pub mod keys;

//! `#[derive(ClusterOperation)]` for ops-core.
//!
//! The derive itself arrives with its own issue (see `docs/plans/`); this crate exists now so the workspace
//! has its final shape and later changes touch only what they build.

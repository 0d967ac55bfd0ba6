//! The Shaken Fist cluster operations as typed structs.
//!
//! The operation types arrive with their own issue, once `#[derive(ClusterOperation)]` exists to declare
//! their targets; this crate exists now so the workspace has its final shape.

//! The 14 Shaken Fist cluster operations as typed structs, the registry of op types, and the JSON Schema of
//! each op's wire form.
//!
//! Every op is declared with `#[derive(ClusterOperation)]`, so its targets are recorded at enqueue and a
//! forgotten one does not compile. [`registry::OPS`] lists them all (checked at compile time against
//! [`ops_core::ObjectType`]); [`schema::render_all`] produces the files committed under `schemas/`.

pub mod ops;
pub mod registry;
pub mod repairs;
pub mod schema;
mod tasks;
pub mod types;

pub use registry::{
    AnyHandler, AnyJob, AnyOp, BodyError, EnqueueRequest, OPS, OpKind, RequestError, UnknownOpType,
    lookup,
};
pub use repairs::ShakenFistRepairs;
pub use tasks::TaskList;

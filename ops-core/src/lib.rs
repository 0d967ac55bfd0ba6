//! Typed, target-tracked cluster operations on SQLite, MariaDB and PostgreSQL.
//!
//! A *cluster operation* is a typed job that acts on objects (instances, networks, artifacts, blobs,
//! interfaces). Each op declares its targets; enqueueing it writes one `cluster_operation_targets` row per
//! target in the same transaction as the op itself, so "is anything still working on this network?" is a
//! question the database can answer exactly, whatever finished later. That answer, [`Store::has_pending`],
//! replaces Shaken Fist's single `last_cluster_operation` pointer and the two races it caused.
//!
//! - The model: typed ids ([`InstanceId`], [`NetworkId`], ...) with the sealed [`Target`] trait,
//!   [`ObjectType`], [`Priority`], [`OpState`] and its legal transitions, the [`ClusterOperation`] trait.
//! - The store: [`Store::connect`] picks the backend from the URL, [`Store::migrate`] applies the embedded
//!   migrations, and the queries answer `has_pending`, `latest`, `pending`, `history`, `filter_pending`.
//! - Enqueueing: an op's generated `enqueue` builder ([`Enqueue`]) is the only way to write target rows.

// Lets `::ops_core::...` paths, as generated code writes them, resolve inside this crate too.
extern crate self as ops_core;

mod enqueue;
mod error;
mod id;
mod object_type;
mod operation;
mod priority;
mod state;
pub mod store;

pub use enqueue::{Enqueue, MAX_REQUEST_ID, NoPriority};
pub use error::{EnqueueError, StoreError};
pub use id::{
    AgentOperationId, ArtifactId, BlobId, InstanceId, InterfaceId, NetworkId, NodeId,
    NotATargetType, ObjectId, ObjectRef, OpId, Target,
};
pub use object_type::{ObjectType, UnknownObjectType};
pub use operation::{
    ClusterOperation, ContextSet, Dependency, Envelope, Family, HEADER_KEYS, Header, OpTask,
    QueueTarget, TargetSet, queue_name,
};
/// The derive shares the trait's name, as serde's do: `use ops_core::ClusterOperation;` brings both.
pub use ops_derive::ClusterOperation;
pub use priority::{Priority, UnknownPriority};
pub use state::{IllegalTransition, OpState, UnknownState};
pub use store::{
    Dialect, EventRecord, HistoryPage, OpRecord, OpRef, SchemaVersion, Store, StoreOptions,
    TargetRow, TargetingOp, TerminalOp,
};

#[doc(hidden)]
pub mod __private;

//! Typed, target-tracked cluster operations on SQLite, MariaDB and PostgreSQL.
//!
//! A *cluster operation* is a typed job that acts on objects (instances, networks, artifacts, blobs,
//! interfaces). Each op declares its targets; enqueueing it writes one `cluster_operation_targets` row per
//! target in the same transaction as the op itself, so "is anything still working on this network?" is a
//! question the database can answer exactly, whatever finished later. That answer, [`Store::has_pending`],
//! replaces Shaken Fist's single `last_cluster_operation` pointer and the two races it caused.
//!
//! - The model: typed ids ([`InstanceId`], [`NetworkId`], ...) with the sealed [`Target`] trait,
//!   [`ObjectType`], [`Priority`], [`OpState`] and its legal transitions, the [`ClusterOperation`] trait
//!   and its derive, `#[derive(ClusterOperation)]` with `#[target]` / `#[context]` on the fields. Deny by
//!   default: a field with neither attribute must be [`OpData`] — known to hold no undeclared object id —
//!   which no id is, in any container, map, tuple or alias; your own nested types `#[derive(OpData)]`.
//! - The store: [`Store::connect`] picks the backend from the URL, [`Store::migrate`] applies the embedded
//!   migrations, and the queries answer `has_pending`, `latest`, `pending`, `history`, `filter_pending`.
//! - Enqueueing: an op's generated `enqueue` builder ([`Enqueue`]) is the only way to write target rows.
//!
//! ```no_run
//! use ops_core::{ClusterOperation, NetworkId, NodeId, OpTask, Priority, Store};
//! use serde::{Deserialize, Serialize};
//!
//! # #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
//! # enum NodeNetTask { NetworkApplyCreateHypervisor }
//! # impl OpTask for NodeNetTask { fn name(self) -> &'static str { "network_apply_create_hypervisor" } }
//! #[derive(Serialize, Deserialize, ClusterOperation)]
//! #[operation(name = "node_net_op", tasks = NodeNetTask, queue = node, family = network)]
//! struct NodeNetOp {
//!     #[context]
//!     node_uuid: NodeId,
//!     #[target]
//!     network_uuid: NetworkId,
//! }
//!
//! # async fn run(node_uuid: NodeId, network_uuid: NetworkId) -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::connect("sqlite://ops.db").await?;
//! store.require_current_schema().await?;
//! NodeNetOp { node_uuid, network_uuid }
//!     .enqueue(&store)
//!     .priority(Priority::Background)
//!     .task(NodeNetTask::NetworkApplyCreateHypervisor)
//!     .await?;
//! // Until that op ends, whatever finishes meanwhile, the network is busy:
//! assert!(store.has_pending(network_uuid).await?);
//! # Ok(())
//! # }
//! ```

// Lets `::ops_core::...` paths, as generated code writes them, resolve inside this crate too.
extern crate self as ops_core;

mod enqueue;
mod error;
mod id;
pub mod network;
mod object;
mod object_state;
mod object_type;
mod op_data;
mod operation;
mod priority;
mod state;
pub mod store;
pub mod view;
pub mod worker;

pub use enqueue::{Enqueue, MAX_REQUEST_ID, NoPriority};
pub use error::{EnqueueError, ErrorChain, StoreError, WireError};
pub use id::{
    AgentOperationId, ArtifactId, BlobId, InstanceId, InterfaceId, NetworkId, NodeId,
    NotATargetType, ObjectId, ObjectRef, OpId, Target,
};
pub use object::{Network, NewObject, ObjectDetails, ObjectRecord, SYSTEM_NAMESPACE};
pub use object_state::{ObjectState, UnknownObjectState};
pub use object_type::{ObjectType, UnknownObjectType};
pub use op_data::OpData;
pub use operation::{
    ClusterOperation, CoalesceKey, ContextSet, Dependency, Envelope, Family, HEADER_KEYS, Header,
    OpTask, QueueTarget, TargetSet, queue_name,
};
/// The derive shares the trait's name, as serde's do: `use ops_core::ClusterOperation;` brings both.
pub use ops_derive::ClusterOperation;
/// `#[derive(OpData)]` for a type used inside an operation: its id fields must say `#[context]`.
pub use ops_derive::OpData;
pub use priority::{Priority, UnknownPriority};
pub use state::{IllegalTransition, OpState, UnknownState};
pub use store::{
    BackfillReport, Dialect, EventRecord, HistoryPage, MigrationReport, MigrationStep,
    NamespaceKey, OpRecord, OpRef, OpTimeline, PrunePolicy, PruneReport, QueueDepth, QueueOverview,
    RecordedPass, SchemaVersion, SqlxPool, Store, StoreOptions, TargetRow, TargetingOp, TerminalOp,
};
pub use worker::{OpContext, OpError, Worker};

#[doc(hidden)]
pub mod __private;

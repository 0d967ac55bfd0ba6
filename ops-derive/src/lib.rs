//! `#[derive(ClusterOperation)]`: an operation's targets declared on its fields, checked at compile time.
//!
//! Use it through ops-core, which re-exports it beside the trait (`use ops_core::ClusterOperation;`):
//!
//! ```
//! use ops_core::{ClusterOperation, InstanceId, InterfaceId, NetworkId, NodeId, OpTask};
//! use serde::{Deserialize, Serialize};
//!
//! # #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
//! # pub enum NodeInstNetIfaceTask { HotPlugInstanceInterface }
//! # impl OpTask for NodeInstNetIfaceTask {
//! #     fn name(self) -> &'static str { "hot_plug_instance_interface" }
//! # }
//! #[derive(Serialize, Deserialize, ClusterOperation)]
//! #[operation(name = "node_inst_net_iface_op", version = 1, tasks = NodeInstNetIfaceTask, queue = node)]
//! pub struct NodeInstNetIfaceOp {
//!     #[context] pub node_uuid: NodeId,
//!     #[target] pub instance_uuid: InstanceId,
//!     #[target] pub network_uuid: NetworkId,
//!     #[target] pub interface_uuid: InterfaceId,
//! }
//!
//! let op = NodeInstNetIfaceOp {
//!     node_uuid: NodeId::new_v4(),
//!     instance_uuid: InstanceId::new_v4(),
//!     network_uuid: NetworkId::new_v4(),
//!     interface_uuid: InterfaceId::new_v4(),
//! };
//! assert_eq!(op.targets().len(), 3);
//! ```
//!
//! The developer guide, with every attribute and every compile error, is part of the docs of the
//! `ClusterOperation` derive below.
//!
//! The crate is split as serde_derive and thiserror are: `attr` parses the attributes, `ast` builds the
//! model, `check` validates the whole item, `expand` generates code (`operation` and `op_data`, one module
//! per derive), and `fallback` is what goes out beside the errors. Every error of an item is collected in a `Ctxt` and reported in one compile.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `ops_core::ClusterOperation` and the `enqueue` builder method.
///
/// The whole developer guide, every attribute and every compile error, follows below (it is
/// `docs/developer_guide/adding-an-operation.md` in the repository).
///
/// Container: `#[operation(name = "..._op", version = N, tasks = TaskEnum, queue = node | any |
/// network_node, family = network, untargeted)]`; `name`, `tasks` and `queue` are required, `version`
/// defaults to 1 and `family` to `clusteroperation`.
///
/// Fields: `#[target]` on every object the op acts on (typed ids, alone or in any std container, map or
/// tuple), `#[context]` on what says where or with what it runs (the node, addresses). Every other field must
/// be `ops_core::OpData`, which no object id is, at any depth: a forgotten id does not compile, whatever
/// container, alias or nested type holds it. `#[plain]` vouches for a foreign type that cannot implement
/// `OpData` and holds no object id.
///
#[doc = include_str!("../adding-an-operation.md")]
#[proc_macro_derive(ClusterOperation, attributes(operation, target, context, plain))]
pub fn derive_cluster_operation(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::operation::derive(&input).into()
}

/// Derives `ops_core::OpData` for a struct or enum used inside an operation.
///
/// Its fields follow the operation's rule: a field that holds an object id says `#[context]` (ids inside a
/// nested type are context of the operation, linked to its audit event; targets are the operation's own
/// fields), and every other field must be `OpData` itself. `#[plain]` marks a field of a foreign type that
/// holds no object id and cannot implement the trait. Generic types are bounded per field that uses a
/// parameter.
#[proc_macro_derive(OpData, attributes(target, context, plain))]
pub fn derive_op_data(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::op_data::derive(&input).into()
}

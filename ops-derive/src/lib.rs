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
//! See `docs/developer_guide/adding-an-operation.md` for every attribute and every compile error.
//!
//! The crate is split as serde_derive and thiserror are: `attr` parses the attributes, `ast` builds the
//! model, `check` validates the whole item, `expand` generates code, and `fallback` is what goes out
//! beside the errors. Every error of an item is collected in a `Ctxt` and reported in one compile.

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
/// Container: `#[operation(name = "..._op", version = N, tasks = TaskEnum, queue = node | any |
/// network_node, family = network, untargeted)]`; `name`, `tasks` and `queue` are required, `version`
/// defaults to 1 and `family` to `clusteroperation`.
///
/// Fields: `#[target]` on every object the op acts on (typed ids, alone or in `Option`, `Vec`, `BTreeSet`,
/// `Box`), `#[context]` on what says where or how it runs (the node, addresses). A field that holds an
/// object id with neither attribute does not compile — also behind a type alias or a wrapper.
#[proc_macro_derive(ClusterOperation, attributes(operation, target, context))]
pub fn derive_cluster_operation(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}

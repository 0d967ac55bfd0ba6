//! `net_iface_op`: float an interface.

use ops_core::ClusterOperation;
use ops_core::{InterfaceId, NetworkId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `net_iface_op` does.
    pub enum NetIfaceTask {
        /// Give the interface a floating address.
        InterfaceFloat = 1 => "interface_float",
    }
}

/// Floats an interface, on the network node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "net_iface_op", version = 1, tasks = NetIfaceTask, queue = network_node)]
pub struct NetIfaceOp {
    /// The interface's network.
    #[target]
    pub network_uuid: NetworkId,
    /// The interface.
    #[target]
    pub interface_uuid: InterfaceId,
}

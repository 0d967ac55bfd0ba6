//! `node_net_op`: per-network work on a hypervisor.

use ops_core::ClusterOperation;
use ops_core::{NetworkId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `node_net_op` does.
    pub enum NodeNetTask {
        /// Remove the network from the hypervisor.
        NetworkDestroy = 1 => "network_destroy",
        /// Create the network on the hypervisor (the maintainer's repair).
        NetworkApplyCreateHypervisor = 2 => "network_apply_create_hypervisor",
    }
}

/// Network work on the hypervisor `node_uuid`, on its per-node network queue
/// (`{node_uuid}-network-{priority}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "node_net_op", version = 1, tasks = NodeNetTask, queue = node, family = network)]
pub struct NodeNetOp {
    /// The hypervisor.
    #[context]
    pub node_uuid: NodeId,
    /// The network.
    #[target]
    pub network_uuid: NetworkId,
}

//! `node_inst_net_iface_op`: plug an interface into an instance.

use ops_core::ClusterOperation;
use ops_core::{InstanceId, InterfaceId, NetworkId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `node_inst_net_iface_op` does.
    pub enum NodeInstNetIfaceTask {
        /// Hot-plug the interface into the running instance.
        HotPlugInstanceInterface = 1 => "hot_plug_instance_interface",
        /// Attach the interface to the instance's definition.
        AttachInstanceInterface = 2 => "attach_instance_interface",
    }
}

/// Interface work on an instance, on its node. Three targets: the instance, the network and the interface
/// (the hot-plug flow whose forgotten network target caused the plan's CI failure).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "node_inst_net_iface_op", version = 1, tasks = NodeInstNetIfaceTask, queue = node)]
pub struct NodeInstNetIfaceOp {
    /// The instance's node.
    #[context]
    pub node_uuid: NodeId,
    /// The instance.
    #[target]
    pub instance_uuid: InstanceId,
    /// The interface's network.
    #[target]
    pub network_uuid: NetworkId,
    /// The interface.
    #[target]
    pub interface_uuid: InterfaceId,
}

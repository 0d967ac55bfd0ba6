//! `node_inst_netdesc_op`: preflight or start an instance with its network description.

use ops_core::ClusterOperation;
use ops_core::{InstanceId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `node_inst_netdesc_op` does.
    pub enum NodeInstNetdescTask {
        /// Check the instance can start with these networks.
        InstancePreflight = 1 => "instance_preflight",
        /// Start it.
        InstanceStart = 2 => "instance_start",
    }
}

/// Instance start-up work on `node_uuid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "node_inst_netdesc_op", version = 1, tasks = NodeInstNetdescTask, queue = node)]
pub struct NodeInstNetdescOp {
    /// The node.
    #[context]
    pub node_uuid: NodeId,
    /// The instance.
    #[target]
    pub instance_uuid: InstanceId,
    /// The instance's network description, one object per interface, as the API passed it.
    #[context]
    pub net_desc: Vec<serde_json::Map<String, serde_json::Value>>,
}

//! `node_aop_op`: preflight an agent operation on a node.

use ops_core::ClusterOperation;
use ops_core::{AgentOperationId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `node_aop_op` does.
    pub enum NodeAopTask {
        /// Check the agent operation can run.
        Preflight = 1 => "preflight",
    }
}

/// Preflights an agent operation on `node_uuid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "node_aop_op", version = 1, tasks = NodeAopTask, queue = node)]
pub struct NodeAopOp {
    /// The node.
    #[context]
    pub node_uuid: NodeId,
    /// The agent operation.
    #[target]
    pub agentoperation_uuid: AgentOperationId,
}

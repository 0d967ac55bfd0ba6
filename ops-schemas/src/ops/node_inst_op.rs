//! `node_inst_op`: per-instance work on its node (billing, health, delete).

use ops_core::ClusterOperation;
use ops_core::{InstanceId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `node_inst_op` does.
    pub enum NodeInstTask {
        /// Record usage for billing.
        CollectBillingStatistics = 1 => "collect_billing_statistics",
        /// Check the KVM process is alive.
        HealthCheckKvmProcess = 2 => "health_check_kvm_process",
        /// Delete the instance.
        InstanceDelete = 3 => "instance_delete",
    }
}

/// Per-instance work on `node_uuid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "node_inst_op", version = 1, tasks = NodeInstTask, queue = node)]
pub struct NodeInstOp {
    /// The instance's node.
    #[context]
    pub node_uuid: NodeId,
    /// The instance.
    #[target]
    pub instance_uuid: InstanceId,
}

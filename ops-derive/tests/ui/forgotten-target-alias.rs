use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// Renaming the type must not smuggle a forgotten target past the derive.
type Guest = InstanceId;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = node)]
struct NodeInstOp {
    #[context]
    node_uuid: NodeId,
    #[target]
    network_uuid: NetworkId,
    guest: Guest,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// Every error of the item comes out of one compile.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "inst", tasks = Task, queue = any, retries = 3)]
struct NodeInstOp {
    #[target]
    node_uuid: NodeId,
    #[target]
    #[context]
    instance_uuid: InstanceId,
    network_uuid: NetworkId,
}

fn main() {}

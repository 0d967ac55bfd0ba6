use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Hypervisor = NodeId;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = any)]
struct NodeInstOp {
    #[target]
    hypervisor: Hypervisor,
    #[target]
    instance_uuid: InstanceId,
}

fn main() {}

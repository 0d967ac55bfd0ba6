use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = any)]
struct NodeInstOp {
    #[target]
    #[target]
    instance_uuid: InstanceId,
}

fn main() {}

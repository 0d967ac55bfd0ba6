use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_aop_op", tasks = Task, queue = node)]
struct NodeAopOp {
    #[context]
    node_uuid: NodeId,
    command: String,
}

fn main() {}

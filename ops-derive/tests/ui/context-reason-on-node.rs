use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// A node is never a target: it needs no reason to be context.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    #[context(reason = "where it runs")]
    node_uuid: NodeId,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// The derive generates an inherent `enqueue`; a method of that name of your own collides.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
}

impl NetOp {
    fn enqueue(&self) {}
}

fn main() {}

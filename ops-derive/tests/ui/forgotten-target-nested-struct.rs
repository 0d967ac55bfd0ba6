use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize)]
struct Hop {
    network: NetworkId,
    weight: u8,
}

/// A struct of its own that holds an id, not derived `OpData`.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    hops: Vec<Hop>,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize)]
struct Hop {
    network: NetworkId,
}

/// A nested struct deep in `Option<Vec<_>>`.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    hops: Option<Vec<Hop>>,
}

fn main() {}

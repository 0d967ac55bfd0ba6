use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize)]
struct Hop {
    network: NetworkId,
}

type Hops = Vec<Hop>;

/// An alias of a container of a nested struct.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    hops: Hops,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Guest = InstanceId;

/// A boxed slice of aliased ids.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    network_uuid: NetworkId,
    guests: Box<[Guest]>,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// `#[context]` takes `reason` and nothing else.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    #[context(why = "read only")]
    network_uuid: NetworkId,
}

fn main() {}

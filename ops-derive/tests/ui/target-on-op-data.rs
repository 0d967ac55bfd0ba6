use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, OpData)]
struct Hop {
    #[context(reason = "routed through, not acted on")]
    network: NetworkId,
}

/// A nested type declares context, never targets: it cannot be a target field.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    #[target]
    hop: Hop,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = node_or_network_node)]
struct NetOp {
    #[target]
    network_uuid: NetworkId,
    #[context]
    node_uuid: NodeId,
}

fn main() {}

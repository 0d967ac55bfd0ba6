use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = node_or_network_node, family = network)]
struct NetOp {
    #[target]
    network_uuid: NetworkId,
    #[context]
    node_uuid: Option<NodeId>,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_ip_op", tasks = Task, queue = network_node)]
struct NetIpOp {
    #[target]
    network_uuid: NetworkId,
    #[target]
    ip: std::net::IpAddr,
}

fn main() {}

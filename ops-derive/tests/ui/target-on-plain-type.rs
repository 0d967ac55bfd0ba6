use ops_core::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Task {
    Run,
}

impl OpTask for Task {
    fn name(self) -> &'static str {
        "run"
    }
}

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_ip_op", tasks = Task, queue = network_node)]
struct NetIpOp {
    #[target]
    network_uuid: NetworkId,
    #[target]
    ip: std::net::IpAddr,
}

fn main() {}

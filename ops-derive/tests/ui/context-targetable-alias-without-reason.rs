use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Net = NetworkId;

/// The same through an alias and a container: the type-level check.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    #[context]
    networks: Vec<Net>,
}

fn main() {}

use std::collections::HashSet;
use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Net = NetworkId;

/// An alias hides the id from the syntax, not from the bound.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    networks: HashSet<Net>,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Net = NetworkId;

#[derive(Serialize, Deserialize, OpData)]
struct Pair<T> {
    first: T,
    second: T,
}

/// A generic `OpData` type is `OpData` only with plain arguments.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    pair: Pair<Net>,
}

fn main() {}

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Net = NetworkId;

/// A generic nested type's reason-less `#[context]` field is bounded: given a targetable id, it is not
/// `OpData`.
#[derive(Serialize, Deserialize, OpData)]
struct Labelled<T> {
    #[context]
    inner: T,
    label: String,
}

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = any)]
struct NetOp {
    #[target]
    instance_uuid: InstanceId,
    network: Labelled<Net>,
}

fn main() {}

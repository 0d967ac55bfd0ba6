use ops_core::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = any)]
struct NodeInstOp<T> {
    #[target]
    instance_uuid: InstanceId,
    extra: T,
}

fn main() {}

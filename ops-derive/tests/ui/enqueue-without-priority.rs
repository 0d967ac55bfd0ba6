//! Every op needs a priority and there is no default: an enqueue without one cannot be awaited.

use ops_core::{ClusterOperation, InstanceId};
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = any)]
struct NodeInstOp {
    #[target]
    instance_uuid: InstanceId,
}

async fn enqueue(store: &ops_core::Store) {
    let _ = NodeInstOp { instance_uuid: InstanceId::new_v4() }.enqueue(store).task(Task::Run).await;
}

fn main() {}

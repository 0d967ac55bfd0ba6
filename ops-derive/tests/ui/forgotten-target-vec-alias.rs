use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Blob = ops_core::BlobId;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_blob_op", tasks = Task, queue = any)]
struct NodeBlobOp {
    #[target]
    instance_uuid: InstanceId,
    blobs: Vec<Blob>,
}

fn main() {}

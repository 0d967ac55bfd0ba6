//! `use ops_core::*;` brings the derive, the trait and the id types; no direct ops-derive dependency.

use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_blob_op", tasks = Task, queue = node)]
pub struct NodeBlobOp {
    #[context]
    pub node_uuid: NodeId,
    #[target]
    pub blob_uuid: BlobId,
}

fn main() {
    let op = NodeBlobOp { node_uuid: NodeId::new_v4(), blob_uuid: BlobId::new_v4() };
    assert_eq!(op.targets().len(), 1);
    assert_eq!(<NodeBlobOp as ClusterOperation>::OP_TYPE, "node_blob_op");
}

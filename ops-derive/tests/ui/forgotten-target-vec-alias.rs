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

type Blob = ops_core::BlobId;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_blob_op", tasks = Task, queue = any)]
struct NodeBlobOp {
    #[target]
    instance_uuid: InstanceId,
    blobs: Vec<Blob>,
}

fn main() {}

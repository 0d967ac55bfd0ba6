use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

type Artifact = ops_core::ArtifactId;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "artifact_fetch_op", tasks = Task, queue = any)]
struct ArtifactFetchOp {
    #[target]
    instance_uuid: InstanceId,
    artifact: Box<Artifact>,
}

fn main() {}

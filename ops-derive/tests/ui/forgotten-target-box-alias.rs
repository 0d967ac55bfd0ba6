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

type Artifact = ops_core::ArtifactId;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "artifact_fetch_op", tasks = Task, queue = any)]
struct ArtifactFetchOp {
    #[target]
    instance_uuid: InstanceId,
    artifact: Box<Artifact>,
}

fn main() {}

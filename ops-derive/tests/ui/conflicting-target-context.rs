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

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = any)]
struct NodeInstOp {
    #[target]
    #[context]
    instance_uuid: InstanceId,
}

fn main() {}

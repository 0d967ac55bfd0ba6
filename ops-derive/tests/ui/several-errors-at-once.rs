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

/// Every error of the item comes out of one compile.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "inst", tasks = Task, queue = any, retries = 3)]
struct NodeInstOp {
    #[target]
    node_uuid: NodeId,
    #[target]
    #[context]
    instance_uuid: InstanceId,
    network_uuid: NetworkId,
}

fn main() {}

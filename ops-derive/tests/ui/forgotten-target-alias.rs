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

/// Renaming the type must not smuggle a forgotten target past the derive.
type Guest = InstanceId;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = node)]
struct NodeInstOp {
    #[context]
    node_uuid: NodeId,
    #[target]
    network_uuid: NetworkId,
    guest: Guest,
}

fn main() {}

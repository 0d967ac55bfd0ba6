use ops_core::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_op")]
struct NodeInstOp {
    #[target]
    instance_uuid: InstanceId,
}

fn main() {}

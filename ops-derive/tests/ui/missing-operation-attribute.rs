use ops_core::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, ClusterOperation)]
struct NodeInstOp {
    #[target]
    instance_uuid: InstanceId,
}

fn main() {}

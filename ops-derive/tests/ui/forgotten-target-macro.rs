use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// An op declared by a macro: the field's type arrives as an invisible group, which the check looks through.
macro_rules! declare_op {
    ($ty:ty) => {
        #[derive(Serialize, Deserialize, ClusterOperation)]
        #[operation(name = "net_op", tasks = Task, queue = any)]
        struct NetOp {
            #[target]
            instance_uuid: InstanceId,
            network_uuid: $ty,
        }
    };
}

declare_op!(Option<NetworkId>);

fn main() {}

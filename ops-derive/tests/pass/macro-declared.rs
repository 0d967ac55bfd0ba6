use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// Ops and nested types declared by macros: field types arrive as invisible groups, and every check still
/// reads them.
macro_rules! declare_op {
    ($name:ident, $target:ty, $plain:ty, $nested:ty) => {
        #[derive(Serialize, Deserialize, ClusterOperation)]
        #[operation(name = "macro_op", tasks = Task, queue = any)]
        struct $name {
            #[target]
            network_uuid: $target,
            note: $plain,
            hops: $nested,
        }
    };
}

macro_rules! declare_hop {
    ($id:ty) => {
        #[derive(Serialize, Deserialize, OpData)]
        struct Hop {
            #[context(reason = "read to route")]
            network: $id,
        }
    };
}

declare_hop!(NetworkId);
declare_op!(MacroOp, Option<NetworkId>, String, Vec<Hop>);

fn main() {
    let (target, hop) = (NetworkId::new_v4(), NetworkId::new_v4());
    let op = MacroOp {
        network_uuid: Some(target),
        note: "declared by a macro".into(),
        hops: vec![Hop { network: hop }],
    };
    assert_eq!(op.targets().len(), 1);
    assert!(op.targets().contains(&target.object_ref()));
    assert!(op.context().iter().any(|object| *object == hop.object_ref()));
}

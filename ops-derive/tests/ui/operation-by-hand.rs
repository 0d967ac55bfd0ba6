use ops_core::*;
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

/// Only the derive may implement `ClusterOperation`: a hand impl would skip every check.
#[derive(Serialize, Deserialize)]
struct NetOp {
    network_uuid: NetworkId,
}

impl ClusterOperation for NetOp {
    const OP_TYPE: &'static str = "net_op";
    const VERSION: u32 = 1;
    const TARGET_FIELDS: &'static [(&'static str, ObjectType)] = &[];
    const CONTEXT_FIELDS: &'static [&'static str] = &[];
    const CONTEXT_REASONS: &'static [(&'static str, &'static str)] = &[];
    type Task = Task;

    fn targets(&self) -> TargetSet {
        TargetSet::new()
    }

    fn context(&self) -> ContextSet {
        ContextSet::new()
    }

    fn queue_target(&self) -> QueueTarget {
        QueueTarget::Any
    }

    fn family(&self) -> Family {
        Family::ClusterOperation
    }
}

fn main() {}

//! The ops the benches enqueue, shared with `ops-peer-bench` so that every comparison measures the same
//! work.

use ops_core::{InstanceId, InterfaceId, NetworkId, NodeId, OpId, Priority, Store};
use ops_schemas::ops::{NetOp, NetTask, NodeInstNetIfaceOp, NodeInstNetIfaceTask};

use crate::BenchError;

/// A `net_op` deploying `network`: one target row, and no coalescing (`network_deploy` does not
/// coalesce), so each enqueue is a new op.
pub async fn net_op(store: &Store, network: NetworkId) -> Result<OpId, BenchError> {
    Ok(NetOp {
        network_uuid: network,
        node_uuid: None,
        floating_address: None,
        inner_address: None,
    }
    .enqueue(store)
    .priority(Priority::Background)
    .task(NetTask::NetworkDeploy)
    .await?)
}

/// A hot-plug op on fresh ids: three target rows (instance, network, interface) and the node as context.
pub async fn three_target_op(store: &Store) -> Result<OpId, BenchError> {
    Ok(NodeInstNetIfaceOp {
        node_uuid: NodeId::new_v4(),
        instance_uuid: InstanceId::new_v4(),
        network_uuid: NetworkId::new_v4(),
        interface_uuid: InterfaceId::new_v4(),
    }
    .enqueue(store)
    .priority(Priority::UserWaiting)
    .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
    .await?)
}

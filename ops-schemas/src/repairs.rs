//! [`ShakenFistRepairs`]: the ops Shaken Fist's network maintainer enqueues, each through the generated
//! builder of its op type, so a repair records its network target like any other enqueue.

use ops_core::network::{RECREATE_REQUEST_ID, Repairs};
use ops_core::{EnqueueError, Network, NodeId, OpId, Priority, Store};

use crate::ops::{NetOp, NetTask, NodeNetOp, NodeNetTask};

/// The repairs of DOMAIN.md §6, at `background` priority; the recreate ops carry
/// [`RECREATE_REQUEST_ID`], whose outcomes the maintainer's cooldown and circuit breaker count.
///
/// Shaken Fist's network node also re-adds each floating address and re-routes each routed address of a
/// recreated network; this store keeps no floating interfaces or routes, so those follow-ups are not made.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShakenFistRepairs;

/// Enqueues a `net_op` with one task on `network`, for `node` when given (its per-node network queue) or the
/// network node.
async fn net_op_task(
    store: &Store,
    network: &Network,
    node: Option<NodeId>,
    task: NetTask,
    request_id: Option<&str>,
) -> Result<Vec<OpId>, EnqueueError> {
    let mut enqueue = NetOp {
        network_uuid: network.id,
        node_uuid: node,
        floating_address: None,
        inner_address: None,
    }
    .enqueue(store)
    .priority(Priority::Background)
    .task(task);
    if let Some(request_id) = request_id {
        enqueue = enqueue.request_id(request_id);
    }
    Ok(vec![enqueue.await?])
}

impl Repairs for ShakenFistRepairs {
    async fn recreate_on_network_node(
        &self,
        store: &Store,
        network: &Network,
    ) -> Result<Vec<OpId>, EnqueueError> {
        net_op_task(
            store,
            network,
            None,
            NetTask::NetworkApplyCreateNetworkNode,
            Some(RECREATE_REQUEST_ID),
        )
        .await
    }

    async fn recreate_on_hypervisor(
        &self,
        store: &Store,
        network: &Network,
        node: NodeId,
    ) -> Result<Vec<OpId>, EnqueueError> {
        let op = NodeNetOp {
            node_uuid: node,
            network_uuid: network.id,
        }
        .enqueue(store)
        .priority(Priority::Background)
        .task(NodeNetTask::NetworkApplyCreateHypervisor)
        .request_id(RECREATE_REQUEST_ID)
        .await?;
        Ok(vec![op])
    }

    async fn ensure_mesh(
        &self,
        store: &Store,
        network: &Network,
        node: NodeId,
    ) -> Result<Vec<OpId>, EnqueueError> {
        net_op_task(store, network, Some(node), NetTask::NetworkEnsureMesh, None).await
    }

    async fn delete_on_network_node(
        &self,
        store: &Store,
        network: &Network,
    ) -> Result<Vec<OpId>, EnqueueError> {
        net_op_task(
            store,
            network,
            None,
            NetTask::NetworkApplyDeleteNetworkNode,
            None,
        )
        .await
    }
}

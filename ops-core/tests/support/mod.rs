//! Operations for ops-core's own tests, declared with `#[derive(ClusterOperation)]` as users declare theirs.

#![allow(dead_code, unreachable_pub)]

use ops_core::{ClusterOperation, InstanceId, InterfaceId, NetworkId, NodeId, OpTask};
use serde::{Deserialize, Serialize};

/// `node_inst_net_iface_op`: three targets, the node as context.
#[derive(Clone, Debug, Serialize, Deserialize, ClusterOperation)]
#[operation(name = "node_inst_net_iface_op", version = 1, tasks = NodeInstNetIfaceTask, queue = node)]
pub struct NodeInstNetIfaceOp {
    #[context]
    pub node_uuid: NodeId,
    #[target]
    pub instance_uuid: InstanceId,
    #[target]
    pub network_uuid: NetworkId,
    #[target]
    pub interface_uuid: InterfaceId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeInstNetIfaceTask {
    HotPlugInstanceInterface,
    AttachInstanceInterface,
}

impl OpTask for NodeInstNetIfaceTask {
    fn name(self) -> &'static str {
        match self {
            NodeInstNetIfaceTask::HotPlugInstanceInterface => "hot_plug_instance_interface",
            NodeInstNetIfaceTask::AttachInstanceInterface => "attach_instance_interface",
        }
    }
}

/// `net_op`: one network target, an optional node as context, queued for the network node.
#[derive(Clone, Debug, Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", version = 3, tasks = NetTask, queue = network_node)]
pub struct NetOp {
    #[target]
    pub network_uuid: NetworkId,
    #[context]
    pub node_uuid: Option<NodeId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetTask {
    NetworkDeploy,
    NetworkEnsureMesh,
}

impl OpTask for NetTask {
    fn name(self) -> &'static str {
        match self {
            NetTask::NetworkDeploy => "network_deploy",
            NetTask::NetworkEnsureMesh => "network_ensure_mesh",
        }
    }
}

/// An op over many networks at once, to test collections of targets.
#[derive(Clone, Debug, Serialize, Deserialize, ClusterOperation)]
#[operation(name = "nets_op", tasks = NetTask, queue = any)]
pub struct NetsOp {
    #[target]
    pub network_uuids: Vec<NetworkId>,
}

/// An op whose body uses a header key: enqueue must refuse it.
#[derive(Clone, Debug, Serialize, Deserialize, ClusterOperation)]
#[operation(name = "colliding_op", tasks = NetTask, queue = any)]
pub struct CollidingOp {
    #[target]
    pub network_uuid: NetworkId,
    pub priority: String,
}

/// An op over any mix of networks and instances, for the model test.
#[derive(Clone, Debug, Serialize, Deserialize, ClusterOperation)]
#[operation(name = "mixed_op", tasks = NetTask, queue = any)]
pub struct MixedOp {
    #[target]
    pub network_uuids: Vec<NetworkId>,
    #[target]
    pub instance_uuids: Vec<InstanceId>,
}

/// Enqueues a `net_op` on `network` at background priority.
pub async fn enqueue_net_op(store: &ops_core::Store, network: NetworkId) -> ops_core::OpId {
    NetOp {
        network_uuid: network,
        node_uuid: None,
    }
    .enqueue(store)
    .priority(ops_core::Priority::Background)
    .task(NetTask::NetworkDeploy)
    .await
    .expect("enqueue net_op")
}

/// Enqueues a `net_op` on a new network at `priority`.
pub async fn enqueue_net_op_at(
    store: &ops_core::Store,
    priority: ops_core::Priority,
) -> ops_core::OpId {
    NetOp {
        network_uuid: NetworkId::new_v4(),
        node_uuid: None,
    }
    .enqueue(store)
    .priority(priority)
    .task(NetTask::NetworkDeploy)
    .await
    .expect("enqueue")
}

/// Waits until `op` is in `wanted`; its state row must exist.
pub async fn until_state(store: &ops_core::Store, op: ops_core::OpId, wanted: ops_core::OpState) {
    while store
        .op_state(op)
        .await
        .expect("read state")
        .expect("a state row")
        != wanted
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Now, in unix seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs_f64()
}

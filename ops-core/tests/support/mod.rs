//! Operations implemented by hand for ops-core's own tests, as `#[derive(ClusterOperation)]` will generate
//! them: the derive lives in another crate and may not be used here.

#![allow(dead_code, unreachable_pub)]

use ops_core::{
    ClusterOperation, ContextSet, Family, InstanceId, InterfaceId, NetworkId, NodeId, OpTask,
    QueueTarget, TargetSet,
};
use serde::{Deserialize, Serialize};

/// `node_inst_net_iface_op`: three targets, the node as context.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeInstNetIfaceOp {
    pub node_uuid: NodeId,
    pub instance_uuid: InstanceId,
    pub network_uuid: NetworkId,
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

impl ClusterOperation for NodeInstNetIfaceOp {
    const OP_TYPE: &'static str = "node_inst_net_iface_op";
    const VERSION: u32 = 1;
    type Task = NodeInstNetIfaceTask;

    fn targets(&self) -> TargetSet {
        let mut targets = TargetSet::new();
        targets.insert(self.instance_uuid);
        targets.insert(self.network_uuid);
        targets.insert(self.interface_uuid);
        targets
    }

    fn context(&self) -> ContextSet {
        let mut context = ContextSet::new();
        context.insert(self.node_uuid);
        context
    }

    fn queue_target(&self) -> QueueTarget {
        QueueTarget::Node(self.node_uuid)
    }

    fn family() -> Family {
        Family::ClusterOperation
    }
}

/// `net_op`: one network target, an optional node as context, queued for the network node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetOp {
    pub network_uuid: NetworkId,
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

impl ClusterOperation for NetOp {
    const OP_TYPE: &'static str = "net_op";
    const VERSION: u32 = 3;
    type Task = NetTask;

    fn targets(&self) -> TargetSet {
        let mut targets = TargetSet::new();
        targets.insert(self.network_uuid);
        targets
    }

    fn context(&self) -> ContextSet {
        let mut context = ContextSet::new();
        context.extend(self.node_uuid);
        context
    }

    fn queue_target(&self) -> QueueTarget {
        QueueTarget::NetworkNode
    }

    fn family() -> Family {
        Family::ClusterOperation
    }
}

/// An op over many networks at once, to test collections of targets.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetsOp {
    pub network_uuids: Vec<NetworkId>,
}

impl ClusterOperation for NetsOp {
    const OP_TYPE: &'static str = "nets_op";
    const VERSION: u32 = 1;
    type Task = NetTask;

    fn targets(&self) -> TargetSet {
        let mut targets = TargetSet::new();
        targets.extend(self.network_uuids.iter().copied());
        targets
    }

    fn context(&self) -> ContextSet {
        ContextSet::new()
    }

    fn queue_target(&self) -> QueueTarget {
        QueueTarget::Any
    }

    fn family() -> Family {
        Family::ClusterOperation
    }
}

/// An op whose body uses a header key: enqueue must refuse it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CollidingOp {
    pub network_uuid: NetworkId,
    pub priority: String,
}

impl ClusterOperation for CollidingOp {
    const OP_TYPE: &'static str = "colliding_op";
    const VERSION: u32 = 1;
    type Task = NetTask;

    fn targets(&self) -> TargetSet {
        let mut targets = TargetSet::new();
        targets.insert(self.network_uuid);
        targets
    }

    fn context(&self) -> ContextSet {
        ContextSet::new()
    }

    fn queue_target(&self) -> QueueTarget {
        QueueTarget::Any
    }

    fn family() -> Family {
        Family::ClusterOperation
    }
}

/// Enqueues a `net_op` on `network` at background priority.
pub async fn enqueue_net_op(store: &ops_core::Store, network: NetworkId) -> ops_core::OpId {
    ops_core::__private::enqueue(
        store,
        NetOp {
            network_uuid: network,
            node_uuid: None,
        },
    )
    .priority(ops_core::Priority::Background)
    .task(NetTask::NetworkDeploy)
    .await
    .expect("enqueue net_op")
}

/// An op over any mix of networks and instances, for the model test.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MixedOp {
    pub network_uuids: Vec<NetworkId>,
    pub instance_uuids: Vec<InstanceId>,
}

impl ClusterOperation for MixedOp {
    const OP_TYPE: &'static str = "mixed_op";
    const VERSION: u32 = 1;
    type Task = NetTask;

    fn targets(&self) -> TargetSet {
        let mut targets = TargetSet::new();
        targets.extend(self.network_uuids.iter().copied());
        targets.extend(self.instance_uuids.iter().copied());
        targets
    }

    fn context(&self) -> ContextSet {
        ContextSet::new()
    }

    fn queue_target(&self) -> QueueTarget {
        QueueTarget::Any
    }

    fn family() -> Family {
        Family::ClusterOperation
    }
}

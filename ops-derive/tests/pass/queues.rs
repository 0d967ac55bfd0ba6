//! Every queue and family form; `queue = node` with an optional node falls back to any node, and
//! `queue = node_or_network_node` to the network node.

use ops_core::{ClusterOperation, Family, InstanceId, NetworkId, NodeId, QueueTarget};
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
use task::Task;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "artifact_fetch_op", tasks = Task, queue = node)]
struct FetchOp {
    #[context]
    node_uuid: Option<NodeId>,
    #[target]
    instance_uuid: Option<InstanceId>,
}

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", version = 3, tasks = Task, queue = network_node, family = clusteroperation)]
struct NetOp {
    #[target]
    network_uuid: NetworkId,
}

/// Shaken Fist's `net_op` routing: a node's network queue, or the network node.
#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "net_op", tasks = Task, queue = node_or_network_node)]
struct RoutedNetOp {
    #[target]
    network_uuid: NetworkId,
    #[context]
    node_uuid: Option<NodeId>,
}

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "sweep_op", tasks = Task, queue = any, untargeted)]
struct SweepOp {
    batch: u32,
}

fn main() {
    let node = NodeId::new_v4();
    let fetch = FetchOp { node_uuid: Some(node), instance_uuid: None };
    assert_eq!(fetch.queue_target(), QueueTarget::Node(node));
    assert!(fetch.targets().is_empty());
    let anywhere = FetchOp { node_uuid: None, instance_uuid: Some(InstanceId::new_v4()) };
    assert_eq!(anywhere.queue_target(), QueueTarget::Any);
    assert_eq!(anywhere.targets().len(), 1);

    let net = NetOp { network_uuid: NetworkId::new_v4() };
    assert_eq!(net.queue_target(), QueueTarget::NetworkNode);
    assert_eq!(net.family(), Family::ClusterOperation);
    assert_eq!(NetOp::VERSION, 3);

    let on_node = RoutedNetOp { network_uuid: NetworkId::new_v4(), node_uuid: Some(node) };
    assert_eq!((on_node.queue_target(), on_node.family()), (QueueTarget::Node(node), Family::Network));
    let central = RoutedNetOp { node_uuid: None, ..on_node };
    assert_eq!((central.queue_target(), central.family()), (QueueTarget::NetworkNode, Family::ClusterOperation));

    let sweep = SweepOp { batch: 10 };
    assert!(sweep.targets().is_empty());
    assert_eq!(sweep.queue_target(), QueueTarget::Any);
    assert_eq!(SweepOp::VERSION, 1);
    assert!(SweepOp::TARGET_FIELDS.is_empty());
}

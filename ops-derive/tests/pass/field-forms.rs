//! Every accepted field form, and what the derive makes of it.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ops_core::{
    AgentOperationId, ArtifactId, BlobId, ClusterOperation, Family, InstanceId, InterfaceId,
    NetworkId, NodeId, ObjectId, ObjectType, OpData, QueueTarget,
};
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
pub use task::Task;

/// Aliases and wrappers are fine once annotated: the annotated twins of the forgotten-target cases.
type Guest = InstanceId;
type Net = NetworkId;
type Hypervisor = NodeId;
type Blob = BlobId;
type Artifact = ArtifactId;

/// Plain data of one's own needs no attribute once it derives `OpData`.
#[derive(Clone, Debug, Serialize, Deserialize, OpData)]
struct Snapshot {
    disk: String,
    thin: bool,
}

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "everything_op", version = 7, tasks = Task, queue = node, family = network)]
pub struct EverythingOp {
    #[context]
    node_uuid: Hypervisor,
    #[target]
    guest: Guest,
    #[target]
    network: Option<Net>,
    #[target]
    missing_network: Option<NetworkId>,
    #[target]
    artifacts: Vec<ArtifactId>,
    #[target]
    blobs: BTreeSet<BlobId>,
    #[target]
    interface: Box<InterfaceId>,
    #[target]
    more_networks: Option<Vec<Net>>,
    #[target]
    agent_operation: AgentOperationId,
    #[target]
    aliased_blobs: Vec<Blob>,
    #[target]
    boxed_artifact: Box<Artifact>,
    #[context]
    ip: IpAddr,
    #[context]
    peers: Vec<NodeId>,
    snapshots: Vec<Snapshot>,
    namespace: String,
}

/// An op with every field form and these ids in it; also used by ops-schemas/tests/promise.rs.
pub fn everything_op(
    node: NodeId,
    peer: NodeId,
    net: NetworkId,
    artifact: ArtifactId,
) -> EverythingOp {
    EverythingOp {
        node_uuid: node,
        guest: InstanceId::new_v4(),
        network: Some(net),
        missing_network: None,
        artifacts: vec![artifact, artifact],
        blobs: [BlobId::new_v4(), BlobId::new_v4()].into_iter().collect(),
        interface: Box::new(InterfaceId::new_v4()),
        more_networks: Some(vec![net, NetworkId::new_v4()]),
        agent_operation: AgentOperationId::new_v4(),
        aliased_blobs: vec![],
        boxed_artifact: Box::new(artifact),
        ip: "10.0.0.1".parse().unwrap(),
        peers: vec![peer],
        snapshots: vec![Snapshot {
            disk: "vda".into(),
            thin: true,
        }],
        namespace: "system".into(),
    }
}

fn main() {
    let node = NodeId::new_v4();
    let peer = NodeId::new_v4();
    let net = NetworkId::new_v4();
    let artifact = ArtifactId::new_v4();
    let op = everything_op(node, peer, net, artifact);
    // guest, net, artifact (three times: once), 2 blobs, interface, one more network, agent operation.
    assert_eq!(op.targets().len(), 8);
    assert!(op.targets().contains(&net.object_ref()));
    assert!(
        op.targets()
            .iter()
            .all(|t| t.object_type != ObjectType::Node)
    );
    let context: Vec<_> = op.context().iter().copied().collect();
    assert_eq!(context.len(), 2);
    assert!(context.contains(&node.object_ref()) && context.contains(&peer.object_ref()));
    assert_eq!(op.queue_target(), QueueTarget::Node(node));
    assert_eq!(op.family(), Family::Network);
    assert_eq!(EverythingOp::OP_TYPE, "everything_op");
    assert_eq!(EverythingOp::VERSION, 7);
    assert_eq!(
        EverythingOp::TARGET_FIELDS,
        &[
            ("guest", ObjectType::Instance),
            ("network", ObjectType::Network),
            ("missing_network", ObjectType::Network),
            ("artifacts", ObjectType::Artifact),
            ("blobs", ObjectType::Blob),
            ("interface", ObjectType::Interface),
            ("more_networks", ObjectType::Network),
            ("agent_operation", ObjectType::AgentOperation),
            ("aliased_blobs", ObjectType::Blob),
            ("boxed_artifact", ObjectType::Artifact),
        ]
    );
    assert_eq!(EverythingOp::CONTEXT_FIELDS, &["node_uuid", "ip", "peers"]);
}

//! Every op against a wire fixture written by hand from Shaken Fist's operations table: it reads, writes back the same
//! JSON, and has exactly the table's targets (never the node).

use std::collections::BTreeSet;

use ops_core::{ClusterOperation, Envelope, ObjectRef, ObjectType};
use ops_schemas::OPS;
use ops_schemas::ops::*;
use serde_json::Value;
use uuid::Uuid;

const NODE: &str = "0b0a6a4e-8a37-4b5c-9d5c-3e9b1c0f2a10";
const INSTANCE: &str = "5a3bd8c4-1e1f-4c55-9d3b-7d0f1c2b8a11";
const NETWORK: &str = "9c1e2d3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5";
const INTERFACE: &str = "3f2e1d0c-9b8a-4776-8554-433221100fed";
const ARTIFACT: &str = "7a6b5c4d-3e2f-4011-8223-344556677889";
const BLOB: &str = "1b2c3d4e-5f60-4718-89a0-b1c2d3e4f506";
const AGENT_OPERATION: &str = "2c3d4e5f-6071-4829-9ab1-c2d3e4f50617";

fn fixture(op_type: &str) -> serde_json::Map<String, Value> {
    let path = format!(
        "{}/tests/fixtures/{op_type}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match serde_json::from_str(&text).unwrap() {
        Value::Object(map) => map,
        other => panic!("{path} is not an object: {other}"),
    }
}

fn object(object_type: ObjectType, uuid: &str) -> ObjectRef {
    ObjectRef {
        object_type,
        uuid: Uuid::parse_str(uuid).unwrap(),
    }
}

/// Reads the fixture, checks it writes back unchanged, and returns the op.
fn round_trip<Op: ClusterOperation + PartialEq>() -> Envelope<Op>
where
    Op::Task: PartialEq,
{
    let wire = fixture(Op::OP_TYPE);
    let envelope =
        Envelope::<Op>::from_wire(wire.clone()).unwrap_or_else(|e| panic!("{}: {e}", Op::OP_TYPE));
    assert_eq!(
        envelope.to_wire().unwrap(),
        wire,
        "{} does not write back what it read",
        Op::OP_TYPE
    );
    assert_eq!(envelope.header.version, Op::VERSION);
    envelope
}

fn assert_targets<Op: ClusterOperation + PartialEq>(expected: &[(ObjectType, &str)])
where
    Op::Task: PartialEq,
{
    let envelope = round_trip::<Op>();
    let got: BTreeSet<ObjectRef> = envelope.body.targets().iter().copied().collect();
    let expected: BTreeSet<ObjectRef> = expected.iter().map(|(t, u)| object(*t, u)).collect();
    assert_eq!(got, expected, "targets of {}", Op::OP_TYPE);
    let fields: BTreeSet<ObjectType> = Op::TARGET_FIELDS.iter().map(|(_, t)| *t).collect();
    assert!(
        !fields.contains(&ObjectType::Node),
        "{} declares a node target",
        Op::OP_TYPE
    );
    assert!(
        Op::TARGET_FIELDS
            .iter()
            .all(|(field, _)| *field != "node_uuid")
    );
}

#[test]
fn artifact_fetch_op() {
    assert_targets::<ArtifactFetchOp>(&[
        (ObjectType::Artifact, ARTIFACT),
        (ObjectType::Instance, INSTANCE),
    ]);
}

#[test]
fn imgcache_op() {
    assert_targets::<ImgcacheOp>(&[(ObjectType::Blob, BLOB)]);
}

#[test]
fn net_iface_ip_op() {
    assert_targets::<NetIfaceIpOp>(&[
        (ObjectType::Network, NETWORK),
        (ObjectType::Interface, INTERFACE),
    ]);
}

#[test]
fn net_iface_op() {
    assert_targets::<NetIfaceOp>(&[
        (ObjectType::Network, NETWORK),
        (ObjectType::Interface, INTERFACE),
    ]);
}

#[test]
fn net_ip_op() {
    assert_targets::<NetIpOp>(&[(ObjectType::Network, NETWORK)]);
}

#[test]
fn net_macaddr_ip_op() {
    assert_targets::<NetMacaddrIpOp>(&[(ObjectType::Network, NETWORK)]);
}

#[test]
fn net_op_targets_only_its_network_though_it_names_a_node() {
    assert_targets::<NetOp>(&[(ObjectType::Network, NETWORK)]);
    assert_eq!(
        round_trip::<NetOp>()
            .body
            .node_uuid
            .map(|n| n.to_string())
            .as_deref(),
        Some(NODE)
    );
    assert_eq!(NetOp::VERSION, 3);
}

#[test]
fn node_aop_op() {
    assert_targets::<NodeAopOp>(&[(ObjectType::AgentOperation, AGENT_OPERATION)]);
}

#[test]
fn node_blob_op() {
    assert_targets::<NodeBlobOp>(&[(ObjectType::Blob, BLOB)]);
}

#[test]
fn node_inst_net_iface_op() {
    assert_targets::<NodeInstNetIfaceOp>(&[
        (ObjectType::Instance, INSTANCE),
        (ObjectType::Network, NETWORK),
        (ObjectType::Interface, INTERFACE),
    ]);
}

#[test]
fn node_inst_netdesc_op() {
    assert_targets::<NodeInstNetdescOp>(&[(ObjectType::Instance, INSTANCE)]);
}

#[test]
fn node_inst_op() {
    assert_targets::<NodeInstOp>(&[(ObjectType::Instance, INSTANCE)]);
}

#[test]
fn node_inst_snap_op_does_not_target_its_nested_artifact_and_blob() {
    assert_targets::<NodeInstSnapOp>(&[(ObjectType::Instance, INSTANCE)]);
    let op = round_trip::<NodeInstSnapOp>().body;
    assert_eq!(op.snapshots[0].artifact_uuid.to_string(), ARTIFACT);
    assert_eq!(op.snapshots[0].blob_uuid.to_string(), BLOB);
}

#[test]
fn node_net_op() {
    assert_targets::<NodeNetOp>(&[(ObjectType::Network, NETWORK)]);
}

#[test]
fn every_registered_op_has_a_fixture() {
    for op in OPS {
        let wire = fixture(op.name);
        let mut body = wire.clone();
        for key in ops_core::HEADER_KEYS {
            body.remove(key);
        }
        let parsed = op
            .parse(Value::Object(body))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.op_type(), op.name);
        assert!(
            parsed
                .targets()
                .iter()
                .all(|t| t.object_type != ObjectType::Node)
        );
    }
}

#[test]
fn task_values_and_names_follow_shaken_fist() {
    assert_eq!(NodeInstTask::InstanceDelete.value(), 3);
    assert_eq!(NetTask::NetworkApplyDeleteNetworkNode.value(), 12);
    assert_eq!(
        ops_core::OpTask::name(NetTask::NetworkEnsureMesh),
        "network_ensure_mesh"
    );
    assert_eq!(
        serde_json::to_value(NodeNetTask::NetworkApplyCreateHypervisor).unwrap(),
        "network_apply_create_hypervisor"
    );
    let counts: Vec<(&str, usize)> = OPS
        .iter()
        .map(|op| (op.name, (op.task_names)().len()))
        .collect();
    assert!(
        counts.contains(&("net_op", 12)) && counts.contains(&("node_inst_op", 3)),
        "{counts:?}"
    );
}

#[test]
fn queues_follow_the_table() {
    let node = NODE.parse().unwrap();
    let fetch = round_trip::<ArtifactFetchOp>().body;
    assert_eq!(
        fetch.queue_target(),
        ops_core::QueueTarget::Any,
        "artifact_fetch_op without a node runs anywhere"
    );
    // net_op: the network node, or with a node, that node's network queue (DOMAIN.md §3).
    let mut net = round_trip::<NetOp>().body;
    let queue = |op: &NetOp| {
        ops_core::queue_name(
            op.queue_target(),
            op.family(),
            ops_core::Priority::Background,
        )
    };
    net.node_uuid = None;
    assert_eq!(queue(&net), "networknode-clusteroperation-background");
    net.node_uuid = Some(node);
    assert_eq!(queue(&net), format!("{NODE}-network-background"));
    assert_eq!(
        round_trip::<NodeInstOp>().body.queue_target(),
        ops_core::QueueTarget::Node(node)
    );
    assert_eq!(
        round_trip::<NodeNetOp>().body.family(),
        ops_core::Family::Network
    );
    assert_eq!(
        round_trip::<NodeInstOp>().body.family(),
        ops_core::Family::ClusterOperation
    );
}

/// A body is a JSON object: serde would take a struct's fields in order from an array, the wire form never
/// does. An error about the whole body names no path.
#[test]
fn a_body_that_is_not_an_object_is_refused_whole() {
    let kind = ops_schemas::lookup("node_inst_op").unwrap();
    for (body, found) in [
        (serde_json::json!([NODE, INSTANCE]), "an array"),
        (serde_json::json!(null), "null"),
        (serde_json::json!("x"), "a string"),
    ] {
        let error = kind.parse(body).err().expect("refused");
        assert_eq!(
            error.to_string(),
            format!("invalid `node_inst_op` body: expected a JSON object, found {found}")
        );
    }
    let error = kind
        .parse(serde_json::json!({"node_uuid": NODE}))
        .err()
        .expect("refused");
    assert_eq!(
        error.to_string(),
        "invalid `node_inst_op` body: missing field `instance_uuid`"
    );
}

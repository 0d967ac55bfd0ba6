//! `node_inst_snap_op`: snapshot an instance's disks.

use ops_core::{ArtifactId, BlobId, InstanceId, NodeId};
use ops_core::{ClusterOperation, OpData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `node_inst_snap_op` does.
    pub enum NodeInstSnapTask {
        /// Snapshot the disks.
        InstanceSnapshot = 1 => "instance_snapshot",
    }
}

/// One disk to snapshot. Its artifact and blob ids say where the snapshot goes; they are **not** targets of
/// the op in Shaken Fist: only the instance is. They are context, which `#[derive(OpData)]` makes them say:
/// enqueueing links them to the op's audit event, and a new id field here would not compile unannotated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, OpData)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRequest {
    /// The disk, as the instance describes it.
    pub disk: serde_json::Map<String, serde_json::Value>,
    /// The artifact the snapshot becomes a version of.
    #[context(reason = "where the snapshot is recorded; Shaken Fist targets only the instance")]
    pub artifact_uuid: ArtifactId,
    /// The blob the snapshot is written to.
    #[context(reason = "where the snapshot's bytes go; Shaken Fist targets only the instance")]
    pub blob_uuid: BlobId,
    /// Whether the snapshot is thin.
    pub thin: bool,
}

/// Snapshots an instance on `node_uuid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "node_inst_snap_op", version = 1, tasks = NodeInstSnapTask, queue = node)]
pub struct NodeInstSnapOp {
    /// The instance's node.
    #[context]
    pub node_uuid: NodeId,
    /// The instance.
    #[target]
    pub instance_uuid: InstanceId,
    /// The disks to snapshot.
    #[context]
    pub snapshots: Vec<SnapshotRequest>,
}

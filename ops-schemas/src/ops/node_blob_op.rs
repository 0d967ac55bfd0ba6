//! `node_blob_op`: verify or fetch a blob on a node.

use ops_core::ClusterOperation;
use ops_core::{BlobId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `node_blob_op` does.
    pub enum NodeBlobTask {
        /// Check the local copy's size and checksum.
        VerifySizeAndChecksum = 1 => "verify_size_and_checksum",
        /// Make sure a local copy exists.
        EnsureLocal = 2 => "ensure_local",
    }
}

/// Blob work on `node_uuid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "node_blob_op", version = 1, tasks = NodeBlobTask, queue = node)]
pub struct NodeBlobOp {
    /// The node.
    #[context]
    pub node_uuid: NodeId,
    /// The blob.
    #[target]
    pub blob_uuid: BlobId,
}

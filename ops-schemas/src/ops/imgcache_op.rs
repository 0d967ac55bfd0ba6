//! `imgcache_op`: transcode a blob into a node's image cache.

use ops_core::ClusterOperation;
use ops_core::{BlobId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;
use crate::types::Text;

op_tasks! {
    /// What an `imgcache_op` does.
    pub enum ImgcacheTask {
        /// Transcode the blob into the cache.
        ArchiveTranscode = 1 => "archive_transcode",
    }
}

/// Transcodes `blob_uuid` into `cache_path` on `node_uuid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "imgcache_op", version = 1, tasks = ImgcacheTask, queue = node)]
pub struct ImgcacheOp {
    /// The node whose cache is filled.
    #[context]
    pub node_uuid: NodeId,
    /// The blob transcoded.
    #[target]
    pub blob_uuid: BlobId,
    /// Where in the cache the result goes.
    #[context]
    pub cache_path: Text<4096>,
    /// How to transcode.
    pub transcode_description: Text<1024>,
}

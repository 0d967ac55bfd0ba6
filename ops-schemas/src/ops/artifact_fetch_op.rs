//! `artifact_fetch_op`: fetch an artifact from a URL, for an instance or on its own.

use ops_core::ClusterOperation;
use ops_core::{ArtifactId, InstanceId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;
use crate::types::{Text, Uri};

op_tasks! {
    /// What an `artifact_fetch_op` does.
    pub enum ArtifactFetchTask {
        /// Download the image into the artifact store.
        ImageFetch = 1 => "image_fetch",
    }
}

/// Fetches `url` into the artifact store of `namespace`. Runs on `node_uuid` when given, else on any node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "artifact_fetch_op", version = 1, tasks = ArtifactFetchTask, queue = node)]
pub struct ArtifactFetchOp {
    /// The namespace the artifact belongs to.
    #[context]
    pub namespace: Text<255>,
    /// Where to fetch from: any scheme (Shaken Fist's own `sf://` references too), as given.
    #[context]
    pub url: Uri,
    /// The artifact being fetched into (after Shaken Fist's phase 3b).
    #[target]
    #[serde(default)]
    pub artifact_uuid: Option<ArtifactId>,
    /// The instance waiting for the image, if any.
    #[target]
    #[serde(default)]
    pub instance_uuid: Option<InstanceId>,
    /// The node to fetch on; `None` lets any node do it.
    #[context]
    #[serde(default)]
    pub node_uuid: Option<NodeId>,
}

//! `net_op` (version 3): network-wide work, on the network node or, with a node, on that node's network
//! queue; the one op type that coalesces.

use std::net::IpAddr;

use ops_core::{ClusterOperation, CoalesceKey, OpTask};
use ops_core::{NetworkId, NodeId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `net_op` does.
    pub enum NetTask {
        /// Create the network.
        NetworkDeploy = 1 => "network_deploy",
        /// Destroy the network.
        NetworkDestroy = 2 => "network_destroy",
        /// Rewrite dnsmasq's configuration.
        NetworkUpdateDnsmasq = 3 => "network_update_dnsmasq",
        /// Stop dnsmasq.
        NetworkRemoveDnsmasq = 4 => "network_remove_dnsmasq",
        /// Remove NAT.
        NetworkRemoveNat = 5 => "network_remove_nat",
        /// Repair the VXLAN mesh (coalescible).
        NetworkEnsureMesh = 6 => "network_ensure_mesh",
        /// Add a floating address.
        NetworkAddFloatingIp = 7 => "network_add_floating_ip",
        /// Remove a floating address.
        NetworkRemoveFloatingIp = 8 => "network_remove_floating_ip",
        /// Apply a dnsmasq update (coalescible).
        NetworkApplyUpdateDnsmasq = 9 => "network_apply_update_dnsmasq",
        /// Apply a dnsmasq removal.
        NetworkApplyRemoveDnsmasq = 10 => "network_apply_remove_dnsmasq",
        /// Create the network on the network node (coalescible).
        NetworkApplyCreateNetworkNode = 11 => "network_apply_create_network_node",
        /// Delete the network from the network node.
        NetworkApplyDeleteNetworkNode = 12 => "network_apply_delete_network_node",
    }
}

/// Network-wide work. Only the network is a target: `node_uuid` is execution context (and part of the
/// coalescing key), never a target, so no node target row is ever written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(
    name = "net_op",
    version = 3,
    tasks = NetTask,
    queue = node_or_network_node,
    coalesce = net_op_coalescing
)]
pub struct NetOp {
    /// The network.
    #[target]
    pub network_uuid: NetworkId,
    /// The node the work is for, if one.
    #[context]
    #[serde(default)]
    pub node_uuid: Option<NodeId>,
    /// A floating address, for the floating-address tasks.
    #[context]
    #[serde(default)]
    #[schemars(schema_with = "crate::types::optional_ip_address")]
    pub floating_address: Option<IpAddr>,
    /// The inner address paired with `floating_address`.
    #[context]
    #[serde(default)]
    #[schemars(schema_with = "crate::types::optional_ip_address")]
    pub inner_address: Option<IpAddr>,
}

/// Shaken Fist's `COALESCIBLE_TASKS`: the `net_op` tasks whose repeated runs do the same work, so queued
/// duplicates can be folded into one run.
pub const COALESCIBLE_TASKS: [NetTask; 3] = [
    NetTask::NetworkApplyUpdateDnsmasq,
    NetTask::NetworkApplyCreateNetworkNode,
    NetTask::NetworkEnsureMesh,
];

/// The coalescing key of a `net_op` enqueue: its one coalescible task and Shaken Fist's
/// `COALESCIBLE_KEY_COLUMNS`, the network and the node (a missing node matches only a missing node).
fn net_op_coalescing(op: &NetOp, tasks: &[NetTask]) -> Option<CoalesceKey> {
    match tasks {
        [task] if COALESCIBLE_TASKS.contains(task) => Some(CoalesceKey::from_parts([
            ("task", Some(task.name().to_owned())),
            ("network_uuid", Some(op.network_uuid.to_string())),
            ("node_uuid", op.node_uuid.map(|node| node.to_string())),
        ])),
        _ => None,
    }
}

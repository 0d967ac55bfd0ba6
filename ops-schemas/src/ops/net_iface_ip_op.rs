//! `net_iface_ip_op`: defloat an interface's address.

use std::net::IpAddr;

use ops_core::ClusterOperation;
use ops_core::{InterfaceId, NetworkId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `net_iface_ip_op` does.
    pub enum NetIfaceIpTask {
        /// Remove the floating address from the interface.
        InterfaceDefloat = 1 => "interface_defloat",
    }
}

/// Removes the floating address `ip` from an interface, on the network node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "net_iface_ip_op", version = 1, tasks = NetIfaceIpTask, queue = network_node)]
pub struct NetIfaceIpOp {
    /// The interface's network.
    #[target]
    pub network_uuid: NetworkId,
    /// The interface.
    #[target]
    pub interface_uuid: InterfaceId,
    /// The floating address.
    #[context]
    #[schemars(schema_with = "crate::types::ip_address")]
    pub ip: IpAddr,
}

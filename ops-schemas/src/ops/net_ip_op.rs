//! `net_ip_op`: route or unroute an address on a network.

use std::net::IpAddr;

use ops_core::ClusterOperation;
use ops_core::NetworkId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;

op_tasks! {
    /// What a `net_ip_op` does.
    pub enum NetIpTask {
        /// Route the address to the network.
        RouteAddress = 1 => "route_address",
        /// Stop routing it.
        UnrouteAddress = 2 => "unroute_address",
    }
}

/// Routes or unroutes `ip` for a network, on the network node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "net_ip_op", version = 1, tasks = NetIpTask, queue = network_node)]
pub struct NetIpOp {
    /// The network.
    #[target]
    pub network_uuid: NetworkId,
    /// The address.
    #[context]
    #[schemars(schema_with = "crate::types::ip_address")]
    pub ip: IpAddr,
}

//! `net_macaddr_ip_op`: remove a DHCP lease.

use std::net::IpAddr;

use ops_core::ClusterOperation;
use ops_core::NetworkId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tasks::op_tasks;
use crate::types::MacAddress;

op_tasks! {
    /// What a `net_macaddr_ip_op` does.
    pub enum NetMacaddrIpTask {
        /// Drop the lease of this MAC and address.
        RemoveDhcpLease = 1 => "remove_dhcp_lease",
    }
}

/// Removes the DHCP lease of `mac_address` / `ip` on a network, on the network node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, ClusterOperation)]
#[serde(deny_unknown_fields)]
#[operation(name = "net_macaddr_ip_op", version = 1, tasks = NetMacaddrIpTask, queue = network_node)]
pub struct NetMacaddrIpOp {
    /// The network.
    #[target]
    pub network_uuid: NetworkId,
    /// The leased MAC address.
    #[context]
    pub mac_address: MacAddress,
    /// The leased address.
    #[context]
    #[schemars(schema_with = "crate::types::ip_address")]
    pub ip: IpAddr,
}

//! The network gate and the network maintainer: the half of the plan that reads the targets table to
//! leave alone any network an op is still working on.
//!
//! - [`Host`] is what the gate reads of the machine: [`LinuxHost`] (`/sys/class/net`, `/proc`) or
//!   [`SimulatedHost`].
//! - [`Network::is_okay`](crate::Network::is_okay) / [`Network::health`](crate::Network::health) is the
//!   gate, in the plan's order: an op in flight (history-aware, failing closed), then the bridge, then
//!   dnsmasq on the network node.
//! - [`Maintainer`] runs the pass of DOMAIN.md §6 over a node's networks and repairs the broken ones through
//!   [`Repairs`], which the crate declaring the repair ops implements.

mod gate;
mod host;
mod maintainer;
mod pass_record;

pub use gate::Health;
pub use host::{Host, LinuxHost, SimulatedHost};
pub use maintainer::{
    MaintainError, Maintainer, MaintainerOptions, PassReport, RECREATE_ON_HYPERVISOR,
    RECREATE_ON_NETWORK_NODE, RECREATE_REQUEST_ID, Repaired, Repairs, Role,
};
pub use pass_record::{Listed, MAINTENANCE_PASS, MAX_LISTED, PassRecord};

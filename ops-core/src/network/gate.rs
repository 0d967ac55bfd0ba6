//! `Network::is_okay`: the network gate, in the plan's order.
//!
//! 1. Any op in flight that targets the network → okay: the op owns the network, and a maintainer must not
//!    race it. This is [`Store::is_pending_or_unknown`], history-aware (every target row, not the latest
//!    one) and failing closed (a database error means "pending").
//! 2. Else the bridge `br-vxlan-{vxid:06x}` must exist and be up.
//! 3. Else, on the network node, dnsmasq must run when the network serves DHCP or DNS.

use std::fmt;

use super::Host;
use crate::{Network, Store};

/// What the gate found for a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// An op in flight targets it, or the store could not say: leave it alone.
    Busy,
    /// Its bridge (and dnsmasq, where it needs one) is there.
    Okay,
    /// Its bridge is missing or down.
    BridgeDown {
        /// The bridge's name.
        bridge: String,
    },
    /// It serves DHCP or DNS, and its dnsmasq is not running on the network node.
    DnsmasqNotRunning,
    /// The host could not be read (or the network has no VXLAN id to check): leave it alone.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Health {
    /// `false` only when the network is known to be broken and no op is working on it: the one case a
    /// maintainer repairs.
    pub fn is_okay(&self) -> bool {
        !matches!(self, Health::BridgeDown { .. } | Health::DnsmasqNotRunning)
    }
}

impl fmt::Display for Health {
    /// The status Shaken Fist records for the verdict.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Health::Busy => f.write_str("network has an operation in flight"),
            Health::Okay => f.write_str("network ok"),
            Health::BridgeDown { bridge } => {
                write!(f, "network not ok, is not created: {bridge} is not up")
            }
            Health::DnsmasqNotRunning => f.write_str("network not ok, dnsmasq not running"),
            Health::Unknown { reason } => write!(f, "network not checked: {reason}"),
        }
    }
}

impl Network {
    /// The gate's verdict on this network: [`Health::Busy`] when any op in flight targets it (or the
    /// store cannot say), else what `host` shows.
    pub async fn health(&self, store: &Store, host: &dyn Host) -> Health {
        if store.is_pending_or_unknown(self.id).await {
            return Health::Busy;
        }
        self.host_health(host)
    }

    /// [`Network::health`] as Shaken Fist's `is_okay()`: `false` only when the network is broken and no op
    /// is working on it.
    pub async fn is_okay(&self, store: &Store, host: &dyn Host) -> bool {
        self.health(store, host).await.is_okay()
    }

    /// The gate's checks after the pending one: the bridge, then dnsmasq on the network node. For callers
    /// that asked the store about many networks at once ([`Store::filter_pending`]).
    pub fn host_health(&self, host: &dyn Host) -> Health {
        let Some(bridge) = self.bridge() else {
            return Health::Unknown {
                reason: "it has no VXLAN id".to_owned(),
            };
        };
        match host.interface_up(&bridge) {
            Ok(true) => {}
            Ok(false) => return Health::BridgeDown { bridge },
            Err(error) => {
                return Health::Unknown {
                    reason: format!("cannot read bridge {bridge}: {error}"),
                };
            }
        }
        if !host.is_network_node() || !self.needs_dnsmasq() {
            return Health::Okay;
        }
        match host.dnsmasq_running(self.id) {
            Ok(true) => Health::Okay,
            Ok(false) => Health::DnsmasqNotRunning,
            Err(error) => Health::Unknown {
                reason: format!("cannot read the process table: {error}"),
            },
        }
    }
}

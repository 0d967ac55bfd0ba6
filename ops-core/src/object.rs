//! The objects ops work on, as the store registers them: a registry row (name, namespace, and what a type
//! needs: a network's VXLAN id, an instance's node, an interface's instance and network) and a state row.
//!
//! This is the slice of Shaken Fist's object model that the network gate, the maintainer and the external
//! views read; the objects' own life (creating a bridge, booting an instance) is not this project's job.

use serde::Serialize;

use crate::{
    ArtifactId, BlobId, InstanceId, InterfaceId, NetworkId, NodeId, ObjectRef, ObjectState,
    ObjectType,
};

/// The namespace that owns the cluster's own objects (nodes, and what an administrator makes).
pub const SYSTEM_NAMESPACE: &str = "system";

/// What a registry row holds beyond name and namespace, by object type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ObjectDetails {
    /// A virtual machine.
    Instance {
        /// The hypervisor it is placed on, once it is.
        node: Option<NodeId>,
    },
    /// A virtual network.
    Network {
        /// Its VXLAN id: the bridge is `br-vxlan-{vxid:06x}`. `None` for a network registered before the
        /// store knew it; such a network is not checked.
        vxid: Option<u32>,
        /// dnsmasq serves DHCP for it on the network node.
        provide_dhcp: bool,
        /// dnsmasq serves DNS for it on the network node.
        provide_dns: bool,
    },
    /// An instance's interface on a network.
    Interface {
        /// The instance it belongs to.
        instance: Option<InstanceId>,
        /// The network it joins.
        network: Option<NetworkId>,
    },
    /// Artifacts, blobs and nodes: nothing more.
    None,
}

/// An object to register with [`Store::create_object`](crate::Store::create_object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewObject {
    /// Its type and id.
    pub object: ObjectRef,
    /// Its name (for an interface, its device name).
    pub name: String,
    /// The namespace that owns it.
    pub namespace: String,
    /// What its type needs; must match `object`'s type.
    pub details: ObjectDetails,
}

impl NewObject {
    /// A network with VXLAN id `vxid`, serving neither DHCP nor DNS until told ([`NewObject::dhcp`]).
    pub fn network(
        id: NetworkId,
        name: impl Into<String>,
        namespace: impl Into<String>,
        vxid: u32,
    ) -> Self {
        NewObject::plain(id.into(), name, namespace).with(ObjectDetails::Network {
            vxid: Some(vxid),
            provide_dhcp: false,
            provide_dns: false,
        })
    }

    /// An instance, placed on `node` when given.
    pub fn instance(
        id: InstanceId,
        name: impl Into<String>,
        namespace: impl Into<String>,
        node: Option<NodeId>,
    ) -> Self {
        NewObject::plain(id.into(), name, namespace).with(ObjectDetails::Instance { node })
    }

    /// An interface of `instance` on `network`, in the instance's namespace.
    pub fn interface(
        id: InterfaceId,
        name: impl Into<String>,
        namespace: impl Into<String>,
        instance: InstanceId,
        network: NetworkId,
    ) -> Self {
        NewObject::plain(id.into(), name, namespace).with(ObjectDetails::Interface {
            instance: Some(instance),
            network: Some(network),
        })
    }

    /// An artifact.
    pub fn artifact(id: ArtifactId, name: impl Into<String>, namespace: impl Into<String>) -> Self {
        NewObject::plain(id.into(), name, namespace)
    }

    /// A blob.
    pub fn blob(id: BlobId, name: impl Into<String>, namespace: impl Into<String>) -> Self {
        NewObject::plain(id.into(), name, namespace)
    }

    /// A hypervisor or the network node, in the system namespace.
    pub fn node(id: NodeId, name: impl Into<String>) -> Self {
        let object = ObjectRef {
            object_type: ObjectType::Node,
            uuid: id.into(),
        };
        NewObject::plain(object, name, SYSTEM_NAMESPACE)
    }

    /// A network that serves DHCP (or not) on the network node.
    #[must_use]
    pub fn dhcp(mut self, provide: bool) -> Self {
        if let ObjectDetails::Network { provide_dhcp, .. } = &mut self.details {
            *provide_dhcp = provide;
        }
        self
    }

    /// A network that serves DNS (or not) on the network node.
    #[must_use]
    pub fn dns(mut self, provide: bool) -> Self {
        if let ObjectDetails::Network { provide_dns, .. } = &mut self.details {
            *provide_dns = provide;
        }
        self
    }

    fn plain(object: ObjectRef, name: impl Into<String>, namespace: impl Into<String>) -> Self {
        NewObject {
            object,
            name: name.into(),
            namespace: namespace.into(),
            details: ObjectDetails::None,
        }
    }

    fn with(mut self, details: ObjectDetails) -> Self {
        self.details = details;
        self
    }
}

/// An object as the store has it: registry row and state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectRecord {
    /// Its type and id.
    pub object: ObjectRef,
    /// Its name.
    pub name: String,
    /// The namespace that owns it.
    pub namespace: String,
    /// When it was registered (unix seconds).
    pub created_at: f64,
    /// Its state; `None` when it has no state row.
    pub state: Option<ObjectState>,
    /// When its state last changed (unix seconds).
    pub state_updated: Option<f64>,
    /// The message of its state (an error's reason).
    pub state_message: Option<String>,
    /// What its type adds.
    pub details: ObjectDetails,
}

/// A network, as the gate and the maintainer see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Its id.
    pub id: NetworkId,
    /// Its name.
    pub name: String,
    /// The namespace that owns it.
    pub namespace: String,
    /// Its VXLAN id; `None` for a network the store knows no id of.
    pub vxid: Option<u32>,
    /// dnsmasq serves DHCP for it on the network node.
    pub provide_dhcp: bool,
    /// dnsmasq serves DNS for it on the network node.
    pub provide_dns: bool,
    /// Its state; `None` when it has no state row.
    pub state: Option<ObjectState>,
    /// When its state last changed (unix seconds).
    pub state_updated: Option<f64>,
}

impl Network {
    /// The network's Linux bridge, `br-vxlan-{vxid:06x}`, as Shaken Fist names it.
    pub fn bridge(&self) -> Option<String> {
        self.vxid.map(|vxid| format!("br-vxlan-{vxid:06x}"))
    }

    /// Whether dnsmasq must run for this network on the network node.
    pub fn needs_dnsmasq(&self) -> bool {
        self.provide_dhcp || self.provide_dns
    }

    /// The network of a record; `None` when the record is not a network's.
    pub fn from_record(record: ObjectRecord) -> Option<Network> {
        let ObjectDetails::Network {
            vxid,
            provide_dhcp,
            provide_dns,
        } = record.details
        else {
            return None;
        };
        if record.object.object_type != ObjectType::Network {
            return None;
        }
        Some(Network {
            id: NetworkId::from(record.object.uuid),
            name: record.name,
            namespace: record.namespace,
            vxid,
            provide_dhcp,
            provide_dns,
            state: record.state,
            state_updated: record.state_updated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_networks_bridge_is_named_by_its_vxid_in_six_hex_digits() {
        let id = NetworkId::new_v4();
        let record = ObjectRecord {
            object: id.into(),
            name: "net".to_owned(),
            namespace: "ns".to_owned(),
            created_at: 1.0,
            state: Some(ObjectState::Created),
            state_updated: Some(1.0),
            state_message: None,
            details: NewObject::network(id, "net", "ns", 0x2a).dhcp(true).details,
        };
        let network = Network::from_record(record).unwrap();
        assert_eq!(network.bridge().as_deref(), Some("br-vxlan-00002a"));
        assert!(network.needs_dnsmasq());
    }
}

//! [`ObjectType`]: every kind of object Shaken Fist knows, with its wire and database string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares [`ObjectType`] from one table, so the string, proto id and list can never disagree.
macro_rules! object_types {
    ($($(#[$doc:meta])* $variant:ident = $value:literal, $proto:literal;)*) => {
        /// The kind of an object, as Shaken Fist's `ObjectType` enum names it.
        ///
        /// The string form (`instance`, `net_op`, ...) is used on the wire and in every database column;
        /// there is no second "name" encoding.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ObjectType {
            $($(#[$doc])* #[serde(rename = $value)] $variant,)*
        }

        impl ObjectType {
            /// Every object type, in proto-id order.
            pub const ALL: &'static [ObjectType] = &[$(ObjectType::$variant),*];

            /// The string stored in the database and sent on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(ObjectType::$variant => $value,)* }
            }

            /// The stable protobuf id; 0 (unspecified) has no type.
            pub const fn proto_id(self) -> u32 {
                match self { $(ObjectType::$variant => $proto,)* }
            }

            /// The type with this protobuf id; `None` for 0 (unspecified) and unknown ids.
            pub fn from_proto_id(id: u32) -> Option<ObjectType> {
                match id { $($proto => Some(ObjectType::$variant),)* _ => None }
            }
        }

        impl FromStr for ObjectType {
            type Err = UnknownObjectType;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($value => Ok(ObjectType::$variant),)*
                    _ => Err(UnknownObjectType(s.to_owned())),
                }
            }
        }
    };
}

object_types! {
    /// An agent operation: a job run by the in-guest agent.
    AgentOperation = "agentoperation", 1;
    /// A stored image or snapshot.
    Artifact = "artifact", 2;
    /// Content-addressed bytes behind an artifact.
    Blob = "blob", 3;
    /// A DHCP server of a network.
    Dhcp = "dhcp", 4;
    /// A virtual machine.
    Instance = "instance", 5;
    /// A network interface of an instance (`interface`, not `networkinterface`).
    Interface = "interface", 6;
    /// Address management of a network.
    Ipam = "ipam", 7;
    /// A tenant namespace.
    Namespace = "namespace", 8;
    /// A virtual network.
    Network = "network", 9;
    /// A hypervisor or the network node.
    Node = "node", 10;
    /// An upload in progress.
    Upload = "upload", 11;
    /// Operation: fetch an artifact.
    ArtifactFetchOp = "artifact_fetch_op", 12;
    /// Operation: transcode into the image cache.
    ImgcacheOp = "imgcache_op", 13;
    /// Operation: float an interface.
    NetIfaceOp = "net_iface_op", 14;
    /// Operation: defloat an interface's address.
    NetIfaceIpOp = "net_iface_ip_op", 15;
    /// Operation: route or unroute an address.
    NetIpOp = "net_ip_op", 16;
    /// Operation: remove a DHCP lease.
    NetMacaddrIpOp = "net_macaddr_ip_op", 17;
    /// Operation: network-wide work on the network node.
    NetOp = "net_op", 18;
    /// Operation: preflight an agent operation on a node.
    NodeAopOp = "node_aop_op", 19;
    /// Operation: verify or fetch a blob on a node.
    NodeBlobOp = "node_blob_op", 20;
    /// Operation: plug an interface into an instance.
    NodeInstNetIfaceOp = "node_inst_net_iface_op", 21;
    /// Operation: preflight or start an instance with its network description.
    NodeInstNetdescOp = "node_inst_netdesc_op", 22;
    /// Operation: per-instance work on its node.
    NodeInstOp = "node_inst_op", 23;
    /// Operation: snapshot an instance.
    NodeInstSnapOp = "node_inst_snap_op", 24;
    /// Operation: per-network work on a hypervisor.
    NodeNetOp = "node_net_op", 25;
    /// Meta: API requests.
    ApiRequests = "api-requests", 26;
    /// Placeholder: an unknown object.
    Unknown = "unknown", 27;
    /// Placeholder: an unknown managed executable.
    UnknownManagedExecutable = "unknown_managed_executable", 28;
    /// Authentication: a namespace key.
    NamespaceKey = "namespace_key", 29;
    /// Authentication: a trusted token issuer.
    TrustedIssuer = "trusted_issuer", 30;
    /// Authentication: a claim mapping rule.
    MappingRule = "mapping_rule", 31;
    /// Scheduler: a namespace's resource claim.
    NamespaceClaim = "namespace_claim", 32;
}

impl ObjectType {
    /// The object types a cluster operation may target: those with a typed id implementing
    /// [`Target`](crate::Target). Nodes are execution context, never targets (the plan's decision 5).
    pub const TARGETS: &'static [ObjectType] = &[
        ObjectType::Instance,
        ObjectType::Network,
        ObjectType::Artifact,
        ObjectType::Blob,
        ObjectType::Interface,
        ObjectType::AgentOperation,
    ];

    /// Whether this is one of the 14 cluster-operation types (`VALID_CLUSTER_OPERATIONS`).
    pub const fn is_cluster_operation(self) -> bool {
        self.proto_id() >= 12 && self.proto_id() <= 25
    }

    /// The names of [`ObjectType::TARGETS`], comma-separated: the "expected one of" of error messages.
    pub fn target_names() -> String {
        Self::TARGETS
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a cluster operation may target objects of this type.
    pub fn is_target(self) -> bool {
        Self::TARGETS.contains(&self)
    }

    /// Whether external views of this type carry `last_cluster_operation` (instance, network, artifact).
    pub const fn has_last_cluster_operation(self) -> bool {
        matches!(
            self,
            ObjectType::Instance | ObjectType::Network | ObjectType::Artifact
        )
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`ObjectType`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown object type `{0}`")]
pub struct UnknownObjectType(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_for_every_type() {
        for &ty in ObjectType::ALL {
            assert_eq!(ty.as_str().parse::<ObjectType>(), Ok(ty));
            let json = serde_json::to_string(&ty).unwrap();
            assert_eq!(json, format!("\"{}\"", ty.as_str()));
            assert_eq!(serde_json::from_str::<ObjectType>(&json).unwrap(), ty);
        }
    }

    #[test]
    fn proto_ids_are_stable_and_dense() {
        for (index, &ty) in ObjectType::ALL.iter().enumerate() {
            assert_eq!(ty.proto_id() as usize, index + 1);
            assert_eq!(ObjectType::from_proto_id(ty.proto_id()), Some(ty));
        }
        assert_eq!(ObjectType::from_proto_id(0), None);
        assert_eq!(ObjectType::from_proto_id(33), None);
        assert_eq!(ObjectType::Interface.as_str(), "interface");
        assert_eq!(ObjectType::NetOp.proto_id(), 18);
    }

    #[test]
    fn exactly_fourteen_cluster_operations() {
        let ops: Vec<_> = ObjectType::ALL
            .iter()
            .filter(|t| t.is_cluster_operation())
            .collect();
        assert_eq!(ops.len(), 14);
        assert!(ops.iter().all(|t| t.as_str().ends_with("_op")));
    }

    #[test]
    fn node_is_not_a_target_type() {
        assert!(!ObjectType::Node.is_target());
        assert!(ObjectType::Network.is_target());
        assert!(!ObjectType::NetOp.is_target());
    }

    #[test]
    fn unknown_strings_are_errors() {
        let err = "networkinterface".parse::<ObjectType>().unwrap_err();
        assert_eq!(err.to_string(), "unknown object type `networkinterface`");
        assert!(serde_json::from_str::<ObjectType>("\"Instance\"").is_err());
    }
}
